"""What a converter sent in place of what was asked, said once in `--dry-run` and the status.

A converter that cannot send an object as asked but can send something in its place (a
Plotly figure as its data summary when no browser can draw it) calls `note(...)`; the
prompt's `gather` collects the notes of one question (`collecting()`), and they join the
"not sent as asked" line. Outside a collection a note is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_notes: ContextVar[list[str] | None] = ContextVar("kimi_context_notes", default=None)


def note(text: str) -> None:
    """Say what was sent instead, and why, in one line (`@fig: … sent as …: …`)."""
    collected = _notes.get()
    if collected is not None and text not in collected:
        collected.append(text)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """The notes made while the block runs, in order."""
    collected: list[str] = []
    token = _notes.set(collected)
    try:
        yield collected
    finally:
        _notes.reset(token)
