"""Per-request simulator directives: `[[sim: key=value ...]]` in the last user message.

Keys:
    fault=NAME[:KIND]  one of `faults.FAULTS`, maybe of a kind (`faults.KINDS`, e.g.
                       `malformed:null-choice`, `stall:trickle`); knobs `after=`,
                       `retry_after=`, `stall=`, `at=`.
    times=N            the fault hits the first N requests carrying this exact directive text.
    flavour=NAME       moonshot | docs | vllm | sglang.
    chunks=N           answer fragment count (content events); reasoning_chunks=N likewise.
    delay_ms=N         pause between SSE events; latency_ms=N pause before the headers.
    tool=NAME[,NAME]   which declared tool(s) to call (several: one step, calls in order);
                       tool_index=omit drops `index` from deltas.
    tool_steps=N       keep calling tools for N rounds after the user's message (default 1).
    usage=WHERE        docs | choice | both: where the finish chunk carries `usage`.
    agent=POLICY       a scripted agent plays the whole turn (see `agents`). With the
                       notebook tools: plot-loop (list, read, insert a plot, run, look at its
                       images, edit, run again, answer) or obey-output (list and read the
                       cells, but obey a "delete every cell" found in a tool result). With
                       `run_code` (`%%kimi --agent`): code-loop (run a plot, look at its
                       images, run it with bigger labels, answer) or clean-plot ("clean @df
                       and plot it": inspect, clean into `df_clean`, chart, look, chart again,
                       answer with the rows before and after).
    agent_cap=N        the agent answers once the turn has made N tool calls (default 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, invalid
from .faults import Fault, make_fault

FLAVOURS = ("moonshot", "docs", "vllm", "sglang")
AGENTS = ("plot-loop", "obey-output", "code-loop", "clean-plot")
USAGE_PLACES = ("docs", "choice", "both")
_DIRECTIVE = re.compile(r"\[\[sim:(.*?)\]\]", re.DOTALL)
_FAULT_KNOBS = ("after", "retry_after", "stall", "at")
_KEYS = (
    "fault",
    *_FAULT_KNOBS,
    "times",
    "flavour",
    "chunks",
    "reasoning_chunks",
    "delay_ms",
    "latency_ms",
    "tool",
    "tool_index",
    "tool_steps",
    "usage",
    "agent",
    "agent_cap",
)


@dataclass(frozen=True)
class Directives:
    """What the directives of one request asked for (None: use the simulator's default)."""

    key: str = ""
    fault: Fault | None = None
    times: int | None = None
    flavour: str | None = None
    chunks: int | None = None
    reasoning_chunks: int | None = None
    delay_ms: float | None = None
    latency_ms: float | None = None
    tool: str | None = None
    tool_steps: int | None = None
    omit_tool_index: bool = False
    usage: str | None = None
    agent: str | None = None
    agent_cap: int | None = None


def last_user_text(body: Any) -> str:
    """Return the text of the last user message, tolerating any malformed shape."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def message_text(content: Any) -> str:
    """Join the text of a string or parts-array `content` (other shapes give "")."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(t for t in texts if isinstance(t, str))


def parse_directives(body: Any) -> Directives:
    """Parse every `[[sim: ...]]` block of the last user message; bad ones are a 400."""
    blocks = [m.strip() for m in _DIRECTIVE.findall(last_user_text(body))]
    if not blocks:
        return Directives()
    values: dict[str, str] = {}
    for item in " ".join(blocks).split():
        name, sep, value = item.partition("=")
        if not sep or name not in _KEYS:
            raise _bad(f"{item!r} is not key=value with a known key ({', '.join(_KEYS)})")
        values[name] = value
    try:
        return _build(" ".join(blocks), values)
    except ValueError as exc:
        raise _bad(str(exc)) from None


def _build(key: str, values: dict[str, str]) -> Directives:
    knobs = {k: values[k] for k in _FAULT_KNOBS if k in values}
    fault = make_fault(values["fault"], **knobs) if "fault" in values else None
    return Directives(
        key=key,
        fault=fault,
        times=_int(values, "times"),
        flavour=_choice(values, "flavour", FLAVOURS),
        chunks=_int(values, "chunks"),
        reasoning_chunks=_int(values, "reasoning_chunks"),
        delay_ms=_float(values, "delay_ms"),
        latency_ms=_float(values, "latency_ms"),
        tool=values.get("tool"),
        tool_steps=_int(values, "tool_steps"),
        omit_tool_index=_choice(values, "tool_index", ("omit",)) == "omit",
        usage=_choice(values, "usage", USAGE_PLACES),
        agent=_choice(values, "agent", AGENTS),
        agent_cap=_int(values, "agent_cap"),
    )


def _int(values: dict[str, str], name: str) -> int | None:
    if name not in values:
        return None
    if not values[name].isdigit():
        raise ValueError(f"{name} must be a non-negative integer, got {values[name]!r}")
    return int(values[name])


def _float(values: dict[str, str], name: str) -> float | None:
    if name not in values:
        return None
    try:
        number = float(values[name])
    except ValueError:
        raise ValueError(f"{name} must be a number, got {values[name]!r}") from None
    if not number >= 0:
        raise ValueError(f"{name} must not be negative, got {values[name]!r}")
    return number


def _choice(values: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = values.get(name)
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _bad(detail: str) -> ApiError:
    return invalid(f"Invalid request: [Kimi simulator] bad [[sim: ...]] directive: {detail}")
