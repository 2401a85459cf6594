"""The live view the lab extension draws: one model, each character of text sent once.

A recording comm keeps every message the kernel would send; the tests read them as the
page's `KimiLiveModel` would (`labextension/src/celllivestate.ts`).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import comm
import pytest
from comm.base_comm import BaseComm

from kimi_jupyter.events import (
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolFinished,
    ToolResult,
    ToolStarted,
)
from kimi_jupyter.render.lab_live import (
    LIVE_PROTOCOL,
    METADATA_KEY,
    SEND_CHARS,
    LabLiveView,
    extension_draws_live,
)
from kimi_jupyter.run import ApprovalRequested, ApprovalSettled, RetryScheduled, RunEnded
from kimi_jupyter.turn import Turn


class Comms(BaseComm):
    """Every message, with its data, as it would go to the page."""

    sent: ClassVar[list[tuple[str, str, Any]]] = []

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        Comms.sent.append((msg_type, self.comm_id, data))


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> type[Comms]:
    monkeypatch.setattr(comm, "create_comm", Comms)
    Comms.sent = []
    return Comms


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Control:
    def __init__(self) -> None:
        self.stopped = 0
        self.answers: list[tuple[str, bool]] = []

    def stop(self) -> None:
        self.stopped += 1

    def answer(self, call_id: str, run: bool) -> bool:
        self.answers.append((call_id, run))
        return True


def custom(comms: type[Comms], widget: Any) -> list[dict[str, Any]]:
    """The custom messages sent to `widget`'s model, in order."""
    return [data["content"] for kind, comm_id, data in comms.sent
            if kind == "comm_msg" and comm_id == widget.comm.comm_id
            and data.get("method") == "custom"]  # fmt: skip


def stream(view: LabLiveView, thinking: str, answer: str, size: int = 4) -> None:
    for kind, text in ((ReasoningDelta, thinking), (ContentDelta, answer)):
        for at in range(0, len(text), size):
            view.add(kind(text[at : at + size]))


def test_the_extension_says_so_in_the_execute_request() -> None:
    assert extension_draws_live({"cellId": "c1", METADATA_KEY: {"live": LIVE_PROTOCOL}})
    assert not extension_draws_live({"cellId": "c1"})
    assert not extension_draws_live({METADATA_KEY: {"live": LIVE_PROTOCOL + 1}})
    assert not extension_draws_live({METADATA_KEY: "live"})
    assert not extension_draws_live(None)


def test_each_character_crosses_once_in_one_model(comms: type[Comms]) -> None:
    thinking = "Let me think about the groups.\n" * 40
    answer = "## Result\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```\n" * 60
    view = LabLiveView(clock=Clock(0.001))
    stream(view, thinking, answer)
    view.finish("done")
    messages = custom(comms, view.widget)
    assert "".join(m.get("thinking", "") for m in messages) == thinking
    assert "".join(m.get("answer", "") for m in messages) == answer
    assert messages[-1] == {"end": "done"}
    opened = [data for kind, _, data in comms.sent if kind == "comm_open"]
    assert len(opened) == 2  # the model and its Layout, whatever the length
    # no state update carries text or a children list while the answer streams
    updates = [data for kind, _, data in comms.sent
               if kind == "comm_msg" and data.get("method") == "update"]  # fmt: skip
    assert not updates
    # messages carry about SEND_CHARS each at this speed, not one per token
    text = len(thinking) + len(answer)
    assert len(messages) <= text / SEND_CHARS + 6, len(messages)
    carried = sum(len(json.dumps(m)) for m in messages)
    escaped = len(json.dumps(thinking)) + len(json.dumps(answer))  # "\n" is two bytes
    assert carried < escaped + 80 * len(messages)  # the text once, and the counts


def test_counts_and_phases_go_with_the_text(comms: type[Comms]) -> None:
    view = LabLiveView(clock=Clock(1.0), note="@df left as text")
    view.add(ReasoningDelta("hm"))
    view.add(ContentDelta("Hi"))
    view.finish("stopped")
    messages = custom(comms, view.widget)
    assert messages[0] == {"note": "@df left as text"}
    assert {"thinking": "hm", "phase": "thinking", "reasoning": 1, "tokens": 1} in messages
    assert {"answer": "Hi", "phase": "answering", "reasoning": 1, "tokens": 2} in messages
    assert messages[-2:] == [{"phase": "stopped"}, {"end": "stopped"}]


def test_slow_streams_are_sent_within_the_latency_cap(comms: type[Comms]) -> None:
    view = LabLiveView(clock=Clock(0.05), max_latency=0.25)  # 20 tokens a second
    for _ in range(100):
        view.add(ContentDelta("word "))
    messages = custom(comms, view.widget)
    assert "".join(m.get("answer", "") for m in messages) != ""
    # five seconds of text, at most one message every 0.25 s (and the first phase at once)
    assert 15 <= len(messages) <= 22, len(messages)


def test_stop_from_the_page_stops_the_run_once(comms: type[Comms]) -> None:
    control = Control()
    view = LabLiveView(control=control, clock=Clock(0.1))
    view.widget._handle_custom_msg({"stop": True}, [])
    view.widget._handle_custom_msg({"stop": True}, [])
    view.widget._handle_custom_msg({"stop": "yes"}, [])
    view.widget._handle_custom_msg("stop", [])
    assert control.stopped == 1


def test_tool_calls_get_panels_in_the_tools_slot_with_run_and_skip(comms: type[Comms]) -> None:
    control = Control()
    view = LabLiveView(control=control, clock=Clock(0.1))
    call = ToolCall("c1", "read_file", '{"path": "a.csv"}')
    view.add(ContentDelta("Reading."))
    view.add(ToolStarted(call, 1, True))
    view.add(ApprovalRequested(call, 60.0))
    assert view.widget.tools is view.tools.box
    messages = custom(comms, view.widget)
    assert messages[-1]["phase"] == "waiting for you: run read_file?"
    assert "".join(m.get("answer", "") for m in messages) == "Reading."  # sent before it
    panel = view.tools.get(call)
    panel.run_button.click()
    assert control.answers == [("c1", True)]
    view.add(ApprovalSettled(call, True, "user"))
    view.add(ToolFinished(ToolResult("c1", "read_file", '{"path": "a.csv"}', "ok", "3 rows")))
    view.add(RetryScheduled(1, 2.0, "HTTP 503"))
    assert custom(comms, view.widget)[-1] == {"notice": "retrying in 2.0 s: HTTP 503"}
    view.add(RunEnded("done", Turn(answer="Reading."), None, True))
    assert custom(comms, view.widget)[-1] == {"end": "done"}


def test_close_closes_every_comm_it_opened(comms: type[Comms]) -> None:
    view = LabLiveView(clock=Clock(0.1))
    view.add(ToolStarted(ToolCall("c1", "f", "{}"), 1, False))
    view.finish("done")
    view.close()
    opened = {comm_id for kind, comm_id, _ in comms.sent if kind == "comm_open"}
    closed = {comm_id for kind, comm_id, _ in comms.sent if kind == "comm_close"}
    assert opened
    assert opened == closed
