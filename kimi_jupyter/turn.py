"""What one exchange produced (`Turn`), and the fold that builds it from events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .events import (
    ContentDelta,
    Done,
    Event,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    ToolResult,
    Usage,
)

__all__ = ["Status", "Timings", "ToolCall", "ToolResult", "Turn", "TurnBuilder"]

Status = Literal["done", "stopped", "failed"]


@dataclass(frozen=True)
class Timings:
    """Seconds from the request: to the first byte, to the first answer token, to the end."""

    first_token: float | None = None
    reasoning: float | None = None
    total: float = 0.0

    def to_json(self) -> dict[str, float | None]:
        return {"first_token": self.first_token, "reasoning": self.reasoning, "total": self.total}


@dataclass(frozen=True)
class Turn:
    """One answer from the model, with its thinking, tool calls, usage and timings."""

    answer: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str = ""
    response_id: str | None = None
    timings: Timings = field(default_factory=Timings)
    status: Status = "done"
    error: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.answer

    def to_json(self) -> dict[str, Any]:
        """The turn record (no secrets, no media bytes)."""
        return {
            "id": self.id,
            "model": self.model,
            "answer": self.answer,
            "reasoning": self.reasoning,
            "tool_calls": [call.to_wire() for call in self.tool_calls],
            "tool_results": [result.to_json() for result in self.tool_results],
            "usage": self.usage.to_json() if self.usage else None,
            "timings": self.timings.to_json(),
            "finish_reason": self.finish_reason,
            "status": self.status,
            "error": self.error,
            "response_id": self.response_id,
            "meta": dict(self.meta),
        }


class TurnBuilder:
    """Folds events into a `Turn`; `build()` works at any moment, so partial turns survive."""

    def __init__(self, model: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.model = model
        self.response_id: str | None = None
        self._clock = clock
        self._start = clock()
        self._first_token: float | None = None
        self._reasoning_end: float | None = None
        self._answer: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, str]] = {}
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.done = False

    def add(self, event: Event) -> None:
        match event:
            case ReasoningDelta(text):
                self._mark_first()
                self._reasoning.append(text)
            case ContentDelta(text):
                self._mark_first()
                if self._reasoning_end is None:
                    self._reasoning_end = self._clock()
                self._answer.append(text)
            case ToolCallDelta():
                self._mark_first()
                self._add_call(event)
            case Usage():
                self.usage = event
            case Done(finish_reason):
                self.finish_reason = finish_reason or self.finish_reason
                self.done = True

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def build(self, status: Status = "done", error: str | None = None) -> Turn:
        now = self._clock()
        reasoning_time = None
        if self._first_token is not None and self._reasoning:
            reasoning_time = (self._reasoning_end or now) - self._first_token
        timings = Timings(
            first_token=None if self._first_token is None else self._first_token - self._start,
            reasoning=reasoning_time,
            total=now - self._start,
        )
        return Turn(
            answer=self.answer,
            reasoning=self.reasoning,
            tool_calls=tuple(self._finished_calls()),
            usage=self.usage,
            finish_reason=self.finish_reason,
            model=self.model,
            response_id=self.response_id,
            timings=timings,
            status=status,
            error=error,
        )

    def _mark_first(self) -> None:
        if self._first_token is None:
            self._first_token = self._clock()

    def _add_call(self, delta: ToolCallDelta) -> None:
        call = self._calls.setdefault(delta.index, {"id": "", "type": "", "name": "", "args": ""})
        if delta.id:
            call["id"] = delta.id
        if delta.type:
            call["type"] = delta.type
        if delta.name:
            call["name"] = delta.name
        call["args"] += delta.arguments

    def _finished_calls(self) -> list[ToolCall]:
        return [
            ToolCall(
                id=c["id"] or f"call_{i}",
                name=c["name"],
                arguments=c["args"],
                type=c["type"] or "function",
            )
            for i, c in sorted(self._calls.items())
        ]
