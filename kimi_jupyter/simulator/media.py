"""Media sniffing: what a data URL really holds, and an image's pixel size, without Pillow."""

from __future__ import annotations

import base64
import binascii
import struct
import urllib.parse
from dataclasses import dataclass

IMAGE_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP", "image/gif": "GIF"}
# Go's http.DetectContentType treats these bytes as binary; Kimi's "unsupported image
# format: text/plain; charset=utf-8" for an SVG suggests the server sniffs exactly that way.
_BINARY = frozenset([*range(0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_HTML_TAGS = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<BODY", b"<DIV", b"<P", b"<!--")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"%PDF-", "application/pdf"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"PK\x03\x04", "application/zip"),
)


@dataclass(frozen=True)
class Part:
    """One validated content part: text, or an image/video with what could be learnt of it."""

    kind: str  # "text" | "image" | "video"
    text: str = ""
    mime: str = ""
    size: tuple[int, int] | None = None
    nbytes: int = 0
    ref: str = ""  # the ms://<file_id> when the media is a file reference


def decode_data_url(url: str) -> tuple[str, bytes] | None:
    """Split a `data:` URL into (declared MIME type, payload); None if it is not one."""
    if not url.startswith("data:"):
        return None
    header, sep, payload = url[5:].partition(",")
    if not sep:
        return None
    if not header.endswith(";base64"):
        return header, urllib.parse.unquote_to_bytes(payload)
    try:
        return header[: -len(";base64")], base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None


def sniff(data: bytes) -> str:
    """Return the MIME type the content looks like, the way Go's DetectContentType names it."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    head = data[:512].lstrip(b"\t\n\x0c\r ")
    if head.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    if any(head[: len(tag)].upper() == tag for tag in _HTML_TAGS):
        return "text/html; charset=utf-8"
    if not any(byte in _BINARY for byte in data[:512]):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """Return (width, height) read from the format's header, or None if it is cut short."""
    try:
        if mime == "image/png":
            return _pair(struct.unpack(">II", data[16:24]))
        if mime == "image/gif":
            return _pair(struct.unpack("<HH", data[6:10]))
        if mime == "image/jpeg":
            return _jpeg_size(data)
        if mime == "image/webp":
            return _webp_size(data)
    except struct.error:
        return None
    return None


def _pair(values: tuple[int, ...]) -> tuple[int, int]:
    return values[0], values[1]


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments to the first SOFn frame header, which holds height and width."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Read the size from the first chunk: lossy VP8, lossless VP8L or extended VP8X."""
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None
