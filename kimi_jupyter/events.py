"""Typed stream events: one small frozen class per kind, joined in the `Event` union."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from ._record import Record


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A fragment of the model's thinking (`reasoning_content`, or vLLM's `reasoning`)."""

    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A fragment of the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call; fragments with the same `index` belong together."""

    index: int
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; `prompt_tokens` already includes `cached_tokens`."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Usage:
        """Read every spelling seen on the wire (top-level or nested cached tokens)."""
        prompt_details = data.get("prompt_tokens_details") or {}
        completion_details = data.get("completion_tokens_details") or {}
        cached = data.get("cached_tokens")
        if cached is None:
            cached = prompt_details.get("cached_tokens")
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=int(data.get("total_tokens") or prompt + completion),
            cached_tokens=int(cached or 0),
            reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        )

    @classmethod
    def total(cls, usages: Iterable[Usage | None]) -> Usage:
        """The sum of several answers' (or steps') counts; missing ones count nothing."""
        counted = [u for u in usages if u is not None]
        return cls(
            prompt_tokens=sum(u.prompt_tokens for u in counted),
            completion_tokens=sum(u.completion_tokens for u in counted),
            total_tokens=sum(u.total_tokens for u in counted),
            cached_tokens=sum(u.cached_tokens for u in counted),
            reasoning_tokens=sum(u.reasoning_tokens for u in counted),
        )

    def to_json(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_json(cls, data: object) -> Usage:
        """The inverse of `to_json` (a missing count is 0)."""
        record = Record.of(data, "usage")
        return cls(**{name: record.integer(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call, echoed back to the API exactly as it arrived."""

    id: str
    name: str
    arguments: str
    type: str = "function"

    def parsed_arguments(self) -> Any:
        return json.loads(self.arguments) if self.arguments.strip() else {}

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_wire(cls, data: object) -> ToolCall:
        """The inverse of `to_wire`, for saved records."""
        record = Record.of(data, "tool call")
        function = record.record("function") or Record({}, f"{record.what}.function")
        return cls(
            record.text("id"),
            function.text("name"),
            function.text("arguments"),
            record.text("type", "function"),
        )


ToolStatus = Literal["ok", "error", "refused", "skipped", "echoed", "not run"]
_TOOL_STATUSES: tuple[ToolStatus, ...] = get_args(ToolStatus)


@dataclass(frozen=True)
class ToolResult:
    """What running one tool call gave: shown as a panel, recorded in the turn.

    `status`: ok (the function returned), error (it raised, or its arguments were invalid:
    the message went back to the model), refused (not a registered tool), skipped (the user
    said no), echoed (`$web_search`, run by Kimi), not run (the step limit was reached).
    `preview` is bounded text for people; the model got the converted content parts.
    """

    call_id: str
    name: str
    arguments: str
    status: ToolStatus
    preview: str = ""
    duration: float = 0.0
    step: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
            "status": self.status,
            "preview": self.preview,
            "duration": self.duration,
            "step": self.step,
        }

    @classmethod
    def from_json(cls, data: object) -> ToolResult:
        """The inverse of `to_json`."""
        record = Record.of(data, "tool result")
        return cls(
            record.text("call_id"),
            record.text("name"),
            record.text("arguments"),
            cast(ToolStatus, record.choice("status", _TOOL_STATUSES)),
            record.text("preview"),
            record.number("duration"),
            record.integer("step", 1),
        )


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """A complete tool call is about to run; `confirm` means the user is asked first."""

    call: ToolCall
    step: int
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool call ended (whatever its status); the next step's deltas follow."""

    result: ToolResult


@dataclass(frozen=True, slots=True)
class StepStarted:
    """After tool calls, the next request of the same answer begins (`step` ≥ 2). The first
    delta of a kind that already had text then starts with `STEP_BREAK`, so the deltas
    always add up to the turn record's text."""

    step: int


STEP_BREAK = "\n\n"


@dataclass(frozen=True, slots=True)
class Done:
    """The stream ended at `data: [DONE]`; `finish_reason` is the last one seen, if any."""

    finish_reason: str | None


Event = (
    ReasoningDelta
    | ContentDelta
    | ToolCallDelta
    | Usage
    | ToolStarted
    | ToolFinished
    | StepStarted
    | Done
)
