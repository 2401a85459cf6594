"""`Chat.map` / `%kimi map` against the simulator on 127.0.0.1: rows, gate, stop, reruns."""

from __future__ import annotations

import _thread
import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import polars as pl
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from kimi_jupyter import Chat, batch
from kimi_jupyter.batch import MapReport, map_magic, run_map, to_batch_jsonl
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.errors import KimiError
from kimi_jupyter.render import progress
from kimi_jupyter.render.progress import MapProgress, TextProgress
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.simulator.directives import last_user_text

KEY = "sk-sim-batch"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


class Hook(httpx.BaseTransport):
    """The real transport, with a callback on each request (in the worker's thread)."""

    def __init__(self, on_request: Callable[[int], None]) -> None:
        self._inner = httpx.HTTPTransport()
        self._on_request = on_request
        self._lock = threading.Lock()
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.count += 1
            number = self.count
        self._on_request(number)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def new_chat(sim: Simulator, **settings: Any) -> Chat:
    return Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url, **settings)


def sent(sim: Simulator, marker: str) -> Counter[str]:
    """Requests the server received per row text containing `marker`."""
    texts = (last_user_text(body) for body in sim.requests)
    return Counter(text.split("\n\n")[0] for text in texts if marker in text)


def frame(*texts: str, index: list[Any] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"text": list(texts)}, index=index)


def accounted(report: MapReport, rows: int) -> bool:
    return report.done + report.failed + report.skipped + report.not_started == rows


def test_fills_the_column_in_place_one_single_turn_request_per_row(sim: Simulator) -> None:
    chat = new_chat(sim, thinking=False)
    df = frame("fill alpha", "fill beta", "fill gamma", index=["x", "y", "z"])
    report = chat.map("Say: {text}", df, concurrency=2, view="none")
    assert (report.done, report.failed, report.skipped, report.stopped) == (3, 0, 0, False)
    for text, answer in zip(df["text"], df["answer"], strict=True):
        assert f'"Say: {text}"' in answer
    assert "answer_error" not in df.columns  # no errors: no error column (issue 12)
    assert sent(sim, "Say: fill") == {f"Say: fill {w}": 1 for w in ("alpha", "beta", "gamma")}
    for body in sim.requests[-3:]:
        assert [m["role"] for m in body["messages"]] == ["user"]  # no history between rows
        assert body["thinking"] == {"type": "disabled"}  # the chat's defaults hold
    assert chat.turns == []  # nothing recorded in the user's sessions
    assert report.prompt_tokens > 0
    assert report.completion_tokens > 0
    assert report.cost > 0
    assert "at list prices" in report.summary()
    assert repr(report).startswith("<MapReport ")
    assert "\n" not in repr(report)


def test_concurrency_really_overlaps(sim: Simulator) -> None:
    # A barrier of 3 lets no request through until 3 are in flight at once: with fewer
    # overlapping workers it breaks, and the map fails. No clock is read.
    barrier = threading.Barrier(3, timeout=10)
    chat = new_chat(sim, transport=Hook(lambda _: barrier.wait()))
    df = frame(*(f"overlap {i}" for i in range(6)))
    report = chat.map("{text}", df, concurrency=3, view="none")
    assert report.done == 6
    assert not barrier.broken


def test_rate_limit_is_retried_and_holds_every_worker_at_the_shared_gate(sim: Simulator) -> None:
    # Row 0 is told "try again after 1 s" at once; rows 1 and 2 take 300 ms, so both their
    # workers come back for rows 3 and 4 while the gate is still closed, and must wait.
    slow = "[[sim: latency_ms=300]]"
    df = frame("gate 0 [[sim: fault=rate-limit times=1 after=1]]", f"gate 1 {slow}",
               f"gate 2 {slow}", "gate 3", "gate 4", "gate 5")  # fmt: skip
    report = new_chat(sim).map("{text}", df, concurrency=3, view="none")
    assert (report.done, report.failed) == (6, 0)
    assert report.retries == 1
    assert report.throttled_workers == 3  # the one told to retry, and both others
    assert report.gate_waits >= 2
    assert sent(sim, "gate 0")["gate 0 [[sim: fault=rate-limit times=1 after=1]]"] == 2


