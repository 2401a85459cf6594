"""The run controller (`run.AnswerRun`) against the simulator on 127.0.0.1: one terminal event
whatever happens, Stop, per-run retry notices, the approval policy, and one scripted event
sequence that drives every view to the same text as the record."""

from __future__ import annotations

import _thread
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_jupyter import Chat, tool
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import ContentDelta, ReasoningDelta, StepStarted, ToolCall, ToolStarted
from kimi_jupyter.options import AskOptions
from kimi_jupyter.panel import _Relay
from kimi_jupyter.protocol import parse
from kimi_jupyter.render.text import TextView
from kimi_jupyter.run import (
    AnswerRun,
    ApprovalRequested,
    Approvals,
    ApprovalSettled,
    RetryScheduled,
    RunEnded,
    RunEvent,
)
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import Toolbox

KEY = "sk-run-controller"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, **kwargs: Any) -> Chat:
    return Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url, **kwargs)


class Recorder:
    def __init__(self) -> None:
        self.events: list[RunEvent] = []
        self.threads: set[str] = set()

    def __call__(self, event: RunEvent) -> None:
        self.events.append(event)
        self.threads.add(threading.current_thread().name)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def test_follow_delivers_on_this_thread_and_ends_once(sim: Simulator) -> None:
    chat, seen = new_chat(sim), Recorder()
    ended = AnswerRun(chat, "hello [[sim: chunks=5]]").follow(seen)
    assert seen.threads == {threading.current_thread().name}
    assert seen.events[-1] is ended
    assert len(seen.of(RunEnded)) == 1
    assert ended.status == "done"
    assert ended.error is None
    assert ended.recorded
    assert chat.session.turns == [ended.turn]  # the record the session keeps, the same object
    text = "".join(e.text for e in seen.of(ContentDelta))
    assert text == ended.turn.answer


def test_start_delivers_on_the_worker_and_wait_returns_the_end(sim: Simulator) -> None:
    seen = Recorder()
    run = AnswerRun(new_chat(sim), "hi").start(seen)
    ended = run.wait(10)
    assert ended is not None
    assert ended.status == "done"
    assert seen.threads == {"kimi-answer"}
    assert seen.events[-1] is ended


def test_a_failure_before_anything_arrived_leaves_the_session_as_it_was(sim: Simulator) -> None:
    chat = Chat("t", sessions=Sessions(), api_key="sk-wrong", base_url=sim.base_url)
    ended = AnswerRun(chat, "hi").follow()
    assert ended.status == "failed"
    assert not ended.recorded
    assert isinstance(ended.error, KimiError)
    assert "401" in str(ended.error)
    assert chat.session.exchanges == []


