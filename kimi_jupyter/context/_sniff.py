"""What a file or a byte string holds, read from its first bytes (never from its name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kimi_jupyter._media import image_size as image_size  # re-exported for the converters

HEAD_BYTES = 4096  # enough for every signature below, and for an SVG's XML prologue
IMAGE_FORMATS = "PNG, JPEG, WebP or GIF"
VIDEO_FORMATS = "MP4, MOV, WebM, MPEG, AVI, FLV, WMV or 3GP"


@dataclass(frozen=True)
class Sniffed:
    """The kind and format of some bytes; `mime` is set only for formats Kimi accepts."""

    kind: Literal["image", "video", "other"]
    label: str = ""
    mime: str | None = None


UNKNOWN = Sniffed("other")
# Video MIME names are the ones Kimi's docs list (mov, avi, wmv), not the IANA ones.
_PREFIXES: tuple[tuple[bytes, Sniffed], ...] = (
    (b"\x89PNG\r\n\x1a\n", Sniffed("image", "PNG", "image/png")),
    (b"\xff\xd8\xff", Sniffed("image", "JPEG", "image/jpeg")),
    (b"GIF87a", Sniffed("image", "GIF", "image/gif")),
    (b"GIF89a", Sniffed("image", "GIF", "image/gif")),
    (b"II*\x00", Sniffed("image", "TIFF")),
    (b"MM\x00*", Sniffed("image", "TIFF")),
    (b"\x00\x00\x01\x00", Sniffed("image", "ICO")),
    (b"8BPS", Sniffed("image", "PSD")),
    (b"\xff\x0a", Sniffed("image", "JPEG XL")),
    (b"\x00\x00\x00\x0cJXL ", Sniffed("image", "JPEG XL")),
    (b"FLV\x01", Sniffed("video", "FLV", "video/x-flv")),
    (b"\x00\x00\x01\xba", Sniffed("video", "MPEG", "video/mpeg")),
    (b"\x00\x00\x01\xb3", Sniffed("video", "MPEG", "video/mpeg")),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", Sniffed("video", "WMV", "video/wmv")),
    (b"%PDF-", Sniffed("other", "PDF")),
)
_RIFF = {
    b"WEBP": Sniffed("image", "WebP", "image/webp"),
    b"AVI ": Sniffed("video", "AVI", "video/avi"),
    b"WAVE": Sniffed("other", "WAV"),
}
_MOV = Sniffed("video", "MOV", "video/mov")
_MKV = Sniffed("video", "Matroska")
_BRANDS = {
    **dict.fromkeys([b"avif", b"avis"], Sniffed("image", "AVIF")),
    **dict.fromkeys(
        [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"],
        Sniffed("image", "HEIC"),
    ),
    **dict.fromkeys([b"M4A ", b"M4B ", b"M4P "], Sniffed("other", "M4A")),
    b"qt  ": _MOV,
}


def sniff(head: bytes) -> Sniffed:
    """Name the format of data that starts with `head` (`HEAD_BYTES` of it is enough)."""
    for prefix, found in _PREFIXES:
        if head.startswith(prefix):
            return found
    if head[:4] == b"RIFF":
        return _RIFF.get(head[8:12], UNKNOWN)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand[:3] in (b"3gp", b"3g2"):
            return Sniffed("video", "3GP", "video/3gpp")
        return _BRANDS.get(brand, Sniffed("video", "MP4", "video/mp4"))
    if head[4:8] in (b"moov", b"mdat", b"wide"):  # QuickTime files older than `ftyp`
        return _MOV
    return _sniff_rest(head)


def _sniff_rest(head: bytes) -> Sniffed:
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM is the Matroska profile Kimi takes
        return Sniffed("video", "WebM", "video/webm") if b"webm" in head[:64] else _MKV
    if head.startswith(b"OggS"):
        return Sniffed("video", "Ogg") if b"theora" in head else Sniffed("other", "Ogg")
    if len(head) > 188 and head[0] == head[188] == 0x47:  # MPEG-TS: a sync byte per packet
        return Sniffed("video", "MPEG-TS")
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":  # BMP's reserved zeros
        return Sniffed("image", "BMP")
    if _is_svg(head):
        return Sniffed("image", "SVG")
    return UNKNOWN


def _is_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg"):
        return True
    return text.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in text
