"""Chat-completion payloads (streamed chunks or whole responses) → typed events.

Framing (`data:` lines, comments, CRLF, split reads) is httpx-sse's job; this module reads
the JSON inside, tolerating every variant seen on the wire (KIMI_WIRE.md §4, §7): usage at
the top level, in `choices[0]` or in a trailing `choices: []` chunk; vLLM's `reasoning`;
SGLang's explicit nulls; tool-call fragments with or without `index`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import StreamError
from .events import ContentDelta, Done, Event, ReasoningDelta, ToolCallDelta, Usage

DONE_MARKER = "[DONE]"


class ChunkParser:
    """Reads the `data` of each SSE event in order; remembers what spans chunks."""

    __slots__ = ("done", "finish_reason", "model", "response_id")

    def __init__(self) -> None:
        self.done = False
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.response_id: str | None = None

    def feed(self, data: str) -> list[Event]:
        """Events for one SSE `data` payload; raises `StreamError` for bad or error frames."""
        if data == DONE_MARKER:
            self.done = True
            return [Done(self.finish_reason)]
        try:
            chunk = json.loads(data)
        except ValueError:
            raise StreamError(f"malformed chunk in the stream: {data[:80]!r}") from None
        if not isinstance(chunk, dict):
            raise StreamError(f"unexpected chunk in the stream: {data[:80]!r}")
        return self.chunk_events(chunk)

    def chunk_events(self, chunk: Mapping[str, Any]) -> list[Event]:
        error = chunk.get("error")
        if error:
            raise StreamError(f"the stream reported an error: {_describe(error)}")
        if self.response_id is None:
            self.response_id = chunk.get("id")
            self.model = chunk.get("model")
        events: list[Event] = []
        usage = chunk.get("usage")
        for choice in chunk.get("choices") or ():
            if choice.get("index") or 0:
                continue  # n is fixed at 1; ignore anything else defensively
            _delta_events(choice.get("delta") or {}, events)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            usage = usage or choice.get("usage")
        if usage:
            events.append(Usage.from_wire(usage))
        return events


def completion_events(body: Mapping[str, Any]) -> list[Event]:
    """Events for a whole (non-streamed) `chat.completion`, so both paths fold alike."""
    if body.get("error"):
        raise StreamError(f"the response reported an error: {_describe(body['error'])}")
    events: list[Event] = []
    finish_reason = None
    choices = body.get("choices") or ()
    if choices:
        choice = choices[0]
        _delta_events(choice.get("message") or {}, events)
        finish_reason = choice.get("finish_reason")
    if body.get("usage"):
        events.append(Usage.from_wire(body["usage"]))
    events.append(Done(finish_reason))
    return events


def _delta_events(delta: Mapping[str, Any], events: list[Event]) -> None:
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if reasoning:
        events.append(ReasoningDelta(reasoning))
    content = delta.get("content")
    if content:
        events.append(ContentDelta(content))
    calls = delta.get("tool_calls")
    if calls:
        events.extend(_tool_call_deltas(calls))


def _tool_call_deltas(calls: Sequence[Mapping[str, Any]]) -> list[ToolCallDelta]:
    deltas = []
    for position, call in enumerate(calls):
        index = call.get("index")
        function = call.get("function") or {}
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)  # some gateways send objects
        deltas.append(
            ToolCallDelta(
                index=position if index is None else int(index),
                id=call.get("id"),
                type=call.get("type"),
                name=function.get("name"),
                arguments=arguments or "",
            )
        )
    return deltas


def _describe(error: Any) -> str:
    if isinstance(error, Mapping):
        message = error.get("message") or "no message"
        kind = error.get("type") or error.get("code")
        return f"{message} ({kind})" if kind else str(message)
    return str(error)