def test_failed_rows_keep_their_error_and_a_rerun_sends_only_unfinished_rows(
    sim: Simulator,
) -> None:
    quota, once = "[[sim: fault=quota]]", "[[sim: fault=quota times=1]]"
    df = frame("rerun ok", f"rerun quota {quota}", f"rerun once {once}",
               "rerun bad [[sim: nonsense=1]]")  # fmt: skip
    chat = new_chat(sim)
    first = chat.map("{text}", df, column="out", concurrency=2, view="none")
    assert (first.done, first.failed) == (1, 3)
    errors = df["out_error"].tolist()
    assert errors[0] is None
    assert "exceeded_current_quota_error" in errors[1]
    assert "bad [[sim: ...]] directive" in errors[3]
    assert df["out"].tolist()[1:] == [None, None, None]

    second = chat.map("{text}", df, column="out", concurrency=2, view="none")
    assert (second.done, second.failed, second.skipped) == (1, 2, 1)
    assert df["out_error"].tolist()[2] is None
    assert "rerun once" in df["out"].tolist()[2]
    assert sent(sim, "rerun ok") == {"rerun ok": 1}  # done rows are not sent again

    df.loc[len(df)] = ["rerun new", None, None]  # a row never run: --retry-failed leaves it
    third = chat.map("{text}", df, column="out", retry_failed=True, view="none")
    assert (third.done, third.failed, third.skipped) == (0, 2, 3)
    assert sent(sim, "rerun new") == {}
    assert sent(sim, "rerun quota")["rerun quota [[sim: fault=quota]]"] == 3


def test_json_parses_each_answer(sim: Simulator) -> None:
    df = frame("json one", "json two")
    report = new_chat(sim).map("{text}", df, column="value", json=True, view="none")
    assert report.done == 2
    assert all(value["simulator"] == "[Kimi simulator]" for value in df["value"])
    body = sim.requests[-1]
    assert body["response_format"] == {"type": "json_object"}
    assert "single JSON object" in last_user_text(body)


def test_schema_shapes_each_answer(sim: Simulator) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}},
              "required": ["label"], "additionalProperties": False}  # fmt: skip
    df = frame("schema one", "schema two")
    report = new_chat(sim).map("Label: {text}", df, column="label", schema=schema, view="none")
    assert report.done == 2
    assert all(isinstance(value["label"], str) for value in df["label"])
    response_format = sim.requests[-1]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == schema


