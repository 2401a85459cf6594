"""Bytes and file paths: images or videos by their magic bytes, never by the file name."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kimi_jupyter.conversation import MediaPart, Part
from kimi_jupyter.errors import ContextError

from . import images, video
from ._common import Limits, labelled, who
from ._sniff import HEAD_BYTES, IMAGE_FORMATS, image_size, sniff

_NOT_MEDIA = f"not a {IMAGE_FORMATS} image or a video"


def bytes_parts(
    obj: bytes | bytearray | memoryview, name: str | None, limits: Limits
) -> Sequence[Part]:
    """Image or video bytes as a media part; any other bytes are an error."""
    data = bytes(obj)
    part = media_part(data, who(name, obj), limits)
    return labelled(name, f"{sniff(data[:HEAD_BYTES]).label} {_kind(part)} bytes", part)


def media_part(data: bytes, who: str, limits: Limits) -> MediaPart:
    """Image or video bytes as one part within the limits; a ContextError for other bytes."""
    sniffed = sniff(data[:HEAD_BYTES])
    if sniffed.kind == "other":
        raise ContextError(f"{who}: these {len(data):,} bytes are {_NOT_MEDIA}; decode text first")
    if sniffed.kind == "video":
        return video.video_from_bytes(data, sniffed, who, limits)
    return images.image_from_bytes(data, sniffed, who, limits)


def path_parts(obj: os.PathLike[str], name: str | None, limits: Limits) -> Sequence[Part]:
    """The image or video file at a path; the size is checked before a video is read."""
    path, label = Path(obj), who(name, obj)
    try:
        nbytes = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
    except FileNotFoundError:
        raise ContextError(f"{label}: no such file: {path}") from None
    except OSError as exc:
        raise ContextError(f"{label}: cannot read {path} ({exc.strerror or exc})") from None
    sniffed = sniff(head)
    if sniffed.kind == "other":
        raise ContextError(
            f"{label}: {path.name} is {_NOT_MEDIA}; read text files into a str first"
        )
    if sniffed.kind == "video":
        part = video.video_from_file(path, nbytes, sniffed, label, limits)
    else:  # a file too large to decode is refused before it is read
        images.check_pixels(image_size(head), label, limits)
        part = images.image_from_bytes(_read(path, label), sniffed, label, limits)
    return labelled(name, f"{sniffed.label} {_kind(part)} {path.name}", part)


def names_media_file(text: str) -> bool:
    """Whether a string is the path of an existing image or video file (by its content)."""
    if len(text) > 1024 or "\n" in text or "\x00" in text or not os.path.isfile(text):
        return False
    try:
        with open(text, "rb") as file:
            return sniff(file.read(HEAD_BYTES)).kind != "other"
    except OSError:
        return False


def _read(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ContextError(f"{label}: cannot read {path} ({exc.strerror or exc})") from None


def _kind(part: MediaPart) -> str:
    return "video" if part.kind == "video_url" else "image"
