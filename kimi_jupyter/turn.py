"""What one exchange produced (`Turn`), and the fold that builds it from events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from ._record import Record
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
_STATUSES: tuple[Status, ...] = get_args(Status)


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Timings:
    """Seconds from the request: to the first byte, to the first answer token, to the end."""

    first_token: float | None = None
    reasoning: float | None = None
    total: float = 0.0

    def to_json(self) -> dict[str, float | None]:
        return {"first_token": self.first_token, "reasoning": self.reasoning, "total": self.total}

    @classmethod
    def from_json(cls, data: object) -> Timings:
        """The inverse of `to_json`."""
        record = Record.of(data, "timings")
        return cls(
            record.optional_number("first_token"),
            record.optional_number("reasoning"),
            record.number("total"),
        )


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
    id: str = field(default_factory=_new_id)
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

    @classmethod
    def from_json(cls, data: object) -> Turn:
        """The inverse of `to_json`: `Turn.from_json(t.to_json()) == t`.

        Keys a record lacks (older versions wrote fewer) get their defaults, unknown keys
        (`session`, `version`) are ignored, a value of the wrong type is a `KimiError`.
        """
        record = Record.of(data, "turn")
        usage, timings = record.record("usage"), record.record("timings")
        return cls(
            answer=record.text("answer"),
            reasoning=record.text("reasoning"),
            tool_calls=tuple(ToolCall.from_wire(c) for c in record.records("tool_calls")),
            tool_results=tuple(ToolResult.from_json(r) for r in record.records("tool_results")),
            usage=None if usage is None else Usage.from_json(usage),
            finish_reason=record.optional_text("finish_reason"),
            model=record.text("model"),
            response_id=record.optional_text("response_id"),
            timings=Timings() if timings is None else Timings.from_json(timings),
            status=cast(Status, record.choice("status", _STATUSES)),
            error=record.optional_text("error"),
            id=record.text("id") or _new_id(),
            meta=record.mapping("meta"),
        )


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
