"""Deterministic answers that describe what arrived, so tests can assert what a client sent."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from .agents import DEFAULT_CAP, next_move
from .directives import Directives, last_user_text, message_text
from .media import IMAGE_NAMES, Part
from .plan import (
    PREFIX,
    Plan,
    ToolCall,
    Usage,
    apply_budget,
    apply_stop,
    completion_tokens,
    fit,
    fragment,
)
from .toolcalls import call_with, example_value, make_call, pick_tools, tool_results
from .validate import Request

_QUOTE_LIMIT = 200
# Long answers come in paragraphs and long thinking in lines, as real ones do.
_CONTENT_FILLER = (" more", " simulated", " text", " —", " café", ".") * 7 + ("\n\n",)
_REASONING_FILLER = (" Thinking", " it", " over", " once", " more", " —", " déjà", " vu.") * 5 + (
    "\n",
)


@dataclass(frozen=True)
class Composition:
    """The texts of a response before fragmenting: reasoning, answer, tool calls."""

    reasoning: str
    answer: str
    calls: list[ToolCall]


def build_plan(req: Request, wanted: Directives, cached: int) -> Plan:
    """Compose the response, fragment it, then apply chunk counts, `stop` and the token cap."""
    composed = compose(req, wanted)
    reasoning: list[str] = []
    if req.thinking:
        reasoning = fit(fragment(composed.reasoning), wanted.reasoning_chunks, _REASONING_FILLER)
    content: list[str] = []
    if composed.answer or not composed.calls:  # an agent may say something beside its calls
        content = fit(fragment(composed.answer), wanted.chunks, _CONTENT_FILLER)
        content = apply_stop(content, req.stop)
    reasoning, content, calls, finish = apply_budget(
        reasoning, content, composed.calls, req.max_completion_tokens
    )
    completion = completion_tokens(reasoning, content, calls)
    usage = Usage(req.prompt_tokens, cached, completion, len(reasoning))
    return Plan(reasoning, content, calls, finish, usage)


def compose(req: Request, wanted: Directives) -> Composition:
    """Pick the scenario from the last message: tool results, a tool call, or a description."""
    last = req.messages[-1]
    if wanted.agent and last["role"] in ("user", "tool"):
        return _agent_step(req, wanted.agent, wanted.agent_cap)
    tools = pick_tools(req, wanted)
    if tools:
        calls = [make_call(req, tool, k) for k, tool in enumerate(tools)]
        names = ", ".join(call.name for call in calls)
        asked = _quote(last_user_text({"messages": req.messages}), 80)
        reasoning = (
            f"The user asked: {asked}. The {names} tool(s) can answer that, so I will call "
            "them with arguments built from their schemas."
        )
        return Composition(reasoning, "", calls)
    if last["role"] == "tool":
        return _after_tools(req)
    if last["role"] == "assistant" and last.get("partial"):
        size = len(message_text(last.get("content")))
        answer = f"{PREFIX} continuing your partial answer ({size} chars) — prefix not repeated."
        return Composition("The assistant message is a prefix; I continue it.", answer, [])
    return Composition(_reasoning(req), _json_wrap(req, _describe(req)), [])


def _agent_step(req: Request, policy: str, cap: int | None) -> Composition:
    """The next step of a scripted agent: its calls and what it says beside them, or its answer."""
    declared = set() if req.tool_choice == "none" else {t["function"]["name"] for t in req.tools}
    move = next_move(policy, req.messages, declared, DEFAULT_CAP if cap is None else cap)
    calls = [call_with(req, name, arguments, k) for k, (name, arguments) in enumerate(move.calls)]
    return Composition(
        move.reasoning, move.content if calls else _json_wrap(req, move.content), calls
    )


def _after_tools(req: Request) -> Composition:
    lines = []
    for name, text in tool_results(req):
        if name == "$web_search":
            lines.append(
                f"I searched the web (search_id {_search_id(text)}) — being a simulator, "
                "I found nothing real, but the $web_search round trip worked."
            )
        else:
            lines.append(f"Tool {name} returned: {_clip(text)}")
    reasoning = f"{len(lines)} tool result(s) arrived. I will report them to the user."
    return Composition(reasoning, _json_wrap(req, f"{PREFIX} " + "\n".join(lines)), [])


def _search_id(arguments: str) -> str:
    try:
        return str(json.loads(arguments)["search_result"]["search_id"])
    except (ValueError, KeyError, TypeError):
        return "unknown"


def _describe(req: Request) -> str:
    """Describe the request: messages, roles, thinking, and the last user message in detail."""
    roles = [m["role"] for m in req.messages]
    lines = [
        f"{PREFIX} Received {_plural(len(roles), 'message')} ({_roles(roles)}) — "
        f"thinking {_mode(req)}.",
        _system_line(req),
    ]
    user = next((i for i in range(len(roles) - 1, -1, -1) if roles[i] == "user"), None)
    if user is None:
        lines.append("There is no user message.")
    else:
        lines.extend(_user_lines(user, req.parts[user]))
    total = sum(len(p.text) for parts in req.parts for p in parts)
    lines.append(f"Text in all messages: {total} chars.")
    if req.tools:
        names = ", ".join(t["function"]["name"] for t in req.tools)
        lines.append(f"Tools declared: {names} (tool_choice {req.tool_choice or 'auto'}).")
    lines.append(f"Estimated prompt tokens: {req.prompt_tokens}.")
    return "\n".join(lines)


def _user_lines(index: int, parts: list[Part]) -> list[str]:
    kinds = Counter(p.kind for p in parts)
    lines = [
        f"Last user message (messages[{index}]): {_plural(kinds['text'], 'text part')}, "
        f"{_plural(kinds['image'], 'image')}, {_plural(kinds['video'], 'video')}."
    ]
    numbers: Counter[str] = Counter()
    for part in parts:
        numbers[part.kind] += 1
        lines.append(f"{part.kind.capitalize()} {numbers[part.kind]}: {_describe_part(part)}")
    chars = sum(len(p.text) for p in parts)
    lines.append(f"Text in the last user message: {chars} chars.")
    return lines


def _describe_part(part: Part) -> str:
    if part.kind == "text":
        return _quote(part.text, _QUOTE_LIMIT)
    if part.ref:
        return f"{part.ref} (file reference)."
    if part.kind == "video":
        return f"{part.mime}, {part.nbytes} bytes."
    size = f"{part.size[0]}×{part.size[1]} pixels" if part.size else "size unreadable"
    return f"{IMAGE_NAMES[part.mime]}, {size}, {part.nbytes} bytes."


def _reasoning(req: Request) -> str:
    kinds = Counter(p.kind for parts in req.parts for p in parts)
    return (
        f"The user sent {_plural(len(req.messages), 'message')} with "
        f"{_plural(kinds['image'], 'image')} and {_plural(kinds['video'], 'video')} in all. "
        "I am the Kimi simulator, so I will describe exactly what arrived — nothing more."
    )


def _json_wrap(req: Request, text: str) -> str:
    """In JSON mode the answer must parse, so the description goes inside a JSON value."""
    spec = req.response_format or {}
    if spec.get("type") == "json_object":
        return json.dumps({"simulator": PREFIX, "description": text}, ensure_ascii=False)
    if spec.get("type") == "json_schema":
        value = example_value(spec["json_schema"]["schema"], string=PREFIX)
        return json.dumps(value, ensure_ascii=False)
    return text


def _system_line(req: Request) -> str:
    systems = [i for i, m in enumerate(req.messages) if m["role"] == "system"]
    if not systems:
        return "System message: none."
    chars = sum(len(p.text) for i in systems for p in req.parts[i])
    return f"System message: yes ({_plural(len(systems), 'message')}, {chars} chars)."


def _roles(roles: list[str]) -> str:
    if len(roles) <= 12:
        return ", ".join(roles)
    counts = Counter(roles)
    return ", ".join(f"{role} ×{counts[role]}" for role in sorted(counts))


def _mode(req: Request) -> str:
    if not req.thinking:
        return "disabled"
    return "enabled, keep=all" if req.keep_all else "enabled"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _clip(text: str, limit: int = _QUOTE_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _quote(text: str, limit: int) -> str:
    return json.dumps(_clip(text, limit), ensure_ascii=False)
