"""The static output a finished turn leaves in the notebook (DESIGN §2), and its labels.

No IPython here: the widget view, the text view and the lab panel share these functions.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kimi_jupyter.context.outputs import error_text, fence, multiline
from kimi_jupyter.events import ToolResult
from kimi_jupyter.terminal import strip_terminal
from kimi_jupyter.turn import Turn

from .html import HIGHLIGHT_CSS, render_markdown, render_text, sanitize

TURN_MIME = "application/vnd.kimi.turn+json"
# What the cell agent's steps showed, beside the turn record in the same output: the lab
# extension draws the record, so the figures the steps made travel here (text and PNGs only).
STEPS_MIME = "application/vnd.kimi.steps+json"
MAX_STEP_IMAGES = 20  # figures kept of one turn's steps
TOOL_CSS = (
    ".kimi-tool-label{opacity:.7;font-size:.85em;margin-top:.3em}"
    ".kimi-tool-text{white-space:pre-wrap;overflow-wrap:anywhere;max-height:20em;"
    "overflow-y:auto;margin:.2em 0;font-size:.9em}"
)
SHOWN_CHARS = 10_000  # of arguments or a preview in HTML; the turn record keeps them whole
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TIMED = ("ok", "error")
CODE_TOOLS = {"run_code": "code"}  # tools whose argument is code: shown, and editable, as such
_PNG = b"\x89PNG\r\n\x1a\n"
_IMAGE_STYLE = "max-width:100%;height:auto;display:block;margin:.3em 0"
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


def _shown(text: str, more: str = "…") -> str:
    """`text` cut to `SHOWN_CHARS`, a line saying `more` where it was cut."""
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}\n{more}"


def tool_text_html(label: str, text: str) -> str:
    """A label and escaped text that keeps its layout (arguments, a preview)."""
    shown = _shown(text)
    return (
        f"<div class='kimi-tool-label'>{html.escape(label)}</div>"
        f"<pre class='kimi-tool-text'>{html.escape(shown)}</pre>"
    )


def call_code(name: str, arguments: str) -> str | None:
    """The code a code tool's call carries (`run_code`'s `code`), else None."""
    key = CODE_TOOLS.get(name)
    if key is None:
        return None
    try:
        value = json.loads(arguments).get(key) if arguments.strip() else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def code_html(code: str, label: str = "Code") -> str:
    """A label and the code as a highlighted Python block (sanitized)."""
    shown = _shown(code, "# …")
    ticks = fence(shown)
    block = render_markdown(f"{ticks}python\n{shown}\n{ticks}")
    return f"<div class='kimi-tool-label'>{html.escape(label)}</div>{block}"


def outputs_html(outputs: Sequence[Mapping[str, Any]]) -> str:
    """nbformat outputs as the tool panel shows them: text escaped, PNG images as `<img>`
    made here from their decoded bytes (nothing else loads), everything else named."""
    pieces: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = strip_terminal(multiline(output.get("text")))
            pieces.append(tool_text_html(str(output.get("name", "stream")), text))
        elif kind == "error":
            pieces.append(tool_text_html("error", strip_terminal(error_text(output))))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data")
            pieces.append(_data_html(data if isinstance(data, Mapping) else {}))
    return "".join(pieces)


def _data_html(data: Mapping[str, Any]) -> str:
    image = _png(data.get("image/png"))
    if image is not None:
        source = "data:image/png;base64," + base64.b64encode(image).decode("ascii")
        return f"<img src='{source}' alt='figure' style='{_IMAGE_STYLE}'>"
    if "text/plain" in data:
        return tool_text_html("Out", strip_terminal(multiline(data["text/plain"])))
    kinds = ", ".join(sorted(str(k) for k in data)) or "nothing"
    return tool_text_html("Out", f"(output of type {kinds}: not shown here)")


def _png(value: object) -> bytes | None:
    """PNG bytes from base64 text, or None when it is not a PNG."""
    try:
        raw = base64.b64decode(multiline(value), validate=False)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(_PNG) else None


def tool_result_html(result: ToolResult) -> str:
    """One tool call as a closed `<details>`: name, status and time; arguments, result."""
    code = call_code(result.name, result.arguments)
    if code is not None:
        body = code_html(code)
        if result.preview:
            body += tool_text_html("Output", result.preview)
        summary = html.escape(result_title(result))
        return f"<details class='kimi-tool'><summary>{summary}</summary>{body}</details>"
    body = tool_text_html("Arguments", pretty_arguments(result.arguments))
    if result.preview:
        body += tool_text_html("Result", result.preview)
    summary = html.escape(result_title(result))
    return f"<details class='kimi-tool'><summary>{summary}</summary>{body}</details>"


Outputs = Mapping[str, Sequence[Mapping[str, Any]]]
"""A code tool's nbformat outputs by call id (the cell agent keeps them; the record does not)."""


