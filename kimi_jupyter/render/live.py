"""What a live view needs besides widgets: where text can be frozen, and the status line.

UI-free, so the widget view, the text view and tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kimi_jupyter.events import (
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCallDelta,
    ToolFinished,
    ToolStarted,
    Usage,
)
from kimi_jupyter.render.bundle import one_line, thinking_summary
from kimi_jupyter.run import (
    ApprovalRequested,
    ApprovalSettled,
    RetryScheduled,
    RunEnded,
    RunEvent,
    ToolOutputs,
)


class Control(Protocol):
    """What a view may ask of the run it shows (`run.AnswerRun`)."""

    def stop(self) -> None: ...
    def answer(
        self, call_id: str, run: bool, *, arguments: dict[str, Any] | None = None
    ) -> bool: ...


class RunListener:
    """What a live view does with each of a run's events (`run.AnswerRun`): the end, a retry
    notice, an approval asked or settled, or a stream event. The views say how."""

    def add(self, event: RunEvent) -> None:
        if isinstance(event, RunEnded):
            self.finish(event.status)
        elif isinstance(event, RetryScheduled):
            self.notify(event.text)
        elif isinstance(event, ApprovalRequested | ApprovalSettled):
            self._approval(event)
        elif isinstance(event, ToolOutputs):
            self._tool_outputs(event)
        else:
            self._stream_event(event)

    def finish(self, phase: str) -> None:
        raise NotImplementedError

    def notify(self, text: str) -> None:
        raise NotImplementedError

    def _approval(self, event: ApprovalRequested | ApprovalSettled) -> None:
        raise NotImplementedError

    def _tool_outputs(self, event: ToolOutputs) -> None:
        """A code call ran (the cell agent's `run_code`): its code and outputs."""
        raise NotImplementedError

    def _stream_event(self, event: Event) -> None:
        raise NotImplementedError


def text_freeze_point(text: str, start: int, max_tail: int = 800) -> int:
    """For plain text (thinking): freeze at the last newline, or when a line runs long at a
    space, or anywhere (so the tail stays under `max_tail` whatever the text)."""
    newline = text.rfind("\n", start)
    if newline >= 0:
        return newline + 1
    if len(text) - start > max_tail:
        space = text.rfind(" ", start)
        if space > start:
            return space + 1
        return len(text) - max_tail // 4
    return start


@dataclass
class Progress:
    """Phase, timings and token counts of one answer, for the status line and pane titles."""

    started: float
    phase: str = "connecting"
    first_token: float | None = None
    answer_started: float | None = None
    reasoning_deltas: int = 0
    answer_deltas: int = 0
    usage: Usage | None = None
    note: str | None = None  # e.g. which @mentions were left as text

    def add(self, event: Event, now: float) -> None:
        if self.first_token is None and not isinstance(event, Usage):
            self.first_token = now
        match event:
            case ReasoningDelta():
                self.reasoning_deltas += 1
                if self.answer_started is None or self.phase != "answering":
                    self.phase = "thinking"  # again, after a tool call
            case ContentDelta() | ToolCallDelta():
                self.answer_deltas += 1
                if self.answer_started is None:
                    self.answer_started = now
                self.phase = "answering" if isinstance(event, ContentDelta) else "calling a tool"
            case ToolStarted(call, _, confirm):
                self.phase = "waiting for you" if confirm else f"running {one_line(call.name, 40)}"
            case ToolFinished():
                self.phase = "waiting for the model"
            case Usage():
                self.usage = event
            case _:
                pass

    @property
    def tokens(self) -> int:
        return self.reasoning_deltas + self.answer_deltas

    def thinking_title(self, now: float) -> str:
        if self.first_token is None:
            return "Thinking"
        end = self.answer_started if self.answer_started is not None else now
        tokens = self.usage.reasoning_tokens if self.usage else 0
        return thinking_summary(end - self.first_token, tokens or self.reasoning_deltas)

    def status_text(self, now: float) -> str:
        parts = [self.phase, f"{now - self.started:.1f} s"]
        if self.phase in ("done", "stopped", "failed") and self.usage:
            usage = f"{self.usage.total_tokens:,} tokens"
            if self.usage.cached_tokens:
                usage += f" ({self.usage.cached_tokens:,} cached)"
            parts.append(usage)
        elif self.tokens:
            parts.append(f"{self.tokens:,} tokens")
            if self.first_token is not None and now > self.first_token:
                parts.append(f"{self.tokens / (now - self.first_token):,.0f} tok/s")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)
