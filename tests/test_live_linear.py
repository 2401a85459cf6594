"""The live view's work is linear in the answer, whatever its shape (issue 11, A4).

Not timed (machines are noisy): the work is counted. `_Pane.rendered` is every character
handed to the Markdown renderer over a whole stream (the frozen pieces once, the open tail
at each repaint); the widget traffic is every byte a kernel would send. Before, an open code
fence or one long line was rendered again in full at every repaint: quadratic.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import comm
import pytest
from comm.base_comm import BaseComm

from kimi_jupyter.events import ContentDelta
from kimi_jupyter.render.chunks import MAX_TAIL


def _fit(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def shape(name: str, size: int) -> str:
    header = "| n | a | b | c |\n|--:|---|---|---|\n"
    return {
        "prose": _fit("A sentence with **bold** and `code`. Another one follows here.\n\n", size),
        "fence": "```python\n" + _fit("result = compute(frame, column='x')  # step\n", size),
        "line": _fit("abcdefgh,", size),
        "lt": "<" * size,
        "quote": _fit("> " * 60 + "a quoted line\n", size),
        "lists": _fit("".join("  " * d + "- item\n" for d in range(40)), size),
        "table": header + _fit("| 1 | alpha | beta | 3.14 |\n", size),
        "backticks": _fit("` x `` y ``` z ```` ", size),
        "math": "$$\n" + _fit("x_1 + y_2 = z \\\\\n", size),
    }[name]


class Wire(BaseComm):
    """Counts the bytes a kernel would send for every widget message."""

    sent: ClassVar[int] = 0

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        Wire.sent += len(json.dumps(data, ensure_ascii=False, default=str).encode())


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> type[Wire]:
    monkeypatch.setattr(comm, "create_comm", Wire)
    Wire.sent = 0
    return Wire


class Clock:
    """100 tokens a second, so repaints come as they do in a real stream."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def stream(text: str, token: int = 20) -> tuple[Any, int]:
    """(view, the largest open tail) after streaming `text` in `token`-sized deltas."""
    from kimi_jupyter.render.widget import LiveView

    view = LiveView(clock=Clock())
    largest = 0
    for i in range(0, len(text), token):
        view.add(ContentDelta(text[i : i + token]))
        largest = max(largest, view.answer.tail_size)
    view.finish("done")
    return view, largest


SHAPES = ["prose", "fence", "line", "lt", "quote", "lists", "table", "backticks", "math"]


@pytest.mark.parametrize("name", ["fence", "line"])
def test_a_200_kb_fence_or_line_is_rendered_a_few_times_over_not_once_per_repaint(
    wire: type[Wire], name: str
) -> None:
    text = shape(name, 200_000)
    view, _ = stream(text)
    assert view.answer.text == text
    assert view.repaints > 500  # so a quadratic view would render ~100x the text
    assert view.answer.rendered <= 5 * len(text)
    view.close()


@pytest.mark.parametrize("name", SHAPES)
def test_work_and_traffic_double_when_the_text_doubles(wire: type[Wire], name: str) -> None:
    small, _ = stream(shape(name, 50_000))
    small_bytes, Wire.sent = Wire.sent, 0
    large, largest = stream(shape(name, 100_000))
    assert large.answer.rendered <= 5 * 100_000
    assert large.answer.rendered / small.answer.rendered < 2.3
    assert Wire.sent / small_bytes < 2.3  # linear, where re-sending the tail was quadratic
    assert Wire.sent < 30 * 100_000
    assert largest < MAX_TAIL + 1_000  # the open tail stays small whatever the shape
    small.close()
    large.close()


def test_the_thinking_pane_is_linear_too(wire: type[Wire]) -> None:
    from kimi_jupyter.events import ReasoningDelta
    from kimi_jupyter.render.widget import LiveView

    text = "x" * 100_000  # no newline, no space: cut anywhere
    view = LiveView(clock=Clock())
    for i in range(0, len(text), 20):
        view.add(ReasoningDelta(text[i : i + 20]))
    view.finish("done")
    assert view.thinking.text == text
    assert view.thinking.rendered <= 5 * len(text)
    view.close()


def test_a_huge_token_is_frozen_at_once_not_kept_as_tail(wire: type[Wire]) -> None:
    text = shape("fence", 300_000)
    view, _largest = stream(text, token=100_000)
    assert view.answer.rendered <= 2 * len(text)
    assert view.answer.tail_size < MAX_TAIL + 1_000
    view.close()


def test_highlighting_in_the_live_view_has_a_budget(wire: type[Wire]) -> None:
    from kimi_jupyter.render.widget import LIVE_HIGHLIGHT_CHARS

    view, _ = stream(shape("fence", 400_000))
    values = [w.value for w in view.answer.widgets if isinstance(getattr(w, "value", None), str)]
    coloured = sum(len(v) for v in values if "kimi-hl-" in v)
    assert any("kimi-hl-" in v for v in values)  # the start is coloured
    assert "kimi-hl-" not in values[-1]  # the end, once the budget is spent, is not
    assert coloured < 40 * LIVE_HIGHLIGHT_CHARS
    view.close()
