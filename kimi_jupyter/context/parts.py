"""Helpers for content parts once made: a content hash for dedup, a one-line description."""

from __future__ import annotations

import hashlib
import json
import re

from kimi_jupyter.conversation import MediaPart, Part, TextPart

from ._common import clip, human_size
from ._sniff import image_size

# The first line of a part that starts by naming its mention ("@fig: matplotlib Figure").
_LABEL = re.compile(r"@[A-Za-z_][^\s:]*: [^\n]*")
_LABEL_CHARS = 60


def sha256(part: MediaPart | bytes) -> str:
    """The hex SHA-256 of a media part's bytes: equal media, equal digest, stored once."""
    data = part.data if isinstance(part, MediaPart) else part
    return hashlib.sha256(data).hexdigest()


def describe(part: Part) -> str:
    """One line for a --dry-run listing: `image/png 640×480, 12.3 kB`, `JSON 2,345 chars`,
    or `text 35 chars: @last: the output of In[7]` (a part that says what it is)."""
    if isinstance(part, TextPart):
        kind = "JSON" if _is_json(part.text) else "text"
        label = _LABEL.match(part.text)
        said = f": {clip(label.group(0), _LABEL_CHARS)}" if label else ""
        return f"{kind} {len(part.text):,} chars{said}"
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
