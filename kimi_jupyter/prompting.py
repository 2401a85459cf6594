"""A prompt's mentions → the content parts sent with it (the magics and the chat share this)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_jupyter.context import Limits, Registry
from kimi_jupyter.context._notes import collecting
from kimi_jupyter.conversation import Part
from kimi_jupyter.errors import KimiError
from kimi_jupyter.mentions import NOT_FOUND, find_mentions, resolve


@dataclass(frozen=True)
class PartsOf:
    """A provider's answer that is already content parts (`@last`, `@error`)."""

    parts: list[Part]


@dataclass
class Context:
    """What a prompt's mentions resolved to: parts to send, and mentions left as text."""

    parts: list[Part] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)  # converters' notes (`_notes.py`)

    @property
    def note(self) -> str | None:
        """What was not sent as asked, in one line (`--dry-run`, the status line)."""
        said = list(self.substituted)
        if self.unresolved:
            names = ", ".join(self.unresolved)
            said.insert(0, f"{names}: not defined here, sent as plain text")
        return "; ".join(said) or None


def gather(
    prompt: str,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None = None,
    limits: Limits | None = None,
    *,
    converters: Registry | None = None,
) -> Context:
    """Resolve every mention once, in order; raises `MentionError` / `ContextError`."""
    context = Context()
    with collecting() as notes:
        _resolve_all(prompt, namespace, providers, limits, converters, context)
    context.substituted.extend(notes)
    leftover = prompt
    for text in context.resolved:
        leftover = leftover.replace(text, "")
    if context.resolved and not leftover.strip(" \t\n.,;:?!"):
        names = ", ".join(context.resolved)
        raise KimiError(f"the question is empty apart from {names}: say what you want to know")
    return context


def _resolve_all(
    prompt: str,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None,
    limits: Limits | None,
    converters: Registry | None,
    context: Context,
) -> None:
    seen: set[str] = set()
    for mention in find_mentions(prompt):
        if mention.text in seen:
            continue
        seen.add(mention.text)
        value = resolve(mention, namespace, providers)
        if value is NOT_FOUND:
            context.unresolved.append(mention.text)
            continue
        context.resolved.append(mention.text)
        if isinstance(value, PartsOf):
            context.parts.extend(value.parts)
        else:
            registry = converters or Registry.default()
            context.parts.extend(registry.convert(value, mention.text[1:], limits=limits))
