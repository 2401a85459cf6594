"""Chat-completion payloads (streamed chunks or whole responses) → typed events.

Framing (`data:` lines, comments, CRLF, split reads) is httpx-sse's job; this module reads
the JSON inside, tolerating every variant seen on the wire (KIMI_WIRE.md §4, §7): usage at
the top level, in `choices[0]` or in a trailing `choices: []` chunk; vLLM's `reasoning`;
SGLang's explicit nulls; tool-call fragments with or without `index`. A field of the wrong
type (`choices: [null]`, a number as `content`, words as a token count) is a `StreamError`
naming the field and the kind of value, never the value itself (it may hold anything).
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
            raise StreamError(f"{_CHUNK}: a data line is not JSON") from None
        if not isinstance(chunk, dict):
            raise StreamError(f"{_CHUNK}: the chunk is {_kind(chunk)}, not an object")
        return self.chunk_events(chunk)

    def chunk_events(self, chunk: Mapping[str, Any]) -> list[Event]:
        error = chunk.get("error")
        if error:
            raise StreamError(f"the stream reported an error: {_describe(error)}")
        try:
            return self._events(chunk)
        except _BadShape as exc:
            raise StreamError(f"{_CHUNK}: {exc}") from None

    def _events(self, chunk: Mapping[str, Any]) -> list[Event]:
        if self.response_id is None:
            self.response_id = _text(chunk, "id", "")
            self.model = _text(chunk, "model", "")
        events: list[Event] = []
        usage = chunk.get("usage")
        for position, choice in enumerate(_items(chunk, "choices", "")):
            where = f"choices[{position}]"
            if not isinstance(choice, Mapping):
                raise _BadShape(f"{where} is {_kind(choice)}, not an object")
            if _index(choice.get("index"), where):
                continue  # n is fixed at 1; ignore anything else defensively
            _delta_events(_object(choice, "delta", where), events, f"{where}.delta")
            finish = _text(choice, "finish_reason", where)
            self.finish_reason = finish or self.finish_reason
            usage = usage or choice.get("usage")
        if usage:
            events.append(_usage(usage))
        return events


def completion_events(body: Mapping[str, Any]) -> list[Event]:
    """Events for a whole (non-streamed) `chat.completion`, so both paths fold alike."""
    if not isinstance(body, Mapping):
        raise StreamError(f"malformed response: it is {_kind(body)}, not a chat completion")
    if body.get("error"):
        raise StreamError(f"the response reported an error: {_describe(body['error'])}")
    try:
        return _completion_events(body)
    except _BadShape as exc:
        raise StreamError(f"malformed response: {exc}") from None


def _completion_events(body: Mapping[str, Any]) -> list[Event]:
    events: list[Event] = []
    finish_reason = None
    choices = _items(body, "choices", "")
    if choices:
        choice = choices[0]
        if not isinstance(choice, Mapping):
            raise _BadShape(f"choices[0] is {_kind(choice)}, not an object")
        _delta_events(_object(choice, "message", "choices[0]"), events, "choices[0].message")
        finish_reason = _text(choice, "finish_reason", "choices[0]")
    if body.get("usage"):
        events.append(_usage(body["usage"]))
    events.append(Done(finish_reason))
    return events


def _delta_events(delta: Mapping[str, Any], events: list[Event], where: str) -> None:
    reasoning = _text(delta, "reasoning_content", where) or _text(delta, "reasoning", where)
    if reasoning:
        events.append(ReasoningDelta(reasoning))
    content = _text(delta, "content", where)
    if content:
        events.append(ContentDelta(content))
    calls = _items(delta, "tool_calls", where)
    if calls:
        events.extend(_tool_call_deltas(calls, f"{where}.tool_calls"))


def _tool_call_deltas(calls: Sequence[Any], where: str) -> list[ToolCallDelta]:
    deltas = []
    for position, call in enumerate(calls):
        at = f"{where}[{position}]"
        if not isinstance(call, Mapping):
            raise _BadShape(f"{at} is {_kind(call)}, not an object")
        index = call.get("index")
        function = _object(call, "function", at)
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)  # some gateways send objects
        deltas.append(
            ToolCallDelta(
                index=position if index is None else _index(index, at),
                id=_text(call, "id", at),
                type=_text(call, "type", at),
                name=_text(function, "name", f"{at}.function"),
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


_CHUNK = "malformed chunk in the stream"


class _BadShape(Exception):  # noqa: N818 - turned into a StreamError by the entry points
    """A field of the wrong type: "choices[0].delta.content is a number, not text"."""


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    """`null`, `a number`, `a list`…: what a JSON value is, never what it holds."""
    if value is None:
        return "null"
    kinds = ((bool, "a boolean"), (int | float, "a number"), (str, "text"), (list, "a list"))
    return next((name for cls, name in kinds if isinstance(value, cls)), "an object")


def _text(holder: Mapping[str, Any], key: str, where: str) -> str | None:
    value = holder.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _BadShape(f"{_at(where, key)} is {_kind(value)}, not text")


def _object(holder: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = holder.get(key)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise _BadShape(f"{_at(where, key)} is {_kind(value)}, not an object")


def _items(holder: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = holder.get(key)
    if value is None:
        return ()
    if isinstance(value, list):
        return value
    raise _BadShape(f"{_at(where, key)} is {_kind(value)}, not a list")


def _index(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _BadShape(f"{where}.index is {_kind(value)}, not a whole number")


def _usage(value: Any) -> Usage:
    if not isinstance(value, Mapping):
        raise _BadShape(f"the usage is {_kind(value)}, not an object")
    try:
        return Usage.from_wire(value)
    except (TypeError, ValueError, OverflowError, AttributeError):
        raise _BadShape("the usage holds a token count that is not a number") from None
