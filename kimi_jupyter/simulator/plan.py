"""What one response will say, before any flavour turns it into chunks or a JSON body."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

PREFIX = "[Kimi simulator]"  # every answer says where it comes from
# Whitespace stays attached to the next word, so joining the fragments gives the text back.
_WORD = re.compile(r"\s*\S{1,12}|\s+")


@dataclass(frozen=True)
class ToolCall:
    """One tool call the simulated model makes; `fragments` join to `arguments`."""

    id: str
    type: str  # "function" or "builtin_function" ($web_search)
    name: str
    arguments: str
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    """Token counts for one response; `cached` is part of `prompt`, as on Kimi."""

    prompt: int
    cached: int
    completion: int
    reasoning: int


@dataclass(frozen=True)
class Plan:
    """Everything a response carries: each fragment becomes one stream event (one token)."""

    reasoning: list[str]
    content: list[str]
    tool_calls: list[ToolCall]
    finish_reason: str
    usage: Usage


def fragment(text: str) -> list[str]:
    """Split text into word-sized fragments that join back to exactly `text`."""
    return _WORD.findall(text)


def fit(fragments: list[str], count: int | None, filler: tuple[str, ...]) -> list[str]:
    """Return exactly `count` fragments: merge neighbours, or pad with cycled filler."""
    size = len(fragments)
    if count is None or count == size:
        return fragments
    if count < size:
        if count == 0:
            return []
        bounds = [size * i // count for i in range(count + 1)]
        return ["".join(fragments[a:b]) for a, b in itertools.pairwise(bounds)]
    # Cheap even for 100,000 fragments: the filler strings are shared, not copied.
    return fragments + list(itertools.islice(itertools.cycle(filler), count - size))


def apply_stop(content: list[str], stops: tuple[str, ...]) -> list[str]:
    """Cut the content before the first stop string; the match itself is not output."""
    if not stops:
        return content
    text = "".join(content)
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut < 0:
        return content
    kept: list[str] = []
    length = 0
    for piece in content:
        if length + len(piece) >= cut:
            if cut > length:
                kept.append(piece[: cut - length])
            break
        kept.append(piece)
        length += len(piece)
    return kept


def completion_tokens(reasoning: list[str], content: list[str], calls: list[ToolCall]) -> int:
    """Count one token per fragment, plus one per tool call for its name."""
    return len(reasoning) + len(content) + sum(len(c.fragments) + 1 for c in calls)


def apply_budget(
    reasoning: list[str], content: list[str], calls: list[ToolCall], budget: int | None
) -> tuple[list[str], list[str], list[ToolCall], str]:
    """Truncate to `max_completion_tokens` (reasoning first, as on Kimi); return finish_reason."""
    finish = "tool_calls" if calls else "stop"
    if budget is None or completion_tokens(reasoning, content, calls) <= budget:
        return reasoning, content, calls, finish
    reasoning = reasoning[:budget]
    left = budget - len(reasoning)
    # A tool call cut short would have unparseable arguments, so a short budget drops it.
    return reasoning, content[:left], [], "length"
