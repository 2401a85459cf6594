"""The live view: where text freezes, the status line, and traffic through a recording comm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import comm
import pytest
from comm.base_comm import BaseComm

from kimi_jupyter.events import ContentDelta, Done, Event, ReasoningDelta, Usage
from kimi_jupyter.render.html import render_markdown
from kimi_jupyter.render.live import Progress, text_freeze_point


def test_thinking_freezes_at_newlines_or_long_lines() -> None:
    assert text_freeze_point("one\ntwo\nthr", 0) == len("one\ntwo\n")
    long = "word " * 300
    assert 0 < text_freeze_point(long, 0, max_tail=800) <= len(long)
    assert text_freeze_point("short", 0) == 0


def test_progress_phases_and_status_line() -> None:
    progress = Progress(started=0.0)
    assert progress.status_text(0.5) == "connecting · 0.5 s"
    progress.add(ReasoningDelta("hm"), 1.0)
    progress.add(ReasoningDelta("m"), 2.0)
    assert progress.phase == "thinking"
    progress.add(ContentDelta("Hi"), 3.0)
    assert progress.phase == "answering"
    assert progress.thinking_title(9.0) == "Thinking · 2.0 s · 2 tokens"
    assert progress.status_text(4.0) == "answering · 4.0 s · 3 tokens · 1 tok/s"
    progress.add(Usage(10, 5, 15, cached_tokens=4, reasoning_tokens=2), 4.0)
    progress.phase = "done"
    assert progress.status_text(5.0) == "done · 5.0 s · 15 tokens (4 cached)"


class RecordingComm(BaseComm):
    """A comm that keeps what would go to the frontend (the seam `comm` offers for this)."""

    sent: ClassVar[list[tuple[str, int]]] = []
    opened: ClassVar[set[str]] = set()
    closed: ClassVar[set[str]] = set()

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
        RecordingComm.sent.append((msg_type, size + sum(len(b) for b in buffers or ())))
        if msg_type == "comm_open":
            RecordingComm.opened.add(self.comm_id)
        elif msg_type == "comm_close":
            RecordingComm.closed.add(self.comm_id)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[RecordingComm]:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    RecordingComm.sent, RecordingComm.opened, RecordingComm.closed = [], set(), set()
    return RecordingComm


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def events(tokens: int) -> Iterator[Event]:
    sentence = ["The", " model", " thinks", " about", " it", "."]
    for i in range(tokens):
        yield ReasoningDelta(sentence[i % 6] + ("\n" if i % 60 == 59 else ""))
    words = [" Here", " is", " a", " **clear**", " answer", "."]
    for i in range(tokens):
        yield ContentDelta(words[i % 6] + ("\n\n" if i % 48 == 47 else ""))
    yield Done("stop")


def stream_through_view(tokens: int, step: float) -> tuple[Any, int, str]:
    from kimi_jupyter.render.widget import LiveView

    clock = Clock(step)
    view = LiveView(clock=clock)
    text = []
    for event in events(tokens):
        view.add(event)
        if isinstance(event, (ContentDelta, ReasoningDelta)):
            text.append(event.text)
    view.finish("done")
    return view, clock.now, "".join(text)


def sent_bytes(recording: type[RecordingComm]) -> int:
    return sum(size for _, size in recording.sent)


# A fast stream (2,000 tokens/s), and 50 tokens/s, where the 4 Hz latency cap sets the cost.
@pytest.mark.parametrize(("step", "bound"), [(0.0005, 8), (0.02, 20)])
def test_traffic_grows_linearly_and_repaints_are_capped(
    recording: type[RecordingComm], step: float, bound: float
) -> None:
    view, seconds, _ = stream_through_view(2_000, step)
    small = sent_bytes(recording)
    assert view.repaints <= 20 * seconds + 2  # + the flush at the end
    recording.sent.clear()
    _, _, text2 = stream_through_view(4_000, step)
    large = sent_bytes(recording)
    assert large / small < 2.3  # twice the text, about twice the bytes (naive: four times)
    assert large / len(text2.encode()) < bound


def test_naive_reference_is_quadratic(recording: type[RecordingComm]) -> None:
    import ipywidgets as w

    for tokens in (500, 1_000):
        recording.sent.clear()
        view = w.HTML()
        for event in events(tokens):
            if isinstance(event, (ContentDelta, ReasoningDelta)):
                view.value += event.text
        if tokens == 500:
            small = sent_bytes(recording)
    assert sent_bytes(recording) / small > 3.5


def test_finish_flushes_everything_and_close_closes_every_comm(
    recording: type[RecordingComm],
) -> None:
    from kimi_jupyter.render.widget import LiveView

    view = LiveView(clock=Clock(0.0), interval=3600)  # no repaint until the flush
    view.add(ReasoningDelta("thinking hard"))
    view.add(ContentDelta("# Title\n\nbody **bold**"))
    assert view.answer.text == ""  # nothing painted yet
    view.finish("done")
    assert view.answer.text == "# Title\n\nbody **bold**"
    values = [w.value for w in view.answer.widgets if hasattr(w, "value")]
    assert "".join(values) == render_markdown("# Title\n\n") + render_markdown(
        "body **bold**"
    ) or any("<strong>bold</strong>" in v for v in values)
    assert "done" in view.status.value
    assert view.stop_button.disabled
    view.close()
    assert recording.opened
    assert recording.opened == recording.closed


def test_thinking_pane_opens_then_folds_when_the_answer_starts(
    recording: type[RecordingComm],
) -> None:
    from kimi_jupyter.render.widget import LiveView

    view = LiveView(clock=Clock(0.1))
    assert view.accordion.layout.display == "none"  # no thinking yet: no pane
    view.add(ReasoningDelta("let me see"))
    assert view.accordion.layout.display is None
    assert view.accordion.selected_index == 0
    view.add(ContentDelta("Answer"))
    assert view.accordion.selected_index is None
    assert view.accordion.titles[0].startswith("Thinking · ")
    view.accordion.selected_index = 0  # the user opens it again: we leave it open
    view.add(ContentDelta(" more"))
    assert view.accordion.selected_index == 0


def test_model_text_in_the_live_view_is_sanitized(recording: type[RecordingComm]) -> None:
    from kimi_jupyter.render.widget import LiveView

    view = LiveView(clock=Clock(1.0))
    view.add(ReasoningDelta('<img src=x onerror="window.__x=1">'))
    view.add(ContentDelta("<script>window.__y=1</script> ![t](http://remote.invalid/t.png)"))
    view.finish("done")
    html = " ".join(
        w.value for w in (*view.thinking.widgets, *view.answer.widgets) if hasattr(w, "value")
    )
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;img" in html
