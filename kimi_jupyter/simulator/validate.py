"""Request validation with the real error bodies (KIMI_WIRE §2, §6, §10.1-7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import invalid, not_found_model
from .media import Part
from .messages import check_messages
from .tokens import CONTEXT_WINDOW, message_tokens, tools_tokens

MODEL = "kimi-k2.6"
SELF_HOSTED_MODEL = "moonshotai/Kimi-K2.6"
_TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$")
# kimi-k2.6 fixes these; anything else is a 400 (KIMI_WIRE §2). Temperature depends on thinking.
_FIXED = (("top_p", 0.95), ("presence_penalty", 0.0), ("frequency_penalty", 0.0), ("n", 1))


@dataclass(frozen=True)
class Request:
    """A validated chat-completions request, with what the simulator worked out about it."""

    body: dict[str, Any]
    model: str
    flavour: str
    messages: list[dict[str, Any]]
    parts: list[list[Part]]
    thinking: bool
    keep_all: bool
    stream: bool
    include_usage: bool
    max_completion_tokens: int | None
    stop: tuple[str, ...]
    tools: list[dict[str, Any]]
    tool_choice: Any
    response_format: dict[str, Any] | None
    prompt_tokens: int
    message_costs: list[int]


def validate(body: dict[str, Any], flavour: str) -> Request:
    """Check `body` as Kimi (or a self-hosted server, per `flavour`) would; raise ApiError."""
    model = body.get("model")
    self_hosted = flavour in ("vllm", "sglang")
    allowed = (MODEL, SELF_HOSTED_MODEL) if self_hosted else (MODEL,)
    if model not in allowed:
        raise not_found_model(model)
    thinking, keep_all = _self_hosted_thinking(body) if self_hosted else _thinking(body)
    if not self_hosted:  # vLLM/SGLang accept any sampling values and tool_choice
        _check_sampling(body, thinking)
    tools = _tools(body.get("tools"))
    tool_choice = _tool_choice(body.get("tool_choice"), tools, thinking and not self_hosted)
    parts = check_messages(body.get("messages"), thinking and not self_hosted)
    messages: list[dict[str, Any]] = body["messages"]
    costs = [message_tokens(m, p, keep_all) for m, p in zip(messages, parts, strict=True)]
    prompt = 3 + sum(costs) + tools_tokens(tools)
    limit = _max_completion_tokens(body.get("max_completion_tokens"))
    if prompt + (limit or 0) > CONTEXT_WINDOW:
        raise invalid(
            f"Invalid request: Your request exceeded model token limit: {CONTEXT_WINDOW} "
            f"(requested: {prompt + (limit or 0)})"
        )
    return Request(
        body=body,
        model=str(model),
        flavour=flavour,
        messages=messages,
        parts=parts,
        thinking=thinking,
        keep_all=keep_all,
        stream=_flag(body, "stream"),
        include_usage=_include_usage(body.get("stream_options")),
        max_completion_tokens=limit,
        stop=_stop(body.get("stop")),
        tools=tools,
        tool_choice=tool_choice,
        response_format=_response_format(body.get("response_format")),
        prompt_tokens=prompt,
        message_costs=costs,
    )


def _thinking(body: dict[str, Any]) -> tuple[bool, bool]:
    # [UNVERIFIED] messages for a malformed `thinking`; only the rules are documented.
    thinking = body.get("thinking")
    if thinking is None:
        return True, False
    if not isinstance(thinking, dict):
        raise invalid("Invalid request: thinking must be an object")
    for key in thinking:
        if key not in ("type", "keep"):
            raise invalid(f"Invalid request: thinking: unknown field {key!r}")
    if thinking.get("type") not in ("enabled", "disabled"):
        raise invalid('Invalid request: thinking.type must be "enabled" or "disabled"')
    if thinking.get("keep") not in (None, "all"):
        raise invalid('Invalid request: thinking.keep must be null or "all"')
    return thinking["type"] == "enabled", thinking.get("keep") == "all"


def _self_hosted_thinking(body: dict[str, Any]) -> tuple[bool, bool]:
    """vLLM/SGLang ignore `thinking` and read `chat_template_kwargs.thinking` (default on)."""
    kwargs = body.get("chat_template_kwargs")
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    return kwargs.get("thinking", True) is not False, bool(kwargs.get("preserve_thinking"))


def _check_sampling(body: dict[str, Any], thinking: bool) -> None:
    for name, fixed in (("temperature", 1.0 if thinking else 0.6), *_FIXED):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != fixed:
            raise invalid(f"invalid {name}: only {fixed:g} is allowed for this model")


def _tools(tools: Any) -> list[dict[str, Any]]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("Invalid request: tools must be an array")
    names: set[str] = set()
    for k, tool in enumerate(tools):
        name = _tool_name(k, tool)
        if name in names:
            raise invalid(f"Invalid request: function name {name} is duplicated")
        names.add(name)
    return tools


def _tool_name(k: int, tool: Any) -> str:
    function = tool.get("function") if isinstance(tool, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    kind = tool.get("type") if isinstance(tool, dict) else None
    if kind == "builtin_function":
        if name != "$web_search":
            raise invalid(f"Invalid request: unknown builtin function {name!r} in tools[{k}]")
        return "$web_search"
    if kind != "function" or not isinstance(name, str):
        raise invalid(
            f"Invalid request: tools[{k}] must be a function "
            '({"type": "function", "function": {"name": ...}}) or $web_search'
        )
    if not _TOOL_NAME.match(name):
        raise invalid(
            f"Invalid request: function name {name!r} is invalid: "
            f"it must match {_TOOL_NAME.pattern}"
        )
    if not isinstance(function.get("parameters", {}), dict):  # type: ignore[union-attr]
        raise invalid(f"Invalid request: tools[{k}].function.parameters must be an object")
    return name


def _tool_choice(choice: Any, tools: list[dict[str, Any]], thinking: bool) -> Any:
    if choice is None or choice in ("auto", "none"):
        return choice
    if choice == "required":
        if thinking:
            raise invalid("tool_choice 'required' is incompatible with thinking enabled")
        return choice
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if name is None or name not in {t["function"]["name"] for t in tools}:
        raise invalid(
            f"Invalid request: tool_choice must be auto, none, required or a declared "
            f"function, got {choice!r}"
        )
    return choice


def _stop(stop: Any) -> tuple[str, ...]:
    # [UNVERIFIED] messages: only the limits (5 strings, 32 bytes each) are documented.
    values = [stop] if isinstance(stop, str) else stop
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(s, str) for s in values):
        raise invalid("Invalid request: stop must be a string or an array of strings")
    if len(values) > 5:
        raise invalid(f"Invalid request: stop must have at most 5 strings, got {len(values)}")
    for value in values:
        if len(value.encode()) > 32:
            raise invalid(f"Invalid request: stop string {value!r} is longer than 32 bytes")
    return tuple(v for v in values if v)


def _max_completion_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("Invalid request: max_completion_tokens must be an integer >= 1")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool) and value is not None:
        raise invalid(f"Invalid request: {name} must be a boolean")
    return bool(value)


def _include_usage(options: Any) -> bool:
    if options is None:
        return False
    if not isinstance(options, dict):
        raise invalid("Invalid request: stream_options must be an object")
    return bool(options.get("include_usage"))


def _response_format(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise invalid(
            "Invalid request: response_format.type must be text, json_object or json_schema"
        )
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise invalid("Invalid request: response_format.json_schema.schema must be an object")
    return value  # type: ignore[no-any-return]
