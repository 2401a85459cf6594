"""The example notebooks in a real kernel against the simulator: what the simulator received.

Each notebook runs once (nbclient, cwd = a temporary copy's directory, so `%kimi save` writes
there); the tests then read `sim.requests`, the bodies that reached the endpoint.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from test_headless import CommCounter, check_headless

from kimi_jupyter.render.bundle import TURN_MIME
from kimi_jupyter.simulator import Simulator

EXAMPLES = Path(__file__).parents[1] / "example_notebooks"
KEY = "sk-example-notebooks-key"
FIGSIZE, DPI = (8, 4), 100  # as plots.ipynb draws `fig`
SNS_FIGSIZE = (6, 4)  # the seaborn figure, same dpi; inline shows it cropped (bbox "tight")


@dataclass
class Run:
    notebook: Any
    requests: list[dict[str, Any]]
    cwd: Path
    comms: list[str]  # the target names of the comms the kernel opened

    def cell(self, start: str) -> Any:
        """The code cell whose source is `start`, else the one that begins with it."""
        code = [c for c in self.notebook.cells if c.cell_type == "code"]
        (cell,) = [c for c in code if c.source == start] or [
            c for c in code if c.source.startswith(start)
        ]
        return cell

    def request(self, question: str) -> dict[str, Any]:
        """The one request whose new (last) user message begins with `question`."""
        (found,) = [r for r in self.requests if texts(r["messages"][-1])[0].startswith(question)]
        return found


def run_notebook(name: str, tmp: Path, **extra_env: str) -> Iterator[Run]:
    """Run `name` as nbclient or papermill would: the default view (`auto`, which must
    open no widget headless; see test_headless.py), counting the comms the kernel opens."""
    shutil.copy(EXAMPLES / name, tmp / name)
    notebook = nbformat.read(tmp / name, as_version=4)
    with Simulator(api_key=KEY) as sim, pytest.MonkeyPatch.context() as env:
        env.setenv("KIMI_BASE_URL", sim.base_url)
        env.setenv("KIMI_API_KEY", KEY)
        env.delenv("KIMI_VIEW", raising=False)
        env.delenv("JPY_SESSION_NAME", raising=False)
        for variable, value in extra_env.items():
            env.setenv(variable, value)
        client = CommCounter(notebook, timeout=60, kernel_name="python3")
        client.execute(cwd=str(tmp))
        nbformat.write(notebook, tmp / name)
        yield Run(notebook, list(sim.requests), tmp, client.opened)


@pytest.fixture(scope="module")
def plots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from run_notebook("plots.ipynb", tmp_path_factory.mktemp("plots"))


@pytest.fixture(scope="module")
def dataframes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from run_notebook("dataframes.ipynb", tmp_path_factory.mktemp("dataframes"))


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from run_notebook("sessions.ipynb", tmp_path_factory.mktemp("sessions"))


@pytest.fixture(scope="module")
def tools_and_batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    # The simulator plays Moonshot's $web_search; a real Anyfast/self-hosted URL is refused.
    tmp = tmp_path_factory.mktemp("tools")
    yield from run_notebook("tools_and_batch.ipynb", tmp, KIMI_ALLOW_WEB_SEARCH="1")


def parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def texts(message: dict[str, Any]) -> list[str]:
    return [p["text"] for p in parts(message) if p["type"] == "text"]


def png_sizes(message: dict[str, Any]) -> list[tuple[int, int]]:
    sizes = []
    for part in parts(message):
        if part["type"] == "image_url":
            header, _, data = part["image_url"]["url"].partition(",")
            assert header == "data:image/png;base64"
            png = base64.b64decode(data)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            assert png[12:16] == b"IHDR"
            sizes.append(struct.unpack(">II", png[16:24]))
    return sizes


def json_parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for text in texts(message):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def plain(cell: Any) -> str:
    return "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs
    )


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    yield from run_notebook("charts.ipynb", tmp_path_factory.mktemp("charts"))


@pytest.mark.parametrize("name", ["plots", "dataframes", "sessions", "tools_and_batch", "charts"])
def test_runs_clean_and_saves_no_key(name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(name)
    assert run.requests
    for cell in (c for c in run.notebook.cells if c.cell_type == "code"):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in cell.metadata.get("tags", []), cell.source
        assert "UsageError" not in plain(cell), cell.source
    saved = "".join(p.read_text() for p in run.cwd.glob("*.ipynb"))
    assert KEY not in saved
    assert "application/vnd.jupyter.widget-view+json" not in saved
    assert all(r["model"] == "kimi-k2.6" for r in run.requests)
    check_headless(run.notebook, run.comms)


def test_plots_fig_travels_as_a_png_of_its_size(plots: Run) -> None:
    assert f"figsize={FIGSIZE}, dpi={DPI}" in plots.cell("import matplotlib").source
    new = plots.request("Look at @fig.")["messages"][-1]
    assert png_sizes(new) == [(FIGSIZE[0] * DPI, FIGSIZE[1] * DPI)]
    assert "@fig: matplotlib Figure" in texts(new)


def test_plots_last_sends_the_closed_seaborn_figure(plots: Run) -> None:
    assert f"figsize={SNS_FIGSIZE}, dpi={DPI}" in plots.cell("import pandas").source
    new = plots.request("This is the A/B test result")["messages"][-1]
    ((width, height),) = png_sizes(new)
    assert SNS_FIGSIZE[0] * DPI / 2 < width <= SNS_FIGSIZE[0] * DPI
    assert SNS_FIGSIZE[1] * DPI / 2 < height <= SNS_FIGSIZE[1] * DPI
    assert any(t.startswith("@last:") and "sns.boxplot" in t for t in texts(new))


def test_plots_dry_run_sends_nothing_and_shows_both_images(plots: Run) -> None:
    assert len(plots.requests) == 2
    assert not [r for r in plots.requests if "Compare @fig with @last" in json.dumps(r)]
    (output,) = plots.cell("%%kimi --dry-run").outputs
    assert output.data["text/plain"].startswith("Dry run: nothing was sent.")
    assert f"image/png {FIGSIZE[0] * DPI}×{FIGSIZE[1] * DPI}" in output.data["text/plain"]
    assert output.data["text/html"].count("<img src='data:image/png;base64,") == 2


COLUMNS = ["order_time", "region", "product", "price", "quantity", "returned"]


def test_dataframes_df_is_one_json_summary(dataframes: Run) -> None:
    (summary,) = json_parts(dataframes.request("Here is my orders table")["messages"][-1])
    assert (summary["name"], summary["type"], summary["shape"]) == (
        "df",
        "pandas.DataFrame",
        [5000, 6],
    )
    columns = {c["name"]: c for c in summary["columns"]}
    assert list(columns) == COLUMNS
    assert columns["order_time"]["dtype"].startswith("datetime64")
    assert columns["price"]["nulls"] == 180
    assert columns["region"]["dtype"] == "category"
    assert summary["head"]["columns"] == COLUMNS


def test_dataframes_item_mention_sends_the_series(dataframes: Run) -> None:
    (summary,) = json_parts(dataframes.request("How is @df[")["messages"][-1])
    assert (summary["name"], summary["type"], summary["shape"]) == (
        'df["price"]',
        "pandas.Series",
        [5000, 1],
    )
    assert [(c["name"], c["nulls"]) for c in summary["columns"]] == [("price", 180)]


def test_dataframes_polars_frame(dataframes: Run) -> None:
    (summary,) = json_parts(dataframes.request("Daily revenue per region")["messages"][-1])
    assert (summary["name"], summary["type"]) == ("pl_df", "polars.DataFrame")
    rows, cols = summary["shape"]
    assert cols == 4
    assert 400 < rows <= 4 * 417  # 5,000 orders 2 h apart: 417 days, 4 regions
    assert [c["name"] for c in summary["columns"]] == ["day", "region", "revenue", "orders"]
    assert [c["dtype"] for c in summary["columns"]][:2] == ["Date", "String"]


def test_dataframes_dry_run_shows_the_json_and_sends_nothing(dataframes: Run) -> None:
    assert len(dataframes.requests) == 3
    assert not [r for r in dataframes.requests if "Which columns of" in json.dumps(r)]
    (output,) = dataframes.cell("%kimi --dry-run").outputs
    assert output.data["text/plain"].startswith("Dry run: nothing was sent.")
    shown = re.findall(r"<pre[^>]*>(.*?)</pre>", output.data["text/html"], re.DOTALL)
    summary = json.loads(html.unescape(shown[-1]))
    assert (summary["name"], summary["shape"]) == ("df", [5000, 6])


FIRST = "I have a table of 50,000 customer orders"
SECOND = "And how should I deal with the class imbalance"


def test_sessions_follow_ups_and_named_session(sessions: Run) -> None:
    follow_up = sessions.request(SECOND)["messages"]
    assert [m["role"] for m in follow_up] == ["user", "assistant", "user"]
    assert follow_up[0]["content"].startswith(FIRST)
    sql = sessions.request("Now make it work in SQLite")["messages"]
    assert [m["role"] for m in sql] == ["system", "user", "assistant", "user"]
    assert sql[0]["content"].startswith("You review SQL.")
    assert sql[1]["content"].startswith("Write a query for the monthly return rate")
    assert "Session 'default': 2 turn(s)" in plain(sessions.cell("%kimi history"))
    assert "default: 2 turn(s)\nsql: 2 turn(s)" in plain(sessions.cell("%kimi sessions"))
    assert "kernel total: " in plain(sessions.cell("%kimi usage"))


def test_sessions_context_survives_save_reset_load(sessions: Run) -> None:
    saved = nbformat.read(sessions.cwd / "conversation.ipynb", as_version=4)
    assert [c.source.splitlines()[0] for c in saved.cells] == ["%%kimi -s default"] * 2
    assert "cleared (2 turn(s) dropped)" in plain(sessions.cell("%kimi reset"))
    assert "Loaded 2 turn(s)" in plain(sessions.cell("%kimi load"))
    answers = [
        o.data[TURN_MIME]["answer"]
        for start in (f"%%kimi\n{FIRST}", f"%%kimi\n{SECOND}")
        for o in sessions.cell(start).outputs
    ]
    history = sessions.request("Summarise the advice")["messages"][:-1]
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    assert history[0]["content"].startswith(FIRST)
    assert history[2]["content"].startswith(SECOND)
    assert [history[1]["content"], history[3]["content"]] == answers


def test_sessions_fix_sends_the_code_and_traceback(sessions: Run) -> None:
    (error,) = sessions.cell("1/0").outputs
    assert error.ename == "ZeroDivisionError"
    sent = "\n".join(texts(sessions.request("This cell raised an error.")["messages"][-1]))
    assert "```python\n1/0\n```" in sent
    assert "Traceback (most recent call last)" in sent
    assert "ZeroDivisionError: division by zero" in sent


def test_sessions_json_cell_asks_for_a_json_object(sessions: Run) -> None:
    assert sessions.notebook.cells[-1].source.startswith("%%kimi --json")
    body = sessions.requests[-1]
    assert body["response_format"] == {"type": "json_object"}
    assert texts(body["messages"][-1])[0].startswith("List the three features")
    results = [o for o in sessions.notebook.cells[-1].outputs if o.output_type == "execute_result"]
    assert len(results) == 1
    assert len(sessions.requests) == 7


def _tool_messages(run: Run, question: str) -> list[dict[str, Any]]:
    """The tool results sent back after the model's calls for `question`."""

    def last_user(request: dict[str, Any]) -> int:
        roles = [m["role"] for m in request["messages"]]
        return len(roles) - 1 - roles[::-1].index("user")

    (found,) = [
        r
        for r in run.requests
        if r["messages"][-1]["role"] == "tool"
        and texts(r["messages"][last_user(r)])[0].startswith(question)
    ]
    return [m for m in found["messages"][last_user(found) :] if m["role"] == "tool"]


