"""The simulator's `run_code` policies (`[[sim: agent=code-loop]]`, `clean-plot`), driven over
HTTP by the client loop of `test_simulator_agent`, their results shaped as `%%kimi --agent`
shapes them; clean-plot's code really runs, on messy DataFrames."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from test_simulator_agent import UNTRUSTED, described, drive, function, image_part

from kimi_jupyter.simulator import Simulator
from kimi_jupyter.simulator.code_agents import BIGGER_SQUARES, SQUARES, mentioned
from kimi_jupyter.simulator.transcript import run_error

from helpers import png

KEY = "sk-sim-code-agent"
TOOLS = [function("run_code", code={"type": "string"})]
SKIPPED = "skipped: the user did not approve running that code; nothing ran."
TRACE = "Traceback (most recent call last)\nCell In[1], line 1\n----> 1 plt.figure()"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def done(text: str, *images: bytes) -> list[dict[str, Any]]:
    """A run's tool message as `%%kimi --agent` sends it: status, notice, outputs, images."""
    head = {"type": "text", "text": f"done: your code ran.\n{UNTRUSTED}\n{text}"}
    return [head, *(image_part(image) for image in images)]


def failed(ename: str, evalue: str) -> list[dict[str, Any]]:
    error = f"{ename}: {evalue}"
    text = f"failed: your code raised {error}.\n{UNTRUSTED}\n[error] {error}\n{TRACE}\n{error}"
    return [{"type": "text", "text": text}]


def squares(code: str) -> list[dict[str, Any]]:
    """The plot of squares: bigger labels give a bigger figure."""
    image = png(600, 400) if "bigger labels" in code.splitlines()[0] else png(400, 300)
    return done("[Out[1]]\n<Figure size 400x300 with 1 Axes>", image)


# --- code-loop -------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_code_loop_runs_looks_runs_bigger_and_names_both_runs_images(
    client: httpx.Client, stream: bool
) -> None:
    loop = drive(
        client, "Plot squares [[sim: agent=code-loop]]", lambda _, a: squares(a["code"]),
        tools=TOOLS, stream=stream,
    )  # fmt: skip
    assert loop.calls == [("run_code", {"code": SQUARES}), ("run_code", {"code": BIGGER_SQUARES})]
    small, big = described(png(400, 300), 400, 300), described(png(600, 400), 600, 400)
    look = loop.step_with("run_code", 1)
    assert f"Run 1 returned 1 image part ({small}). Looking at it" in look["reasoning_content"]
    assert look["content"].startswith(f"[Kimi simulator] Run 1 returned 1 image part ({small}).")
    assert loop.answer == (
        "[Kimi simulator] Done: I plotted the squares, looked at the picture, enlarged its "
        f"labels and ran it again.\nRun 1: 1 image part ({small}).\nRun 2: 1 image part ({big})."
    )


def test_code_loop_rewrites_a_failed_run_once_then_goes_on(client: httpx.Client) -> None:
    results = iter([failed("NameError", "name 'plt' is not defined")])

    def reply(_: str, args: dict[str, Any]) -> Any:
        return next(results, None) or squares(args["code"])

    loop = drive(client, "[[sim: agent=code-loop]]", reply, tools=TOOLS)
    codes = [args["code"] for _, args in loop.calls]
    rewritten = SQUARES.replace(
        "# Squares, small labels\n", "# Squares, small labels, rewritten after NameError\n"
    )
    assert codes == [SQUARES, rewritten, BIGGER_SQUARES]
    assert "It raised NameError; I rewrite" in loop.step_with("run_code", 1)["reasoning_content"]
    assert "Run 1: 0 image parts.\nRun 2: 1 image part" in loop.answer  # the failed run too
    assert "Run 3: 1 image part" in loop.answer


def test_code_loop_stops_after_a_second_error_in_a_row(client: httpx.Client) -> None:
    loop = drive(
        client, "[[sim: agent=code-loop]]", lambda *_: failed("ModuleNotFoundError", "x"),
        tools=TOOLS,
    )  # fmt: skip
    assert len(loop.calls) == 2
    assert loop.answer.startswith(
        "[Kimi simulator] I stopped: my code raised ModuleNotFoundError twice in a row, so I ran "
        "nothing else."
    )


