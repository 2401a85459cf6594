"""Video files and bytes as `video_url` parts, under byte and pixel caps checked up front.

Videos are not re-encoded (that needs ffmpeg), so one over a cap is refused in one line.
The pixel size is read from MP4/MOV/3GP track headers and AVI's main header; other formats
are checked by their size in bytes only.
"""

from __future__ import annotations

from pathlib import Path

from kimi_jupyter.conversation import MediaPart
from kimi_jupyter.errors import ContextError

from ._common import Limits, human_size
from ._sniff import VIDEO_FORMATS, Sniffed

_ISO_CONTAINERS = frozenset({b"moov", b"trak"})


def check_video(nbytes: int, sniffed: Sniffed, who: str, limits: Limits) -> str:
    """The MIME type to send the video as; a ContextError if Kimi would not take it."""
    if sniffed.mime is None:
        raise ContextError(f"{who}: {sniffed.label} videos are not accepted; send {VIDEO_FORMATS}")
    if nbytes > limits.max_video_bytes:
        raise ContextError(
            f"{who}: the video is {human_size(nbytes)}, over the "
            f"{human_size(limits.max_video_bytes)} limit (Limits.max_video_bytes); "
            "trim or compress it"
        )
    return sniffed.mime


def check_video_size(data: bytes, sniffed: Sniffed, who: str, limits: Limits) -> None:
    """A ContextError if the video's frames are larger than the `max_video` box (either way
    round: a portrait phone video is as welcome as a landscape one)."""
    size = video_size(data, sniffed.label)
    box = limits.max_video
    if size is None or (max(size) <= max(box) and min(size) <= min(box)):
        return
    raise ContextError(
        f"{who}: the video is {size[0]}×{size[1]} pixels, larger than {box[0]}×{box[1]} "
        f"(Limits.max_video); scale it down first, e.g. ffmpeg -i in.mp4 -vf "
        f"scale=-2:{min(box)} out.mp4"
    )


def video_from_bytes(data: bytes, sniffed: Sniffed, who: str, limits: Limits) -> MediaPart:
    """A video held in memory, sent as it is."""
    mime = check_video(len(data), sniffed, who, limits)
    check_video_size(data, sniffed, who, limits)
    return MediaPart(data, mime)


def video_from_file(
    path: Path, nbytes: int, sniffed: Sniffed, who: str, limits: Limits
) -> MediaPart:
    """A video file of `nbytes` (from stat), read only once it is known to fit the cap."""
    mime = check_video(nbytes, sniffed, who, limits)
    data = path.read_bytes()
    check_video_size(data, sniffed, who, limits)
    return MediaPart(data, mime)


def video_size(data: bytes, label: str) -> tuple[int, int] | None:
    """(width, height) of the largest video track, or None if the header does not say."""
    if label in ("MP4", "MOV", "3GP"):
        return _iso_size(data, 0, len(data), 0)
    if label == "AVI":
        pos = data.find(b"avih", 0, 4096)
        if pos < 0 or pos + 48 > len(data):
            return None
        width = int.from_bytes(data[pos + 40 : pos + 44], "little")
        height = int.from_bytes(data[pos + 44 : pos + 48], "little")
        return (width, height) if width and height else None
    return None


def _iso_size(data: bytes, pos: int, end: int, depth: int) -> tuple[int, int] | None:
    """Walk ISO base media boxes (moov → trak → tkhd) for the track sizes."""
    best: tuple[int, int] | None = None
    while pos + 8 <= end:
        size, kind, header = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8], 8
        if size == 1:  # a 64-bit size follows the type
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:  # the box runs to the end
            size = end - pos
        if size < header:
            return best
        found = None
        if kind in _ISO_CONTAINERS and depth < 3:
            found = _iso_size(data, pos + header, min(end, pos + size), depth + 1)
        elif kind == b"tkhd":
            found = _tkhd_size(data[pos + header : min(end, pos + size)])
        if found is not None and (best is None or found[0] * found[1] > best[0] * best[1]):
            best = found
        pos += size
    return best


def _tkhd_size(body: bytes) -> tuple[int, int] | None:
    # version 0: 24 bytes of times and ids, version 1: 36; then 16 reserved/layer/volume
    # bytes and a 36-byte matrix before width and height (16.16 fixed point)
    offset = (36 if body[:1] == b"\x01" else 24) + 16 + 36
    if len(body) < offset + 8:
        return None
    width = int.from_bytes(body[offset : offset + 4], "big") >> 16
    height = int.from_bytes(body[offset + 4 : offset + 8], "big") >> 16
    return (width, height) if width and height else None
