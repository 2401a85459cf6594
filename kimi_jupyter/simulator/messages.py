"""Validation of `messages`: roles, content parts, media, tool calls and tool results."""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .media import IMAGE_NAMES, Part, decode_data_url, image_size, sniff

ROLES = ("system", "user", "assistant", "tool")
EMPTY = "Invalid request: content must not be empty"


def check_messages(messages: Any, thinking: bool) -> list[list[Part]]:
    """Validate every message and return its content parts (a string is one text part)."""
    if not isinstance(messages, list) or not messages:
        raise invalid("Invalid request: messages must be a non-empty array")
    parts = [_check_message(i, m, thinking) for i, m in enumerate(messages)]
    _check_web_search_echo(messages)
    return parts


def _check_message(i: int, message: Any, thinking: bool) -> list[Part]:
    if not isinstance(message, dict):
        raise invalid(f"Invalid request: messages[{i}] must be an object")
    role = message.get("role")
    if role not in ROLES:
        raise invalid(
            f"Invalid request: invalid role {role!r} at messages[{i}]; "
            "expected one of system, user, assistant, tool"
        )
    parts = _parts(i, message.get("content"))
    has_calls = role == "assistant" and _check_tool_calls(i, message, thinking)
    # A replayed tool-call turn has content "" or none; a turn truncated inside its
    # reasoning (finish_reason "length") comes back with content "" too.
    excused = has_calls or (role == "assistant" and _has_reasoning(message))
    if not excused and not any(p.kind != "text" or p.text for p in parts):
        raise invalid(EMPTY)
    if role == "tool" and not (
        isinstance(message.get("tool_call_id"), str) and message["tool_call_id"]
    ):
        raise invalid(
            f"Invalid request: tool_call_id is required for tool messages (messages[{i}])"
        )
    return parts


def _has_reasoning(message: dict[str, Any]) -> bool:
    return bool(message.get("reasoning_content")) or bool(message.get("partial"))


def _parts(i: int, content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Part("text", text=content)]
    if not isinstance(content, list):
        raise invalid(
            f"Invalid request: messages[{i}].content must be a string or an array of parts"
        )
    return [_part(f"messages[{i}].content[{j}]", p) for j, p in enumerate(content)]


def _part(where: str, part: Any) -> Part:
    kind = part.get("type") if isinstance(part, dict) else None
    if not isinstance(part, dict) or kind not in ("text", "image_url", "video_url"):
        raise invalid(
            f"Invalid request: unsupported content part type {kind!r} at {where}; "
            "expected text, image_url or video_url"
        )
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise invalid(f"Invalid request: {where}.text must be a string")
        return Part("text", text=part["text"])
    value = part.get(kind)
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str) or not url:
        raise invalid(f"Invalid request: {where}.{kind}.url must be a non-empty string")
    return _image(url) if kind == "image_url" else _video(url)


def _image(url: str) -> Part:
    if url.startswith("ms://"):
        return Part("image", ref=url)
    decoded = decode_data_url(url)
    # http(s) URLs are not fetched by Kimi; the URL text itself then sniffs as text/plain.
    data = decoded[1] if decoded else url.encode()
    mime = sniff(data)
    if decoded is None or mime not in IMAGE_NAMES:
        raise invalid(f"Invalid request: unsupported image format: {mime}")
    return Part("image", mime=mime, size=image_size(data, mime), nbytes=len(data))


def _video(url: str) -> Part:
    if url.startswith("ms://"):
        return Part("video", ref=url)
    decoded = decode_data_url(url)
    if decoded is None or not decoded[0].startswith("video/"):
        # [UNVERIFIED] message, modelled on the image one.
        declared = decoded[0] if decoded else sniff(url.encode())
        raise invalid(f"Invalid request: unsupported video format: {declared}")
    return Part("video", mime=decoded[0], nbytes=len(decoded[1]))


def _check_tool_calls(i: int, message: dict[str, Any], thinking: bool) -> bool:
    calls = message.get("tool_calls")
    if calls is None:
        return False
    if not isinstance(calls, list):
        raise invalid(f"Invalid request: messages[{i}].tool_calls must be an array")
    for k, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid(
                f"Invalid request: messages[{i}].tool_calls[{k}].function.name is missing"
            )
        if not isinstance(function.get("arguments"), str):
            raise invalid(
                f"Invalid request: messages[{i}].tool_calls[{k}].function.arguments "
                "must be a JSON string"
            )
    if calls and thinking and message.get("reasoning_content") is None:
        raise invalid(
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            f"message at index {i}"
        )
    return bool(calls)


def builtin_calls(messages: list[Any]) -> dict[str, dict[str, Any]]:
    """Map tool_call_id → tool call for every `$web_search` call the assistant made."""
    found: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            if call["function"]["name"] == "$web_search" or call.get("type") == "builtin_function":
                found[str(call.get("id"))] = call
    return found


def _check_web_search_echo(messages: list[Any]) -> None:
    """Kimi needs `$web_search` arguments sent back unchanged (KIMI_WIRE §2.7)."""
    calls = builtin_calls(messages)
    for i, message in enumerate(messages):
        call = calls.get(str(message.get("tool_call_id"))) if message["role"] == "tool" else None
        if call is None:
            continue
        if message.get("name") != "$web_search":
            raise invalid(
                f'Invalid request: tool message for $web_search must have name "$web_search" '
                f"(messages[{i}])"
            )
        if message.get("content") != call["function"]["arguments"]:
            # [UNVERIFIED] message: Kimi's wording for an altered echo is unknown.
            raise invalid(
                "Invalid request: $web_search tool message content must be the tool call "
                f"arguments sent back unchanged (messages[{i}])"
            )
