"""Strings, containers, Markdown and everything else as bounded text parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kimi_jupyter.conversation import Part

from . import media
from ._common import Limits, call_repr_method, text_part
from ._jsonsafe import dumps, tree

# (items per container, characters per string, depth): tried in order until one fits
_TREE_SHAPES = ((50, 200, 4), (20, 80, 3), (8, 40, 2), (3, 20, 1))


def str_parts(obj: str, name: str | None, limits: Limits) -> Sequence[Part]:
    """A string as text, or the media file it names (`@path` where path = "plot.png")."""
    if media.names_media_file(obj):
        return media.path_parts(Path(obj), name, limits)
    return [text_part(name, obj, limits)]


def container_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """A dict, list, tuple or set as compact JSON, cut down until it fits the budget."""
    what = f"{type(obj).__name__} of {len(obj):,} {'keys' if isinstance(obj, Mapping) else 'items'}"
    budget = limits.max_text_chars - len(what) - len(name or "") - 5
    for items, chars, depth in _TREE_SHAPES:
        body = dumps(tree(obj, items=items, chars=chars, depth=depth))
        if len(body) <= budget:
            break
    return [text_part(name, f"{what}: {body}", limits)]


def markdown_parts(obj: object, name: str | None, limits: Limits) -> Sequence[Part] | None:
    """What `_repr_markdown_` returns, as text; None (try the next converter) if nothing."""
    markdown = call_repr_method(obj, "_repr_markdown_")
    return [text_part(name, markdown, limits)] if isinstance(markdown, str) else None


def repr_parts(obj: object, name: str | None, limits: Limits) -> Sequence[Part]:
    """The last resort: `repr(obj)`, truncated."""
    try:
        text = repr(obj)
    # A broken __repr__ must not stop the other mentions of a prompt from being sent.
    except Exception as exc:  # noqa: BLE001
        text = f"<{type(obj).__qualname__} object; repr() raised {type(exc).__name__}>"
    return [text_part(name, text, limits)]