def test_tools_kernel_function_result_is_used_and_saved(tools_and_batch: Run) -> None:
    first = tools_and_batch.request("How many people live in Paris?")
    assert [t["function"]["name"] for t in first["tools"]] == ["city_population"]
    schema = first["tools"][0]["function"]
    assert schema["description"].startswith("The number of inhabitants of a French city")
    assert schema["parameters"]["properties"]["city"] == {
        "type": "string",
        "description": 'the city\'s name, e.g. "Lyon".',
    }
    (result,) = _tool_messages(tools_and_batch, "How many people live in Paris?")
    assert result["content"] == "2102650"
    cell = tools_and_batch.cell("%%kimi --tools city_population")
    (output,) = cell.outputs
    record = output["data"][TURN_MIME]
    assert [r["status"] for r in record["tool_results"]] == ["ok"]
    assert "Tool city_population returned: 2102650" in record["answer"]
    assert "city_population" in output["data"]["text/html"]
    listing = plain(tools_and_batch.cell("%kimi tools"))
    assert "city_population(city: string) — The number of inhabitants" in listing
    assert "cities_larger_than(min_people?: integer)" in listing


def test_tools_dataframe_result_goes_back_as_json(tools_and_batch: Run) -> None:
    (result,) = _tool_messages(tools_and_batch, "Which cities have more than half a million")
    content = json.loads(result["content"][result["content"].index("{") :])
    assert "Paris" in json.dumps(content)


