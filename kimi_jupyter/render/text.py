"""Plain-text streaming for terminal IPython and frontends that cannot show widgets."""

from __future__ import annotations

import sys
from typing import TextIO

from kimi_jupyter.events import ContentDelta, Event, ReasoningDelta
from kimi_jupyter.render.bundle import footer_text, notice, thinking_summary
from kimi_jupyter.turn import Turn

_DIM, _RESET = "\x1b[2m", "\x1b[0m"


class TextView:
    """Writes thinking (dimmed, or prefixed without colour) and then the answer as they arrive."""

    def __init__(self, out: TextIO | None = None, *, color: bool | None = None) -> None:
        self._out = out or sys.stdout
        self._color = color if color is not None else bool(getattr(self._out, "isatty", bool)())
        self._state = "start"

    def add(self, event: Event) -> None:
        if isinstance(event, ReasoningDelta):
            if self._state == "start":
                self._write(_DIM if self._color else "Thinking: ")
                self._state = "thinking"
            self._write(event.text)
        elif isinstance(event, ContentDelta):
            if self._state == "thinking":
                self._write((_RESET if self._color else "") + "\n\n")
            self._state = "answering"
            self._write(event.text)

    def notify(self, text: str) -> None:
        self._write(f"[{text}]\n")

    def finish(self, turn: Turn) -> None:
        if self._state == "thinking" and self._color:
            self._write(_RESET)
        lines = ["", ""]
        if turn.reasoning and self._state == "start":  # not streamed (--no-stream): summarise
            tokens = turn.usage.reasoning_tokens if turn.usage else None
            lines = [f"({thinking_summary(turn.timings.reasoning, tokens)})", "", turn.answer, ""]
        elif self._state == "start":
            lines = [turn.answer, ""]
        message = notice(turn)
        if message:
            lines.append(f"[{message}]")
        lines.append(f"— {footer_text(turn)}")
        self._write("\n".join(lines) + "\n")

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
