"""The tool-call scenario: which tool to call, arguments from its JSON schema, `$web_search`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .directives import Directives, message_text
from .errors import invalid
from .plan import ToolCall, fragment
from .validate import Request

_MAX_DEPTH = 8


def example_value(schema: Any, string: str = "Paris", depth: int = 0) -> Any:
    """Return a value satisfying a simple JSON schema (const/enum first, every property)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return string
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return example_value(schema[key][0], string, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and isinstance(schema.get("properties"), dict):
        kind = "object"
    if kind == "object":
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        return {k: example_value(v, string, depth + 1) for k, v in properties.items()}
    if kind == "array":
        return [example_value(schema.get("items"), string, depth + 1)]
    simple = {"integer": 3, "number": 1.5, "boolean": True, "null": None}
    return simple.get(kind, string) if isinstance(kind, str) else string


def pick_tools(req: Request, wanted: Directives) -> list[dict[str, Any]]:
    """Return the declared tools to call now (in order), or [] to answer in text.

    After the user's message the model calls tools for `tool_steps` rounds (default 1),
    then answers from the results; `tool_choice: "none"` always gets text.
    """
    if not req.tools or req.tool_choice == "none" or req.messages[-1]["role"] == "assistant":
        return []
    if _rounds_since_user(req.messages) >= (wanted.tool_steps or 1):
        return []
    names = wanted.tool.split(",") if wanted.tool else []
    if isinstance(req.tool_choice, dict):
        names = [req.tool_choice["function"]["name"]]
    if not names:
        return [req.tools[0]]
    declared = {tool["function"]["name"]: tool for tool in req.tools}
    missing = [name for name in names if name not in declared]
    if missing:
        raise invalid(
            f"Invalid request: [Kimi simulator] directive tool={missing[0]} names no declared tool"
        )
    return [declared[name] for name in names]


def _rounds_since_user(messages: list[Any]) -> int:
    rounds = 0
    for message in reversed(messages):
        if message["role"] == "user":
            break
        if message["role"] == "assistant" and message.get("tool_calls"):
            rounds += 1
    return rounds


def make_call(req: Request, tool: dict[str, Any], offset: int = 0) -> ToolCall:
    """Build the call to `tool`, with an id in the flavour's style."""
    name: str = tool["function"]["name"]
    if tool["type"] == "builtin_function":
        return _web_search_call(req)
    parameters = tool["function"].get("parameters") or {"type": "object"}
    return call_with(req, name, example_value(parameters), offset)


def call_with(req: Request, name: str, arguments: dict[str, Any], offset: int = 0) -> ToolCall:
    """Build a call to the function `name` with these arguments, streamed in word fragments."""
    previous = sum(len(m.get("tool_calls") or []) for m in req.messages) + offset
    call_id = f"{name}:{previous}"
    if req.flavour in ("vllm", "sglang"):
        call_id = f"functions.{name}:{previous}"  # the native Kimi-K2 ids (KIMI_WIRE §7.3)
    text = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(call_id, "function", name, text, tuple(fragment(text)))


def _web_search_call(req: Request) -> ToolCall:
    """A `$web_search` call shaped like the observed one (KIMI_WIRE §2.7), derived from the
    question so repeated runs give the same ids."""
    digest = hashlib.sha256(message_text(req.messages[-1].get("content")).encode()).hexdigest()
    arguments = json.dumps(
        {
            "search_result": {"search_id": digest[:32]},
            "usage": {"total_tokens": 8000 + int(digest[32:36], 16) % 1000},
        },
        separators=(",", ":"),
    )
    call_id = f"t-web_search-{int(digest[36:46], 16) % 10**12:012d}"
    return ToolCall(call_id, "builtin_function", "$web_search", arguments, (arguments,))


def tool_results(req: Request) -> list[tuple[str, str]]:
    """Return (tool name, result text) for the tool messages that end the conversation."""
    names = {
        str(call.get("id")): call["function"]["name"]
        for message in req.messages
        if message["role"] == "assistant"
        for call in message.get("tool_calls") or []
    }
    start = len(req.messages)
    while start > 0 and req.messages[start - 1]["role"] == "tool":
        start -= 1
    results = []
    for message in req.messages[start:]:
        name = names.get(message["tool_call_id"]) or message.get("name") or "unknown"
        results.append((str(name), message_text(message.get("content"))))
    return results
