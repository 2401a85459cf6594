"""Plain-text streaming for terminal IPython and frontends that cannot show widgets.

A listener of a `run.AnswerRun` (`add`); an approval is asked on the terminal (y/N) and the
answer goes back through `control`. Model and server text is printed without escape
sequences or control characters (`terminal.py`): only our own dimming reaches the terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from kimi_jupyter.context.outputs import error_text, multiline
from kimi_jupyter.events import (
    STEP_BREAK,
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolFinished,
    ToolStarted,
)
from kimi_jupyter.render.bundle import (
    call_code,
    footer_text,
    notice,
    one_line,
    result_title,
    thinking_summary,
)
from kimi_jupyter.run import (
    ApprovalRequested,
    ApprovalSettled,
    RetryScheduled,
    RunEvent,
    ToolOutputs,
)
from kimi_jupyter.terminal import TerminalFilter, strip_terminal
from kimi_jupyter.turn import Turn

if TYPE_CHECKING:
    from kimi_jupyter.render.live import Control

_DIM, _RESET = "\x1b[2m", "\x1b[0m"


class TextView:
    """Writes thinking (dimmed, or prefixed without colour) and then the answer as they arrive;
    a line when a tool call starts and one when it ends; an approval asks on the terminal."""

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        color: bool | None = None,
        ask: Callable[[str], str] | None = None,
        control: Control | None = None,
    ) -> None:
        self._out = out or sys.stdout
        self._color = color if color is not None else bool(getattr(self._out, "isatty", bool)())
        self._ask = ask
        self._control = control
        self._state = "start"
        self._thinking, self._answer = TerminalFilter(), TerminalFilter()

    def add(self, event: RunEvent) -> None:
        if isinstance(event, ReasoningDelta):
            text = self._thinking.feed(event.text)
            if self._state in ("start", "tool"):
                self._write(_DIM if self._color else "Thinking: ")
                self._state, text = "thinking", text.removeprefix(STEP_BREAK)
            self._write(text)
        elif isinstance(event, ContentDelta):
            text = self._answer.feed(event.text)
            if self._state == "thinking":
                self._thinking.flush()
                self._write((_RESET if self._color else "") + "\n\n")
            if self._state != "answering":
                text = text.removeprefix(STEP_BREAK)  # a line of its own already ends there
            self._state = "answering"
            self._write(text)
        elif isinstance(event, ToolStarted):
            self._line(f"🔧 {_call_text(event.call)}")
        elif isinstance(event, ToolFinished):
            preview = one_line(event.result.preview, 200)
            self._line(result_title(event.result) + (f" → {preview}" if preview else ""))
        elif isinstance(event, ApprovalRequested) and self._control is not None:
            code = call_code(event.call.name, event.call.arguments)
            if code is not None:  # the code to approve, whole, before the question
                self._line(f"```python\n{strip_terminal(code)}\n```")
            self._control.answer(event.call.id, self.confirm(event.call))
        elif isinstance(event, ApprovalSettled) and event.notice:
            self.notify(event.notice)
        elif isinstance(event, RetryScheduled):
            self.notify(event.text)
        elif isinstance(event, ToolOutputs):  # a code step ran: what it printed and showed
            for line in outputs_lines(event.outputs):
                self._line(line)

    def confirm(self, call: ToolCall) -> bool:
        """`Run name(args)? [y/N]`: only y/yes runs it; end of input (or no stdin) skips.
        Ctrl-C goes on up and stops the answer."""
        try:
            answer = (self._ask or input)(f"Run {_call_text(call)}? [y/N] ")
        except (EOFError, OSError, NotImplementedError):  # IPython's StdinNotImplementedError
            self._write("\n")
            return False
        return answer.strip().lower() in ("y", "yes")

    def notify(self, text: str) -> None:
        self._write(f"[{strip_terminal(text)}]\n")

    def finish(self, turn: Turn) -> None:
        if self._state == "thinking" and self._color:
            self._write(_RESET)
        self._thinking.flush()
        self._answer.flush()
        answer = strip_terminal(turn.answer)
        lines = ["", ""]
        if turn.reasoning and self._state == "start":  # not streamed (--no-stream): summarise
            tokens = turn.usage.reasoning_tokens if turn.usage else None
            lines = [f"({thinking_summary(turn.timings.reasoning, tokens)})", "", answer, ""]
        elif self._state == "start":
            lines = [answer, ""]
        message = notice(turn)
        if message:
            lines.append(f"[{strip_terminal(message)}]")
        lines.append(f"— {strip_terminal(footer_text(turn))}")
        self._write("\n".join(lines) + "\n")

    def _line(self, text: str) -> None:
        """A line of its own, after whatever streamed before it."""
        reset = _RESET if self._state == "thinking" and self._color else ""
        newline = "" if self._state in ("start", "tool") else "\n"
        self._write(f"{reset}{newline}{text}\n")
        self._state = "tool"

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


def _call_text(call: ToolCall) -> str:
    """`lookup({"city": "Paris"})`, one line, with no control characters from the model."""
    return f"{one_line(call.name, 60)}({one_line(call.arguments, 120)})"


def outputs_lines(outputs: Sequence[Mapping[str, Any]]) -> list[str]:
    """nbformat outputs as a terminal shows them: text without escape sequences, a figure as
    a line naming it."""
    lines: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            lines.append(strip_terminal(multiline(output.get("text"))).rstrip("\n"))
        elif kind == "error":
            lines.append(strip_terminal(error_text(output)))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data")
            data = data if isinstance(data, Mapping) else {}
            if "text/plain" in data and not any(k.startswith("image/") for k in data):
                lines.append(strip_terminal(multiline(data["text/plain"])))
            else:
                images = ", ".join(k for k in data if k.startswith("image/"))
                lines.append(f"[{images or 'output'}]")
    return [line for line in lines if line]