class Raising(httpx.BaseTransport):
    """A transport that fails in a way nobody planned for."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom\nwith a second line")


class BreaksMidBody(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'data: {"choices":[{"index":0,"delta":{"content":"Half an ans"}}]}\n\n'
        raise RuntimeError("the proxy fell over")


class MidBody(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, headers=headers, stream=BreaksMidBody())


def test_an_unexpected_transport_error_is_a_failed_end_in_one_line() -> None:
    chat = Chat("t", sessions=Sessions(), api_key=KEY, transport=Raising())
    seen = Recorder()
    ended = AnswerRun(chat, "hi").follow(seen)
    assert ended.status == "failed"
    assert not ended.recorded
    assert isinstance(ended.error, KimiError)
    message = str(ended.error)
    assert message.endswith("failed: RuntimeError: boom with a second line")
    assert "\n" not in message
    assert seen.of(RunEnded) == [ended]
    assert seen.of(RetryScheduled) == []  # a bug in a transport is not worth retrying


def test_a_body_that_breaks_keeps_the_partial_answer() -> None:
    chat = Chat("t", sessions=Sessions(), api_key=KEY, transport=MidBody())
    ended = AnswerRun(chat, "hi").follow()
    assert ended.status == "failed"
    assert ended.recorded
    assert ended.turn.answer == "Half an ans"
    assert "the proxy fell over" in str(ended.error)
    assert "\n" not in str(ended.error)
    assert chat.session.turns == [ended.turn]


def test_a_view_that_raises_stops_the_run_but_loses_nothing(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: RunEvent) -> None:
        if isinstance(event, ContentDelta):
            raise ValueError("a bug in a view")

    chat = new_chat(sim)
    ended = AnswerRun(chat, "x [[sim: chunks=50 delay_ms=10]]").follow(broken)
    assert ended.status == "stopped"
    assert chat.session.turns == [ended.turn]
    assert "a view failed on ContentDelta: a bug in a view" in caplog.text


def test_ctrl_c_while_following_stops_and_keeps_the_partial_answer(sim: Simulator) -> None:
    chat = new_chat(sim)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    ended = AnswerRun(chat, "long [[sim: chunks=400 delay_ms=10]]").follow()
    timer.join()
    assert ended.status == "stopped"
    assert ended.turn.reasoning or ended.turn.answer  # what arrived is kept
    assert len(ended.turn.answer) < 2_000
    assert chat.session.turns == [ended.turn]


def test_stop_before_the_first_byte(sim: Simulator) -> None:
    run = AnswerRun(new_chat(sim), "x [[sim: chunks=100 delay_ms=10]]")
    run.stop()
    ended = run.start().wait(10)
    assert ended is not None
    assert ended.status == "stopped"


def test_each_run_hears_only_its_own_retries(sim: Simulator) -> None:
    chat = new_chat(sim, max_attempts=3)  # one Chat, one HTTP client, two runs at once
    first, second = Recorder(), Recorder()
    runs = [
        AnswerRun(chat, "a [[sim: fault=overloaded retry_after=1 times=1]]").start(first),
        AnswerRun(chat, "b [[sim: fault=overloaded retry_after=2 times=1]]").start(second),
    ]
    for run in runs:
        ended = run.wait(20)
        assert ended is not None
        assert ended.status == "done"
    assert [r.delay for r in first.of(RetryScheduled)] == [1.0]
    assert [r.delay for r in second.of(RetryScheduled)] == [2.0]
    assert "retrying in 1.0 s" in first.of(RetryScheduled)[0].text


CALL = ToolCall("c1", "drop_table", "{}")


def test_the_first_answer_wins_and_later_ones_are_refused() -> None:
    events: list[RunEvent] = []
    approvals = Approvals(5.0, events.append)
    threading.Timer(
        0.05, lambda: (approvals.answer("c1", True), approvals.answer("c1", False))
    ).start()
    assert approvals.ask(CALL) is True
    assert approvals.answer("c1", False) is False  # settled: nobody waits any more
    assert events == [ApprovalRequested(CALL, 5.0), ApprovalSettled(CALL, True, "user")]


def test_no_answer_in_time_is_a_skip_and_stop_skips_the_rest() -> None:
    events: list[RunEvent] = []
    approvals = Approvals(0.1, events.append)
    started = time.monotonic()
    assert approvals.ask(CALL) == "nobody answered in time"  # the model is told so
    assert 0.1 <= time.monotonic() - started < 2
    assert events[-1] == ApprovalSettled(CALL, False, "timeout")
    threading.Timer(0.05, approvals.release).start()
    approvals.timeout = 30.0
    assert approvals.ask(ToolCall("c2", "f", "{}")) == "the user stopped the answer"
    assert events[-1].by == "stopped"  # type: ignore[union-attr]
    assert approvals.ask(ToolCall("c3", "f", "{}")) == "the user stopped the answer"
    assert not any(isinstance(e, ApprovalRequested) and e.call.id == "c3" for e in events)


def test_stop_during_an_approval_releases_it_and_the_run_ends_stopped(
    sim: Simulator, toolbox: Toolbox
) -> None:
    ran: list[str] = []

    @tool(confirm=True)
    def drop_table(name: str) -> str:
        """Drop a table."""
        ran.append(name)
        return "dropped"

    chat, seen = new_chat(sim, tools=True), Recorder()
    run = AnswerRun(chat, "go [[sim: tool=drop_table]]")

    def listener(event: RunEvent) -> None:
        seen(event)
        if isinstance(event, ApprovalRequested):
            run.stop()

    ended = run.follow(listener)
    assert ran == []
    assert ended.status == "stopped"
    assert seen.of(ApprovalSettled)[0].by == "stopped"
    assert [r.status for r in ended.turn.tool_results] == ["skipped"]


# One scripted event sequence (from the simulator) drives every view.


@pytest.fixture
def scripted(sim: Simulator, toolbox: Toolbox) -> tuple[list[RunEvent], RunEnded]:
    @tool
    def lookup_population(city: str) -> int:
        """The population of a city."""
        return 2_148_000

    seen = Recorder()
    prompt = "How many? [[sim: tool=lookup_population reasoning_chunks=4 chunks=6]]"
    ended = AnswerRun(new_chat(sim, tools=True), prompt).follow(seen)
    assert ended.status == "done"
    assert seen.of(StepStarted) == [StepStarted(2)]
    assert len(seen.of(ToolStarted)) == 1
    return seen.events, ended


def test_the_deltas_add_up_to_the_record(scripted: tuple[list[RunEvent], RunEnded]) -> None:
    events, ended = scripted
    answer = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert answer == ended.turn.answer
    assert reasoning == ended.turn.reasoning
    assert "\n\n" in reasoning  # two steps of thinking, joined once


def test_the_live_view_shows_what_the_record_holds(
    scripted: tuple[list[RunEvent], RunEnded],
) -> None:
    from kimi_jupyter.render.widget import LiveView

    events, ended = scripted
    view = LiveView(interval=0.0)
    for event in events:
        view.add(event)
    assert view.answer.text == ended.turn.answer
    assert view.thinking.text == ended.turn.reasoning
    assert view.stop_button.disabled  # RunEnded finished it
    assert list(view.tools.panels) == [ended.turn.tool_results[0].call_id]
    view.close()


def test_the_text_view_writes_what_the_record_holds(
    scripted: tuple[list[RunEvent], RunEnded],
) -> None:
    events, ended = scripted
    out = io.StringIO()
    view = TextView(out, color=False)
    for event in events:
        view.add(event)
    text = out.getvalue()
    assert text.endswith(ended.turn.answer)
    for part in ended.turn.reasoning.split("\n\n"):
        assert part in text
    assert "🔧 lookup_population" in text


def test_the_panel_relay_sends_what_the_record_holds(
    scripted: tuple[list[RunEvent], RunEnded],
) -> None:
    events, ended = scripted
    sent: list[dict[str, Any]] = []
    closed: list[bool] = []
    relay = _Relay("r1", "t", lambda m: sent.append(dict(m)), lambda: closed.append(True))
    for event in events:
        relay.add(event)
    for message in sent:
        parse(message, "to_frontend")  # every message fits the protocol
    content = "".join(m["text"] for m in sent if m["type"] == "delta" and m["kind"] == "content")
    reasoning = "".join(
        m["text"] for m in sent if m["type"] == "delta" and m["kind"] == "reasoning"
    )
    assert content == ended.turn.answer
    assert reasoning == ended.turn.reasoning
    assert [m["type"] for m in sent if m["type"] not in ("delta",)] == [
        "tool_start",
        "tool_end",
        "done",
    ]
    assert sent[-1]["record"]["answer"] == ended.turn.answer
    assert closed == [True]


def test_options_travel_whole(sim: Simulator) -> None:
    chat = new_chat(sim, thinking=False)
    run = AnswerRun(chat, "hi", options=AskOptions(max_completion_tokens=77, stop=["END"]))
    assert run.follow().status == "done"
    body = sim.requests[-1]
    assert body["max_completion_tokens"] == 77
    assert body["stop"] == ["END"]
    assert body["thinking"] == {"type": "disabled"}  # the Chat's default, kept
