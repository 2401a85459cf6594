"""Video files and bytes → `video_url` parts, detected by magic bytes, capped by size."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from kimi_jupyter.context import ContextError, Limits, convert, describe
from kimi_jupyter.conversation import MediaPart, TextPart

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
HEADERS = {
    "mp4": (MP4, "video/mp4"),
    "mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/mov"),
    "3gp": (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x02\x003gp4", "video/3gpp"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x02", "video/webm"),
    "avi": (b"RIFF\x00\x10\x00\x00AVI LIST", "video/avi"),
    "mpeg": (b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01", "video/mpeg"),
    "flv": (b"FLV\x01\x05\x00\x00\x00\x09", "video/x-flv"),
    "wmv": (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c", "video/wmv"),
}


def video_file(path: Path, header: bytes, size: int) -> Path:
    with path.open("wb") as file:
        file.write(header)
        file.truncate(size)  # sparse: no real write of `size` bytes
    return path


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_video_files_by_magic_bytes(tmp_path: Path, kind: str) -> None:
    header, mime = HEADERS[kind]
    path = video_file(tmp_path / "clip.bin", header, 4_096)  # the name says nothing
    parts = convert(path, "clip")
    assert isinstance(parts[0], TextPart)
    assert parts[0].text.startswith("@clip: ")
    assert parts[0].text.endswith(" video clip.bin")
    assert parts[1] == MediaPart(path.read_bytes(), mime)
    assert parts[1].to_wire()["type"] == "video_url"
    assert describe(parts[1]) == f"{mime}, 4.1 kB"


def test_video_bytes_and_str_paths(tmp_path: Path) -> None:
    data = MP4 + bytes(1_000)
    assert convert(data, "v")[1] == MediaPart(data, "video/mp4")
    path = video_file(tmp_path / "movie.mp4", MP4, 2_000)
    assert convert(str(path), "v")[1] == MediaPart(path.read_bytes(), "video/mp4")


def test_200_mb_video_fails_fast_without_being_read(tmp_path: Path) -> None:
    path = video_file(tmp_path / "big.mp4", MP4, 200_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(ContextError) as info:
            convert(path, "clip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "@clip: the video is 200.0 MB, over the 50.0 MB limit (Limits.max_video_bytes); "
        "trim or compress it"
    )
    assert peak < 1_000_000  # only the 4 kB header was read


def test_the_cap_is_configurable(tmp_path: Path) -> None:
    path = video_file(tmp_path / "a.mp4", MP4, 3_000)
    with pytest.raises(ContextError, match=r"the video is 3.0 kB, over the 2.0 kB limit"):
        convert(path, "a", limits=Limits(max_video_bytes=2_000))
    with pytest.raises(ContextError, match=r"^the bytes: the video is 3.0 kB, over"):
        convert(path.read_bytes(), limits=Limits(max_video_bytes=2_000))


def test_video_formats_kimi_does_not_take(tmp_path: Path) -> None:
    mkv = video_file(tmp_path / "a.mkv", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", 100)
    with pytest.raises(ContextError) as info:
        convert(mkv, "mkv")
    assert str(info.value) == (
        "@mkv: Matroska videos are not accepted; send MP4, MOV, WebM, MPEG, AVI, FLV, WMV or 3GP"
    )
    audio = tmp_path / "a.m4a"
    audio.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isom")
    with pytest.raises(ContextError, match=r"^@m: a.m4a is not a PNG, JPEG, WebP or GIF image"):
        convert(audio, "m")
