"""The static output a finished turn leaves in the notebook (DESIGN §2), and its labels.

No IPython here: the widget view, the text view and the lab panel share these functions.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

from kimi_jupyter.events import ToolResult
from kimi_jupyter.turn import Turn

from .html import HIGHLIGHT_CSS, render_markdown, render_text, sanitize
from .terminal import strip_terminal

TURN_MIME = "application/vnd.kimi.turn+json"
TOOL_CSS = (
    ".kimi-tool-label{opacity:.7;font-size:.85em;margin-top:.3em}"
    ".kimi-tool-text{white-space:pre-wrap;overflow-wrap:anywhere;max-height:20em;"
    "overflow-y:auto;margin:.2em 0;font-size:.9em}"
)
SHOWN_CHARS = 10_000  # of arguments or a preview in HTML; the turn record keeps them whole
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TIMED = ("ok", "error")
_CSS = (
    ".kimi-turn .kimi-thinking{opacity:.75;white-space:normal;font-size:.92em}"
    ".kimi-turn .kimi-footer{opacity:.6;font-size:.85em;margin-top:.4em}"
    ".kimi-turn .kimi-notice{color:#b35900;font-weight:bold}" + TOOL_CSS + HIGHLIGHT_CSS
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


def one_line(text: str, limit: int = 80) -> str:
    """Hostile text for a title or a terminal line: no escape sequence, no control or bidi
    character, one line."""
    flat = " ".join(_CONTROL.sub(" ", strip_terminal(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def tool_title(name: str, status: str, duration: float | None = None) -> str:
    """`🔧 lookup · ok · 0.12 s` (the time only for calls that ran)."""
    parts = [f"🔧 {one_line(name) or '?'}", status]
    if duration is not None and status in _TIMED:
        parts.append(f"{duration:.2f} s")
    return " · ".join(parts)


def result_title(result: ToolResult) -> str:
    return tool_title(result.name, result.status, result.duration)


def pretty_arguments(arguments: str) -> str:
    """JSON arguments indented for reading; anything else as it came."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments


def tool_text_html(label: str, text: str) -> str:
    """A label and escaped text that keeps its layout (arguments, a preview)."""
    shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "\n…"
    return (
        f"<div class='kimi-tool-label'>{html.escape(label)}</div>"
        f"<pre class='kimi-tool-text'>{html.escape(shown)}</pre>"
    )


def tool_result_html(result: ToolResult) -> str:
    """One tool call as a closed `<details>`: name, status and time; arguments, result."""
    body = tool_text_html("Arguments", pretty_arguments(result.arguments))
    if result.preview:
        body += tool_text_html("Result", result.preview)
    summary = html.escape(result_title(result))
    return f"<details class='kimi-tool'><summary>{summary}</summary>{body}</details>"


def tools_html(results: Sequence[ToolResult]) -> str:
    panels = "".join(tool_result_html(r) for r in results)
    return sanitize(f"<div class='kimi-tools'>{panels}</div>") if results else ""


def tools_text(results: Sequence[ToolResult]) -> str:
    """A Markdown list: `- 🔧 lookup · ok · 0.12 s: {"city": "Paris"}`."""
    lines = [f"- {result_title(r)}: {one_line(r.arguments, 120)}" for r in results]
    return "Tool calls:\n" + "\n".join(lines) if lines else ""


def notice(turn: Turn) -> str | None:
    """What the reader must know about an answer that did not finish normally, or that
    finished with no text at all (say, every token went to thinking)."""
    if turn.status == "stopped":
        return "Stopped: partial answer"
    if turn.status == "failed":
        return f"Failed: {turn.error or 'the answer broke off'}"
    if not turn.answer.strip():
        return f"The model returned no answer (finish reason: {turn.finish_reason or 'none'})"
    if turn.finish_reason == "length":
        return "Cut off at the token limit"
    return None


def turn_record(turn: Turn, session: str) -> dict[str, Any]:
    """The `application/vnd.kimi.turn+json` payload: no key, no media bytes."""
    return {"version": 1, "session": session, **turn.to_json()}


def static_bundle(turn: Turn, session: str) -> dict[str, Any]:
    """text/html + text/plain + the turn record: what the saved notebook keeps.

    text/plain is the answer's Markdown, then the notice in brackets (failed, stopped, cut
    off, empty) as the HTML shows it, then the tool calls; without escape sequences, as a
    terminal frontend prints it as it is."""
    message = notice(turn)
    parts = (turn.answer, f"[{message}]" if message else "", tools_text(turn.tool_results))
    text = strip_terminal("\n\n".join(p for p in parts if p))
    return {
        "text/html": static_html(turn),
        "text/plain": text,
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
    pieces.append(tools_html(turn.tool_results))
    pieces.append(f"<div class='kimi-footer'>{html.escape(footer_text(turn))}</div></div>")
    return "".join(pieces)
