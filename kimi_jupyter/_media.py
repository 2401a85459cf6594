"""What an image or a video costs in a request: pixel size from its header, and tokens.

The token estimate follows how Kimi's vision encoder (MoonViT) reads images: 14-pixel
patches merged 2×2, so one token per 28×28 pixels, `ceil(w / 28) * ceil(h / 28)`, at most
`MAX_IMAGE_TOKENS` (a 4K image is about 11,500). Kimi documents no formula for video
("computed dynamically"), so a video counts `256 + ceil(bytes / 4,096)`, at most
`MAX_VIDEO_TOKENS`. The simulator charges the same, so tests can predict both sides.
Only the standard library is used: the conversation imports this, and stays light.
"""

from __future__ import annotations

import math
import struct

MAX_IMAGE_TOKENS = 16_384  # also the cost of an image whose size cannot be read
MAX_VIDEO_TOKENS = 65_536
_PATCH = 28


def media_tokens(data: bytes, mime: str) -> int:
    """The estimated prompt tokens of one image or video part."""
    if mime.startswith("video/"):
        return min(MAX_VIDEO_TOKENS, 256 + math.ceil(len(data) / 4096))
    size = image_size(data)
    if size is None:
        return MAX_IMAGE_TOKENS
    width, height = size
    return min(MAX_IMAGE_TOKENS, math.ceil(width / _PATCH) * math.ceil(height / _PATCH))


def media_note(data: bytes, mime: str) -> str:
    """What replaces an image or video left out of a replayed message, for the model."""
    size = None if mime.startswith("video/") else image_size(data)
    what = f"{mime} {size[0]}×{size[1]}" if size else mime
    kind = "a video" if mime.startswith("video/") else "an image"
    return f"[{kind} ({what}) was attached here; left out of this request to save space]"


def base64_size(nbytes: int) -> int:
    """How long `nbytes` of data are once base64-encoded."""
    return 4 * -(-nbytes // 3)


def megabytes(nbytes: int) -> str:
    """`12.3 MB` (decimal megabytes)."""
    return f"{nbytes / 1_000_000:,.1f} MB"


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, WebP or JPEG header, or None if it cannot be read."""
    try:
        if data.startswith(b"\x89PNG"):
            return _pair(struct.unpack(">II", data[16:24]))
        if data.startswith(b"GIF8"):
            return _pair(struct.unpack("<HH", data[6:10]))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _pair(values: tuple[int, ...]) -> tuple[int, int] | None:
    width, height = values
    return (width, height) if width and height else None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return _pair((width & 0x3FFF, height & 0x3FFF))
    return None


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return _pair((width, height))
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None
