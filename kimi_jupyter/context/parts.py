"""Helpers for content parts once made: a content hash for dedup, a one-line description."""

from __future__ import annotations

import hashlib
import json

from kimi_jupyter.conversation import MediaPart, Part, TextPart

from ._common import human_size
from ._sniff import image_size


def sha256(part: MediaPart | bytes) -> str:
    """The hex SHA-256 of a media part's bytes: equal media, equal digest, stored once."""
    data = part.data if isinstance(part, MediaPart) else part
    return hashlib.sha256(data).hexdigest()


def describe(part: Part) -> str:
    """One line for a --dry-run listing: `image/png 640×480, 12.3 kB` or `JSON 2,345 chars`."""
    if isinstance(part, TextPart):
        kind = "JSON" if _is_json(part.text) else "text"
        return f"{kind} {len(part.text):,} chars"
    size = image_size(part.data) if part.kind == "image_url" else None
    dims = f" {size[0]}×{size[1]}" if size else ""
    return f"{part.mime}{dims}, {human_size(len(part.data))}"


def _is_json(text: str) -> bool:
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