@pytest.mark.parametrize(
    "refusal",
    [
        SKIPPED,
        "error: the user chose not to run this call",
        "stopped: the user stopped the agent (interrupted). Do not continue.\n"
        f"{UNTRUSTED}\n[error] KeyboardInterrupt: \nTraceback (most recent call last)",
    ],
)
@pytest.mark.parametrize("at", [1, 2])
def test_code_loop_stops_at_a_skipped_run_and_runs_nothing_else(
    client: httpx.Client, refusal: str, at: int
) -> None:
    count = 0

    def reply(_: str, args: dict[str, Any]) -> Any:
        nonlocal count
        count += 1
        return refusal if count == at else squares(args["code"])

    loop = drive(client, "[[sim: agent=code-loop]]", reply, tools=TOOLS)
    assert len(loop.calls) == at
    label = "Squares, small labels" if at == 1 else "Squares, bigger labels"
    why = refusal.splitlines()[0].rstrip(".")
    assert loop.answer.startswith(
        f"[Kimi simulator] I stopped: run_code ({label}) did not happen ({why})."
    )
    assert ("Run 1: 1 image part" in loop.answer) == (at == 2)


def test_code_loop_reads_an_edited_runs_echoed_code_as_code_not_an_error(
    client: httpx.Client,
) -> None:
    edited = "done: your code ran. The user edited your code before approving it; this code "
    code = 'if False:\n    raise ValueError("no")\nValueError = None'

    def reply(_: str, args: dict[str, Any]) -> Any:
        text = f"{edited}was run:\n{code}\n{UNTRUSTED}\n[stdout]\nok"
        return [{"type": "text", "text": text}, image_part(png(5, 5))]

    loop = drive(client, "[[sim: agent=code-loop]]", reply, tools=TOOLS)
    assert len(loop.calls) == 2
    assert loop.answer.startswith("[Kimi simulator] Done: I plotted the squares")


def test_code_loop_respects_the_cap_and_the_declared_tools(client: httpx.Client) -> None:
    reply = lambda _, a: squares(a["code"])  # noqa: E731
    capped = drive(client, "[[sim: agent=code-loop agent_cap=1]]", reply, tools=TOOLS)
    assert len(capped.calls) == 1
    assert "I stopped after 1 tool calls (my step cap is 1) before finishing." in capped.answer
    assert "Tool calls made: run_code.\nRun 1: 1 image part" in capped.answer
    other = [function("run_cell", cell_id={"type": "string"})]
    missing = drive(client, "[[sim: agent=code-loop]]", reply, tools=other)
    assert missing.calls == []
    assert missing.answer == (
        "[Kimi simulator] I would call run_code next, but no such tool was declared. "
        "I made no tool calls."
    )


# --- clean-plot ------------------------------------------------------------------------


def messy_sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": ["2024-01-05", "2024-01-05", "2024/01/06", " 2024-01-07", "2024-01-08",
                     "2024-01-08", "not a date", "2024-01-09"],
            "region": ["North", "North", "south ", " North", "SOUTH", "south", "North", "East"],
            "units": ["12", "12", " 7", "15", "n/a", "9", "4", "1,100"],
            "price": [3.5, 3.5, 4.0, 3.5, 4.0, None, 3.5, 5.0],
        }
    )  # fmt: skip


@dataclass
class Kernel:
    """Runs `run_code` for real: a namespace, stdout captured, `plt.show()` as PNGs."""

    namespace: dict[str, Any]
    shown: list[bytes] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    def __call__(self, _: str, args: dict[str, Any]) -> Any:
        self.ran.append(args["code"])
        images: list[bytes] = []
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), pytest.MonkeyPatch.context() as patch:
                patch.setattr(plt, "show", lambda: images.extend(self.rendered()))
                exec(args["code"], self.namespace)
        except Exception as exc:  # the user's code: an error output, as a cell
            return failed(type(exc).__name__, str(exc))
        self.shown.extend(images)
        return done(f"[stdout]\n{out.getvalue()}", *images)

    @staticmethod
    def rendered() -> list[bytes]:
        pictures = []
        for number in plt.get_fignums():
            buffer = io.BytesIO()
            plt.figure(number).savefig(buffer, format="png", dpi=100)
            plt.close(number)
            pictures.append(buffer.getvalue())
        return pictures