def test_tools_confirm_is_skipped_when_nobody_can_answer(tools_and_batch: Run) -> None:
    (result,) = _tool_messages(tools_and_batch, "Remove Lyon from the table.")
    assert result["content"] == "error: the user chose not to run this call"
    assert plain(tools_and_batch.cell("len(cities)")) == "4"


def test_tools_web_search_is_echoed(tools_and_batch: Run) -> None:
    (result,) = _tool_messages(tools_and_batch, "What is the weather in Paris today?")
    assert result["name"] == "$web_search"
    assert json.loads(result["content"])["search_result"]["search_id"]
    out = plain(tools_and_batch.cell("from kimi_jupyter import Chat, KimiError"))
    assert "the $web_search round trip worked" in out


def test_batch_map_fills_the_column_and_a_rerun_skips_done_rows(tools_and_batch: Run) -> None:
    asked = [r for r in tools_and_batch.requests if "Is this review positive" in str(r)]
    assert len(asked) == 6  # once per row: the rerun sent nothing
    assert all(r["response_format"] == {"type": "json_object"} for r in asked)
    assert all(r["thinking"] == {"type": "disabled"} for r in asked)
    assert plain(tools_and_batch.cell("again = chat.map(")).endswith("(6, 0)")
    table = plain(tools_and_batch.cell("reviews"))
    assert "sentiment" in table
    assert "sentiment_error" not in table  # no row failed: no error column
    summaries = [r for r in tools_and_batch.requests if "Summarize this review of a" in str(r)]
    assert len(summaries) == 6
    assert "Summarize this review of a kettle in five words: Boils fast" in str(summaries)


