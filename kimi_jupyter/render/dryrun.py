"""`--dry-run`: exactly what would leave the kernel, shown instead of sent."""

from __future__ import annotations

import html
import json
from typing import Any

from kimi_jupyter.context import describe
from kimi_jupyter.conversation import MediaPart, Message, Part, TextPart
from kimi_jupyter.render.thumbnail import thumbnail_html

_SHOWN_CHARS = 2_000


def dry_run_bundle(message: Message, payload: dict[str, Any]) -> dict[str, str]:
    """text/html (thumbnails, sizes, JSON) and text/plain listings of one request."""
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
    lines = [head] + [f"  {i}. {describe(p)}" for i, p in enumerate(parts, 1)]
    rows = "".join(_row(i, part) for i, part in enumerate(parts, 1))
    table = f"<table class='kimi-dry-run'><tbody>{rows}</tbody></table>"
    return {"text/plain": "\n".join(lines), "text/html": f"<p>{html.escape(head)}</p>{table}"}


def _row(index: int, part: Part) -> str:
    label = html.escape(describe(part))
    if isinstance(part, MediaPart) and part.kind == "image_url":
        body = thumbnail_html(part.data, describe(part))  # a few kB, not the image
    elif isinstance(part, MediaPart):
        body = "(video)"
    else:
        text = part.text if len(part.text) <= _SHOWN_CHARS else part.text[:_SHOWN_CHARS] + " …"
        body = f"<pre style='white-space:pre-wrap;margin:0'>{html.escape(text)}</pre>"
    return f"<tr><td>{index}</td><td>{label}</td><td>{body}</td></tr>"