def test_clean_plot_inspects_cleans_charts_looks_and_charts_again(client: httpx.Client) -> None:
    kernel = Kernel({"sales": messy_sales()})
    loop = drive(client, "Clean @sales and plot it [[sim: agent=clean-plot]]", kernel, tools=TOOLS)
    assert loop.names() == ["run_code"] * 4
    firsts = [code.splitlines()[0] for code in kernel.ran]
    assert firsts == [
        "# Look at sales: size, columns and types, missing values, first rows",
        "# Clean sales into sales_clean: trim text, parse numbers and dates, drop duplicates, gaps",
        "# Chart sales_clean: its first numeric column, summed per date (or by row)",
        "# Chart sales_clean again: bigger fonts, readable dates",
    ]
    clean = kernel.namespace["sales_clean"]
    assert clean.to_dict("list") == {
        "date": list(pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-09"])),
        "region": ["North", "south", "North", "East"],
        "units": [12, 7, 15, 1100],
        "price": [3.5, 4.0, 3.5, 5.0],
    }
    assert sorted(k for k in kernel.namespace if not k.startswith("__")) == [
        "pd", "plt", "sales", "sales_clean",
    ]  # fmt: skip
    first, second = (
        described(image, w, h) for image, (w, h) in zip(kernel.shown, SIZES, strict=True)
    )
    look = loop.step_with("run_code", 3)
    assert f"The chart came back as 1 image part ({first})." in look["reasoning_content"]
    assert "sales has 8 rows" in loop.step_with("run_code", 1)["reasoning_content"]
    said = [loop.step_with("run_code", n)["content"] for n in range(4)]
    assert said == [
        "[Kimi simulator] First I look at sales: its columns, types and missing values.",
        "[Kimi simulator] sales has 8 rows; now I clean it.",
        "[Kimi simulator] sales_clean is made: 8 rows before, 4 after (4 dropped: 1 duplicate, "
        "3 with a missing or unreadable value). Now I chart it.",
        f"[Kimi simulator] The chart came back as 1 image part ({first}). I make the fonts "
        "bigger and the dates readable.",
    ]
    assert loop.answer == (
        "[Kimi simulator] Done: I cleaned sales into sales_clean and charted it.\n"
        "8 rows before, 4 after (4 dropped: 1 duplicate, 3 with a missing or unreadable value)."
        f"\nChart 1: 1 image part ({first}).\nChart 2: 1 image part ({second})."
    )


SIZES = [(600, 350), (700, 400)]


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"city": [" Paris", "Lyon", "Lyon "], "people": ["2,100", "520", "520"]}),
        pd.DataFrame({"score": [1.5, 2.5, None, 2.5], "day": ["mon", "tue", "wed", "tue"]}),
        pd.DataFrame({"when_date": ["2024-03-01", "2024-03-01"], "n": [1, 2], "m": [3, 4]}),
    ],
    ids=["numbers-as-text", "no-date", "two-rows-one-date"],
)
def test_clean_plot_code_works_on_other_small_frames(client: httpx.Client, frame: Any) -> None:
    kernel = Kernel({"df": frame})
    loop = drive(
        client, "tidy up @df, then chart it [[sim: agent=clean-plot]]", kernel, tools=TOOLS
    )
    assert len(kernel.ran) == 4
    assert len(kernel.shown) == 2
    assert loop.answer.startswith("[Kimi simulator] Done: I cleaned df into df_clean")
    assert kernel.namespace["df_clean"].select_dtypes("number").shape[1] >= 1