# charts.ipynb: every chart library reaches the simulator as a PNG of the size it is drawn at.
CHART_SIZES = {
    "Which region grows faster in @pfig?": (640, 400),  # Plotly: layout width × height
    "And what does the chart in @last show": (640, 400),  # fig.show(): drawn again
    "Are there outliers in @gg?": (500, 300),  # plotnine: figure_size (5, 3) at dpi 100
    "What colours does @last use?": (1000, 600),  # as displayed: plotnine's retina PNG
    "What is the overall trend in @p?": (500, 300),  # Bokeh: the size on the page
    "Does @last have axis labels?": (500, 300),  # show(p) displayed JavaScript only
    "How do the two regions compare in @hv_plot?": (450, 300),  # hvPlot on Bokeh
    "Is there a legend in @last?": (450, 300),  # displayed as JavaScript: drawn from the object
    "Summarize @splot.": (500, 300),  # seaborn objects: layout size (5, 3) at dpi 100
}


def altair_size() -> tuple[int, int]:
    """The size vl-convert draws charts.ipynb's bar chart at, drawn here the same way."""
    import altair as alt
    import numpy as np
    import pandas as pd
    import vl_convert

    rng = np.random.default_rng(1)
    sales = pd.DataFrame({"day": np.arange(60),
                          "units": 100 + np.cumsum(rng.normal(1, 5, 60)).round(1),
                          "region": rng.choice(["north", "south"], 60)})  # fmt: skip
    chart = alt.Chart(sales).mark_bar().encode(x="region", y="mean(units)")
    png = vl_convert.vegalite_to_png(chart.properties(width=300, height=200).to_dict())
    return struct.unpack(">II", png[16:24])


