"""The static output a finished turn leaves in the notebook (DESIGN §2), and its labels.

No IPython here: the widget view, the text view and the lab panel share these functions.
"""

from __future__ import annotations

import html
from typing import Any

from kimi_jupyter.turn import Turn

from .html import HIGHLIGHT_CSS, render_markdown, render_text

TURN_MIME = "application/vnd.kimi.turn+json"
_CSS = (
    ".kimi-turn .kimi-thinking{opacity:.75;white-space:normal;font-size:.92em}"
    ".kimi-turn .kimi-footer{opacity:.6;font-size:.85em;margin-top:.4em}"
    ".kimi-turn .kimi-notice{color:#b35900;font-weight:bold}" + HIGHLIGHT_CSS
)


def thinking_summary(seconds: float | None, tokens: int | None) -> str:
    """`Thinking · 12.4 s · 1,532 tokens`, leaving out what is unknown."""
    parts = ["Thinking"]
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    if tokens:
        parts.append(f"{tokens:,} tokens")
    return " · ".join(parts)


def footer_text(turn: Turn) -> str:
    """`kimi-k2.6 · 200 tokens (100 cached) · 15.1 s`."""
    parts = [turn.model] if turn.model else []
    if turn.usage:
        tokens = f"{turn.usage.total_tokens:,} tokens"
        if turn.usage.cached_tokens:
            tokens += f" ({turn.usage.cached_tokens:,} cached)"
        parts.append(tokens)
    parts.append(f"{turn.timings.total:.1f} s")
    return " · ".join(parts)


def notice(turn: Turn) -> str | None:
    """What the reader must know about an answer that did not finish normally."""
    if turn.status == "stopped":
        return "Stopped: partial answer"
    if turn.status == "failed":
        return f"Failed: {turn.error or 'the answer broke off'}"
    if turn.finish_reason == "length":
        return "Cut off at the token limit"
    return None


def turn_record(turn: Turn, session: str) -> dict[str, Any]:
    """The `application/vnd.kimi.turn+json` payload: no key, no media bytes."""
    return {"version": 1, "session": session, **turn.to_json()}


def static_bundle(turn: Turn, session: str) -> dict[str, Any]:
    """text/html + text/plain + the turn record: what the saved notebook keeps."""
    return {
        "text/html": static_html(turn),
        "text/plain": turn.answer or notice(turn) or "",
        TURN_MIME: turn_record(turn, session),
    }


def static_html(turn: Turn) -> str:
    pieces = [f"<div class='kimi-turn'><style>{_CSS}</style>", render_markdown(turn.answer)]
    message = notice(turn)
    if message:
        pieces.append(f"<p class='kimi-notice'>{html.escape(message)}</p>")
    if turn.reasoning:
        tokens = turn.usage.reasoning_tokens if turn.usage else None
        summary = html.escape(thinking_summary(turn.timings.reasoning, tokens))
        pieces.append(
            f"<details><summary>{summary}</summary>"
            f"<div class='kimi-thinking'>{render_text(turn.reasoning)}</div></details>"
        )
    pieces.append(f"<div class='kimi-footer'>{html.escape(footer_text(turn))}</div></div>")
    return "".join(pieces)