def test_clean_plot_explains_an_error_and_stops(client: httpx.Client) -> None:
    kernel = Kernel({"words": pd.DataFrame({"word": ["a", "b", "b"]})})
    loop = drive(client, "[[sim: agent=clean-plot]] clean @words and plot it", kernel, tools=TOOLS)
    assert len(kernel.ran) == 3  # inspect, clean, then the chart finds no number
    assert loop.answer == (
        "[Kimi simulator] I stopped: my step 3 (Chart words_clean: its first numeric column, "
        "summed per date (or by row)) raised ValueError: words_clean has no numeric column to "
        "chart, so I ran nothing else. words_clean is made: 3 rows before, 2 after (1 dropped: "
        "1 duplicate). Fix the data or tell me more, and ask again."
    )
    missing = Kernel({})
    loop = drive(client, "clean @nothing [[sim: agent=clean-plot]]", missing, tools=TOOLS)
    assert len(missing.ran) == 1
    assert "my step 1 (Look at nothing: size, columns and types" in loop.answer
    assert "raised NameError" in loop.answer


@pytest.mark.parametrize("at", [1, 3, 4])
def test_clean_plot_stops_at_a_skipped_step(client: httpx.Client, at: int) -> None:
    kernel = Kernel({"sales": messy_sales()})

    def reply(name: str, args: dict[str, Any]) -> Any:
        return SKIPPED if len(kernel.ran) == at - 1 else kernel(name, args)

    loop = drive(client, "clean @sales [[sim: agent=clean-plot]]", reply, tools=TOOLS)
    assert len(loop.calls) == at
    assert loop.answer.startswith("[Kimi simulator] I stopped: run_code (")
    assert f"did not happen ({SKIPPED.rstrip('.')})." in loop.answer


def test_clean_plot_asks_which_data_without_a_mention(client: httpx.Client) -> None:
    loop = drive(client, "clean this data and plot it [[sim: agent=clean-plot]]", Kernel({}))
    assert loop.calls == []
    assert loop.answer == (
        "[Kimi simulator] Which data should I clean and plot? Mention the DataFrame with @, "
        'e.g. "clean @sales and plot it".'
    )


def test_clean_plot_without_an_image_answers_instead_of_editing(client: httpx.Client) -> None:
    kernel = Kernel({"sales": messy_sales()})

    def reply(name: str, args: dict[str, Any]) -> Any:
        result = kernel(name, args)
        return [part for part in result if part["type"] == "text"]

    loop = drive(client, "clean @sales [[sim: agent=clean-plot]]", reply, tools=TOOLS)
    assert len(loop.calls) == 3
    assert loop.answer.endswith("\nThe chart came back as 0 image parts.")


def test_clean_plot_respects_the_cap_and_the_declared_tools(client: httpx.Client) -> None:
    kernel = Kernel({"sales": messy_sales()})
    loop = drive(client, "clean @sales [[sim: agent=clean-plot agent_cap=2]]", kernel, tools=TOOLS)
    assert len(loop.calls) == 2
    assert "I stopped after 2 tool calls (my step cap is 2)" in loop.answer
    loop = drive(client, "clean @sales [[sim: agent=clean-plot]]", kernel)  # notebook tools
    assert loop.calls == []
    assert "I would call run_code next, but no such tool was declared." in loop.answer


def test_json_results_are_understood(
    client: httpx.Client,
) -> None:
    """A client that answers in JSON (`{"status": "error", "ename": …}`) is understood."""
    results = iter([json.dumps({"status": "error", "ename": "KeyError", "evalue": "'x'"})])

    def reply(_: str, args: dict[str, Any]) -> Any:
        return next(results, None) or squares(args["code"])

    loop = drive(client, "[[sim: agent=code-loop]]", reply, tools=TOOLS)
    assert "rewritten after KeyError" in loop.calls[1][1]["code"]


# --- readers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (failed("NameError", "name 'x' is not defined")[0]["text"], "NameError"),
        ("Traceback (most recent call last):\n  File ...", "an error"),
        ("[stdout]\nrows before: 3\nKeyError: 'a'", "KeyError"),
        ('done: your code ran. this code was run:\n    raise ValueError("x")', None),
        ("[stdout]\nthe ValueError column is fine", None),
        ("[error] KeyboardInterrupt: ", None),
        ('{"ename": "ZeroDivisionError"}', "ZeroDivisionError"),
    ],
)
def test_run_errors_are_read_from_error_lines_only(text: str, name: str | None) -> None:
    assert run_error(text) == name


def test_the_frame_is_the_first_mention() -> None:
    assert mentioned("mail me@example.com, then clean @sales and @costs") == "sales"
    assert mentioned("clean it") is None