def tools_html(results: Sequence[ToolResult], outputs: Outputs | None = None) -> str:
    """The tool panels; a code call with `outputs` shows them, figures as images."""
    if not results:
        return ""
    if not outputs:
        panels = "".join(tool_result_html(r) for r in results)
        return sanitize(f"<div class='kimi-tools'>{panels}</div>")
    shown = "".join(_ran_html(r, outputs.get(r.call_id)) for r in results)
    return f"<div class='kimi-tools'>{shown}</div>"


def _ran_html(result: ToolResult, outputs: Sequence[Mapping[str, Any]] | None) -> str:
    """A panel, sanitized; a code call's outputs after its code (safe as made: escaped text,
    `<img>` only from decoded PNG bytes), open, since they are what the step did."""
    code = call_code(result.name, result.arguments)
    if code is None or not outputs:
        return sanitize(tool_result_html(result))
    summary = html.escape(result_title(result))
    body = sanitize(code_html(code)) + outputs_html(outputs)
    return f"<details class='kimi-tool' open><summary>{summary}</summary>{body}</details>"


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


def static_bundle(turn: Turn, session: str, outputs: Outputs | None = None) -> dict[str, Any]:
    """text/html + text/plain + the turn record: what the saved notebook keeps.

    text/plain is the answer's Markdown, then the notice in brackets (failed, stopped, cut
    off, empty) as the HTML shows it, then the tool calls; without escape sequences, as a
    terminal frontend prints it as it is. `outputs`: what code calls showed (the cell
    agent's steps), in the HTML only."""
    message = notice(turn)
    parts = (turn.answer, f"[{message}]" if message else "", tools_text(turn.tool_results))
    text = strip_terminal("\n\n".join(p for p in parts if p))
    bundle = {
        "text/html": static_html(turn, outputs),
        "text/plain": text,
        TURN_MIME: turn_record(turn, session),
    }
    if outputs:
        bundle[STEPS_MIME] = steps_record(outputs)
    return bundle


def steps_record(outputs: Outputs) -> dict[str, Any]:
    """The `application/vnd.kimi.steps+json` payload: each code call's outputs, by call id,
    as the tool panels show them: text without escape sequences (at most `SHOWN_CHARS`
    each) and PNG figures (checked to be PNG); nothing else."""
    steps: dict[str, list[dict[str, str]]] = {}
    images = 0
    for call_id, shown in outputs.items():
        kept: list[dict[str, str]] = []
        for item in (item for output in shown for item in _kept(output)):
            if item["kind"] == "image/png":
                images += 1
                if images > MAX_STEP_IMAGES:
                    item = _text_item("Out", f"[a figure: not kept, {MAX_STEP_IMAGES} are]")
            kept.append(item)
        steps[call_id] = kept
    return {"version": 1, "outputs": steps}


def _kept(output: Mapping[str, Any]) -> list[dict[str, str]]:
    kind = output.get("output_type")
    if kind == "stream":
        return [_text_item(str(output.get("name", "stream")), multiline(output.get("text")))]
    if kind == "error":
        return [_text_item("error", error_text(output))]
    data = output.get("data")
    if kind not in ("execute_result", "display_data") or not isinstance(data, Mapping):
        return []
    image = _png(data.get("image/png"))
    if image is not None:
        return [{"kind": "image/png", "data": base64.b64encode(image).decode("ascii")}]
    if "text/plain" in data:
        return [_text_item("Out", multiline(data["text/plain"]))]
    return []


def _text_item(label: str, text: str) -> dict[str, str]:
    return {"kind": "text", "label": label, "text": _shown(strip_terminal(text))}


def static_html(turn: Turn, outputs: Outputs | None = None) -> str:
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
    pieces.append(tools_html(turn.tool_results, outputs))
    pieces.append(f"<div class='kimi-footer'>{html.escape(footer_text(turn))}</div></div>")
    return "".join(pieces)