def test_every_chart_library_arrives_as_a_png_of_its_size(charts: Run) -> None:
    expected = dict(CHART_SIZES)
    expected["Is the difference between the bars in @chart large?"] = altair_size()
    expected["Describe @last in one sentence."] = altair_size()
    for question, size in expected.items():
        assert png_sizes(charts.request(question)["messages"][-1]) == [size], question


def test_an_unchanged_chart_sends_identical_bytes(charts: Run) -> None:
    def images(question: str) -> list[str]:
        message = charts.request(question)["messages"][-1]
        return [p["image_url"]["url"] for p in parts(message) if p["type"] == "image_url"]

    first = images("Which region grows faster in @pfig?")
    again = images("One more look at @pfig: would a log scale help?")
    assert len(first) == 1
    assert again[-1] == first[0]


def test_the_dry_run_shows_both_charts_and_sends_nothing(charts: Run) -> None:
    cell = charts.cell("%%kimi --dry-run")
    shown = plain(cell)
    assert shown.count("image/png") == 2, shown
    assert not [r for r in charts.requests if texts(r["messages"][-1])[0].startswith("Compare")]


def test_agent_cleans_the_data_charts_it_and_lists_its_steps(tmp_path: Path) -> None:
    """agent.ipynb: `%%kimi --agent --auto` against the simulator's clean-plot policy, the
    code run in the notebook's kernel, its printed rows and its charts sent back as results."""
    (run,) = run_notebook("agent.ipynb", tmp_path)
    check_headless(run.notebook, run.comms)
    for cell in (c for c in run.notebook.cells if c.cell_type == "code"):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        assert "UsageError" not in plain(cell), cell.source
    assert KEY not in (tmp_path / "agent.ipynb").read_text()
    last = run.requests[-1]["messages"]  # the final request carries the whole turn
    assert texts(last[0])[0].startswith("Clean @sales and plot it.")
    assert [t["function"]["name"] for t in run.requests[-1]["tools"]] == ["run_code"]
    results = [m for m in last if m["role"] == "tool"]
    assert [m["name"] for m in results] == ["run_code"] * 4
    printed = "\n".join(text for m in results for text in texts(m))
    assert "rows before: 10\n" in printed
    assert "rows after: 7\n" in printed
    (first,), (second,) = (png_sizes(m) for m in results[2:])  # one chart each, cropped
    assert first[0] < second[0] <= 700  # the second is drawn 7 × 4 inches, the first 6 × 3.5
    answer = plain(run.cell("%%kimi --agent --auto"))
    assert "Done: I cleaned sales into sales_clean and charted it." in answer
    assert "10 rows before, 7 after (3 dropped: 1 duplicate, 2 with a missing" in answer
    history = plain(run.cell("%kimi history"))
    assert history.count("run_code") == 4, history
    described = plain(run.cell("sales_clean.describe()"))
    assert "count" in described
    assert "units" in described
    assert "price" in described
