"""Video files and bytes as `video_url` parts, under a size cap checked before reading."""

from __future__ import annotations

from pathlib import Path

from kimi_jupyter.conversation import MediaPart
from kimi_jupyter.errors import ContextError

from ._common import Limits, human_size
from ._sniff import VIDEO_FORMATS, Sniffed


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


def video_from_bytes(data: bytes, sniffed: Sniffed, who: str, limits: Limits) -> MediaPart:
    """A video held in memory, sent as it is."""
    return MediaPart(data, check_video(len(data), sniffed, who, limits))


def video_from_file(
    path: Path, nbytes: int, sniffed: Sniffed, who: str, limits: Limits
) -> MediaPart:
    """A video file of `nbytes` (from stat), read only once it is known to fit the cap."""
    mime = check_video(nbytes, sniffed, who, limits)
    return MediaPart(path.read_bytes(), mime)
