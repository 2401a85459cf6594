"""`--dry-run`: exactly what would leave the kernel, shown instead of sent.

One left-aligned table, a row per part of the new message (role, kind, size, ≈ tokens, what
it holds): text as text, images as thumbnails, JSON folded under a one-line summary. Under
it, one line for what was not sent as asked (a mention left as text, an image downscaled).
Everything shown is user or kernel data, so all of it is escaped.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from kimi_jupyter._media import image_size, media_tokens
from kimi_jupyter.context import describe
from kimi_jupyter.conversation import MediaPart, Message, Part, TextPart
from kimi_jupyter.render.thumbnail import thumbnail_html

_SHOWN_CHARS = 2_000
_OPEN_CHARS = 600  # longer text (and any JSON) is folded under its summary line
_PIXELS = re.compile(r"(\d+)×(\d+)")
# JupyterLab right-aligns and pads table cells with
# `:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td` (specificity 0,2,1); `.kimi-dry
# table.kimi-dry-run td` (0,2,2) comes after it and wins.
_T = ".kimi-dry table.kimi-dry-run"
_CSS = (
    f"<style>{_T}{{border-collapse:collapse;margin:.4em 0}}"
    f"{_T} th,{_T} td{{text-align:left;vertical-align:top;padding:.15em .6em}}"
    f"{_T} th,{_T} td.kimi-dry-label{{white-space:nowrap}}"
    f"{_T} pre,{_T} .kimi-dry-text{{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;"
    "max-width:60em}.kimi-dry-note{color:#b35900}</style>"
)
_HEAD = "<tr><th>#</th><th>role</th><th>kind</th><th>size</th><th>tokens</th><th>content</th></tr>"


def dry_run_bundle(
    message: Message, payload: dict[str, Any], *, note: str | None = None
) -> dict[str, str]:
    """text/html (a table of parts, thumbnails, folded JSON) and text/plain listings of one
    request. `note` is what the prompt's mentions left out (`prompting.Context.note`)."""
    parts: list[Part] = (
        [TextPart(message.content)] if isinstance(message.content, str) else list(message.content)
    )
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    history = len(payload["messages"]) - 1
    head = (
        f"Dry run: nothing was sent. The request would carry {len(parts)} part(s) in the new "
        f"message after {history} earlier message(s), {size:,} bytes in all, to model "
        f"{payload['model']}."
    )
    notes = ([note] if note else []) + downscaled(parts)
    offered = ", ".join(_tool_names(payload))
    if offered:
        head += f" Tools the model could call: {offered}."
    lines = [head] + [f"  {i}. {describe(p)}" for i, p in enumerate(parts, 1)]
    lines += [f"Not sent as asked: {n}" for n in notes]
    rows = "".join(_row(i, message.role, part) for i, part in enumerate(parts, 1))
    table = f"<table class='kimi-dry-run'><thead>{_HEAD}</thead><tbody>{rows}</tbody></table>"
    said = html.escape("; ".join(notes))
    footer = f"<p class='kimi-dry-note'>Not sent as asked: {said}</p>" if notes else ""
    page = f"<div class='kimi-dry'>{_CSS}<p>{html.escape(head)}</p>{table}{footer}</div>"
    return {"text/plain": "\n".join(lines), "text/html": page}


def _tool_names(payload: dict[str, Any]) -> list[str]:
    tools = payload.get("tools")
    names = [t.get("function", {}).get("name") for t in tools or () if isinstance(t, dict)]
    return [name for name in names if isinstance(name, str)]


def downscaled(parts: list[Part]) -> list[str]:
    """`@img: downscaled from 8000×6000 to 4096×3072`, for each image sent smaller than its
    label (`@name: PIL image, 8000×6000 RGB`) says it was."""
    found = []
    for before, part in zip([None, *parts], parts, strict=False):
        if not (isinstance(part, MediaPart) and isinstance(before, TextPart)):
            continue
        label, sent = _PIXELS.search(before.text.split("\n", 1)[0]), image_size(part.data)
        if label is None or sent is None:
            continue
        original = (int(label.group(1)), int(label.group(2)))
        if original != sent and before.text.startswith("@"):
            name = before.text.split(":", 1)[0]
            found.append(f"{name}: downscaled from {_px(original)} to {_px(sent)}")
    return found


def _row(index: int, role: str, part: Part) -> str:
    kind, size, tokens, body = _cells(part)
    cells = [f"{index}", role, kind, size, f"≈ {tokens:,}"]
    shown = "".join(f"<td class='kimi-dry-label'>{html.escape(v)}</td>" for v in cells)
    return f"<tr>{shown}<td>{body}</td></tr>"


def _cells(part: Part) -> tuple[str, str, int, str]:
    """(kind, size, tokens, content HTML) of one part."""
    if isinstance(part, MediaPart):
        dims = image_size(part.data) if part.kind == "image_url" else None
        size = f"{_px(dims)}, {_bytes(len(part.data))}" if dims else _bytes(len(part.data))
        tokens = media_tokens(part.data, part.mime)
        body = thumbnail_html(part.data, describe(part)) if part.kind == "image_url" else ""
        return part.mime, size, tokens, body or html.escape(f"({part.mime})")
    text = part.text
    is_json = describe(part).startswith("JSON")
    tokens = len(text.encode()) // 3 + 1
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + " …"
    body = (f"<pre>{html.escape(shown)}</pre>" if is_json
            else f"<div class='kimi-dry-text'>{html.escape(shown)}</div>")  # fmt: skip
    if is_json or len(text) > _OPEN_CHARS:
        summary = html.escape(describe(part))
        body = f"<details><summary>{summary}</summary>{body}</details>"
    return ("JSON" if is_json else "text"), f"{len(text):,} chars", tokens, body


def _px(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _bytes(nbytes: int) -> str:
    return f"{nbytes:,} B" if nbytes < 1000 else f"{nbytes / 1000:,.1f} kB"