class InterruptAfter:
    """A progress view that raises KeyboardInterrupt once `rows` rows have finished."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.report: MapReport | None = None

    def update(self, progress: MapProgress) -> None:
        if progress.finished >= self.rows:
            raise KeyboardInterrupt

    def finish(self, report: MapReport) -> None:
        self.report = report


def check_stopped(sim: Simulator, df: pd.DataFrame, report: MapReport, marker: str) -> None:
    assert report.stopped
    assert accounted(report, len(df))
    assert report.not_started > 0
    answered = df["answer"].notna()
    assert answered.sum() == report.done  # every finished row is written, nothing else
    for text, answer in zip(df["text"][answered], df["answer"][answered], strict=True):
        assert f'"{text}"' in answer  # each answer is its own row's
    assert all(count == 1 for count in sent(sim, marker).values())


def test_keyboard_interrupt_keeps_finished_rows_and_a_rerun_finishes(sim: Simulator) -> None:
    df = frame(*(f"ki {i} [[sim: latency_ms=50]]" for i in range(12)))
    view = InterruptAfter(3)
    chat = new_chat(sim)
    report = chat.map("{text}", df, concurrency=2, view=view)
    assert view.report == report
    check_stopped(sim, df, report, "ki ")
    rest = chat.map("{text}", df, concurrency=4, view="none")
    assert (rest.skipped, rest.done, rest.stopped) == (report.done, 12 - report.done, False)
    assert df["answer"].notna().all()


def test_interrupt_main_mid_run_stops_cleanly(sim: Simulator) -> None:
    def interrupt(number: int) -> None:
        if number == 3:
            _thread.interrupt_main()  # what a kernel interrupt does to the calling thread

    df = frame(*(f"im {i} [[sim: latency_ms=150]]" for i in range(10)))
    report = new_chat(sim, transport=Hook(interrupt)).map("{text}", df, concurrency=2,
                                                          view="none")  # fmt: skip
    check_stopped(sim, df, report, "im ")


def test_stop_button_ends_the_map(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    views: list[progress.WidgetProgress] = []

    class Recorded(progress.WidgetProgress):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            views.append(self)

    def click(number: int) -> None:
        if number == 3:
            views[0].stop_button.click()  # as the widget's comm thread would

    monkeypatch.setattr(progress, "WidgetProgress", Recorded)
    df = frame(*(f"stop {i} [[sim: latency_ms=100]]" for i in range(10)))
    report = new_chat(sim, transport=Hook(click)).map("{text}", df, concurrency=2,
                                                      view="widget")  # fmt: skip
    check_stopped(sim, df, report, "stop ")
    assert views[0].stop_button.disabled


def test_a_missing_column_is_one_line_naming_it_and_the_columns(sim: Simulator) -> None:
    before = len(sim.requests)
    df = pd.DataFrame({"text": ["a"], "lang": ["en"]})
    with pytest.raises(KimiError) as info:
        new_chat(sim).map("Translate {txt} to {lang}", df, view="none")
    assert str(info.value) == (
        "map: the template mentions {txt}, but there is no column 'txt'; columns: text, lang"
    )
    assert len(sim.requests) == before


@pytest.mark.parametrize(
    ("template", "df", "message"),
    [
        ("{text}", frame("a", "b", index=[1, 1]), "index has duplicates"),
        ("{}", frame("a"), "empty {}"),
        ("no fields", frame("a"), "mentions no column"),
        ("{text", frame("a"), "not a format string"),
        ("{answer}", pd.DataFrame({"answer": ["a"]}), "would overwrite"),
        ("{text}", [{"text": "a"}], "expected a pandas or polars DataFrame"),
    ],
)
def test_bad_input_fails_before_any_request(
    sim: Simulator, template: str, df: Any, message: str
) -> None:
    before = len(sim.requests)
    with pytest.raises(KimiError, match=message.replace("{", r"\{").replace("}", r"\}")):
        run_map(new_chat(sim), template, df, view="none")
    assert len(sim.requests) == before


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"concurrency": 0}, KimiError, "concurrency must be a whole number"),
        ({"view": "fancy"}, KimiError, "view must be 'widget', 'text' or 'none'"),
        ({"temprature": 0.5}, TypeError, "unknown option"),
    ],
)
def test_bad_options_fail_before_any_request(
    sim: Simulator, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = len(sim.requests)
    df = frame("a")
    with pytest.raises(error, match=message):
        new_chat(sim).map("{text}", df, **{"view": "none", **options})
    assert len(sim.requests) == before
    assert list(df.columns) == ["text"]


def test_polars_frames_get_the_columns_in_place(sim: Simulator) -> None:
    df = pl.DataFrame({"text": ["polars a", "polars b [[sim: fault=quota]]"]})
    report = new_chat(sim).map("{text}", df, view="none")
    assert (report.done, report.failed) == (1, 1)
    assert df.columns == ["text", "answer", "answer_error"]
    assert '"polars a"' in df["answer"][0]
    assert df["answer"][1] is None
    assert "quota" in df["answer_error"][1]


def test_text_progress_is_one_updating_line_then_the_summary(sim: Simulator) -> None:
    out = io.StringIO()
    df = frame("text a", "text b", "text c [[sim: fault=quota]]")
    report = new_chat(sim).map("{text}", df, concurrency=1, view=TextProgress(out, interval=0))
    written = out.getvalue()
    assert written.count("\n") == 1
    assert written.endswith(report.summary() + "\n")
    assert written.startswith("\rkimi map: ")
    assert "3/3 rows · 1 failed" in written
    assert "≈ $" in report.summary()
    line = MapProgress(total=4, started=0.0, done=1, failed=1, tokens=1234).line(10.0)
    assert line == "kimi map: 2/4 rows · 1 failed · 1,234 tokens · 10.0 s · ETA 10 s"


def test_prices_are_overridable(sim: Simulator) -> None:
    df = frame("price a")
    free = new_chat(sim).map("{text}", df, view="none", prices={"input": 0, "output": 0})
    assert free.cost == 0
    assert batch.PRICES_PER_MILLION == {"input": 0.95, "cached": 0.16, "output": 4.00}


def test_batch_jsonl_holds_the_bodies_map_sends(sim: Simulator, tmp_path: Path) -> None:
    chat = new_chat(sim, thinking=False)
    df = frame("jsonl a", "jsonl b", index=["r1", "r2"])
    path = tmp_path / "rows.jsonl"
    assert to_batch_jsonl(chat, "Do: {text}", df, path, json=True) == 2
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    chat.map("Do: {text}", df, json=True, view="none")
    sent_bodies = {last_user_text(b): b for b in sim.requests[-2:]}
    for line in lines:
        assert (line["method"], line["url"]) == ("POST", "/v1/chat/completions")
        body = line["body"]
        streamed = sent_bodies[last_user_text(body)]
        assert body == {k: v for k, v in streamed.items() if k not in ("stream", "stream_options")}
    assert [line["custom_id"] for line in lines] == ["r1", "r2"]


@pytest.fixture
def shell() -> InteractiveShell:
    start_ipython()
    return InteractiveShell.instance()


def test_map_magic_line_and_cell_forms(sim: Simulator, shell: InteractiveShell) -> None:
    chat = new_chat(sim)
    shell.user_ns["people"] = frame("magic a", "magic b")
    shell.user_ns["Shape"] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    line = map_magic(shell, 'people "About {text}" --column about --concurrency 2 '
                     "--no-thinking --max-tokens 500", None, chat, view="none")  # fmt: skip
    assert line.done == 2
    assert sim.requests[-1]["thinking"] == {"type": "disabled"}
    assert sim.requests[-1]["max_completion_tokens"] == 500
    cell = map_magic(shell, "people --column n --schema Shape", "Count {text}\n", chat,
                     view="none")  # fmt: skip
    assert cell.done == 2
    assert sim.requests[-1]["response_format"]["json_schema"]["name"] == "Shape"
    assert all(isinstance(v["n"], int) for v in shell.user_ns["people"]["n"])
    again = map_magic(shell, 'people "About {text}" --column about --retry-failed', None, chat)
    assert (again.skipped, again.done) == (2, 0)


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("nothing_here '{text}'", None, "there is no variable 'nothing_here'"),
        ("people", None, "usage: %kimi map DF"),
        ("people '{text}'", "{text}", "the template is the cell body"),
        ("people '{text}' --concurrency many", None, "invalid int value"),
        ("people '{text}' --bogus", None, "unrecognized arguments"),
        ("people '{text}", None, "No closing quotation"),
        ("people --schema Nope", "{text}", "--schema: there is no variable 'Nope'"),
    ],
)
def test_map_magic_bad_input_is_one_line(
    sim: Simulator, shell: InteractiveShell, line: str, cell: str | None, message: str
) -> None:
    shell.user_ns["people"] = frame("x")
    with pytest.raises(KimiError, match=message) as info:
        map_magic(shell, line, cell, new_chat(sim), view="none")
    assert "\n" not in str(info.value)
