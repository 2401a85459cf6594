"""PIL images, NumPy arrays, image bytes and files → image parts (real Pillow encodes)."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kimi_jupyter.context import ContextError, Limits, convert, describe, sha256
from kimi_jupyter.conversation import MediaPart, TextPart

ACCEPTED = "send PNG, JPEG, WebP or GIF"


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def only_media(parts: list[TextPart | MediaPart]) -> MediaPart:
    image = parts[-1]
    assert isinstance(image, MediaPart)
    return image


def size_of(part: MediaPart) -> tuple[int, int]:
    with Image.open(io.BytesIO(part.data)) as image:
        return int(image.width), int(image.height)


def huge_png(width: int, height: int) -> bytes:
    """A 1-bit PNG written chunk by chunk: tiny on disk, `width × height` when decoded."""
    row = b"\x00" + b"\xff" * (width // 8)
    compressor = zlib.compressobj(1)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_accepted_bytes_that_fit_are_sent_unchanged(fmt: str, mime: str) -> None:
    data = encoded(Image.new("RGB", (64, 48), "teal"), fmt)
    parts = convert(data, "img")
    assert parts[0] == TextPart(f"@img: {fmt.replace('WEBP', 'WebP')} image bytes")
    assert only_media(parts) == MediaPart(data, mime)
    assert describe(only_media(parts)) == f"{mime} 64×48, {len(data)} B"


def test_format_comes_from_magic_bytes_not_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "plot.png"
    data = encoded(Image.new("RGB", (40, 30), "red"), "JPEG")
    path.write_bytes(data)
    for obj in (path, str(path)):
        parts = convert(obj, "plot")
        assert parts[0] == TextPart("@plot: JPEG image plot.png")
        assert only_media(parts) == MediaPart(data, "image/jpeg")


def test_svg_file_is_refused_with_what_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(ContextError) as info:
        convert(path, "logo")
    assert str(info.value) == (
        f"@logo: SVG images are not accepted; {ACCEPTED} (render the SVG to PNG first)"
    )


def test_other_image_formats_are_refused(tmp_path: Path) -> None:
    data = encoded(Image.new("RGB", (8, 8)), "BMP")
    with pytest.raises(ContextError) as info:
        convert(data, "bmp")
    assert str(info.value) == (
        f"@bmp: BMP images are not accepted; {ACCEPTED} (PIL.Image.open() can convert it)"
    )
    tiff = tmp_path / "scan.tif"
    Image.new("L", (8, 8)).save(tiff, "TIFF")
    with pytest.raises(ContextError, match=r"^@scan: TIFF images are not accepted; "):
        convert(tiff, "scan")


def test_big_bytes_are_downscaled_and_keep_their_format() -> None:
    jpeg = encoded(Image.new("RGB", (8000, 6000), "navy"), "JPEG")
    part = only_media(convert(jpeg, "photo"))
    assert part.mime == "image/jpeg"
    assert size_of(part) == (2880, 2160)
    png = encoded(Image.new("RGBA", (5000, 1000), (1, 2, 3, 4)), "PNG")
    assert size_of(only_media(convert(png, "wide"))) == (4096, 819)


def test_huge_image_is_downscaled_without_pillows_bomb_error() -> None:
    data = huge_png(20_000, 20_000)
    limit_before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning either
        part = only_media(convert(data, "huge"))
    assert part.mime == "image/png"
    assert size_of(part) == (2160, 2160)
    assert limit_before == Image.MAX_IMAGE_PIXELS


def test_images_over_the_decoding_limit_are_refused() -> None:
    with pytest.raises(ContextError) as info:
        convert(huge_png(4000, 3000), "big", limits=Limits(max_decode_pixels=10_000_000))
    assert str(info.value) == (
        "@big: the image is 4,000×3,000 pixels, over the decoding limit of "
        "10,000,000 pixels (Limits.max_decode_pixels)"
    )


def test_pil_image_is_png_and_downscaled() -> None:
    image = Image.new("RGB", (20_000, 400), "white")
    parts = convert(image, "im")
    assert parts[0] == TextPart("@im: PIL image, 20000×400 RGB")
    assert only_media(parts).mime == "image/png"
    assert size_of(only_media(parts)) == (4096, 82)
    assert image.size == (20_000, 400)  # the user's image is left alone


def test_pil_modes_png_cannot_hold_are_converted() -> None:
    for mode in ("CMYK", "F", "P", "1", "I;16"):
        part = only_media(convert(Image.new(mode, (30, 20)), "im"))
        assert size_of(part) == (30, 20)


def test_jpeg_read_from_a_file_stays_jpeg() -> None:
    with Image.open(io.BytesIO(encoded(Image.new("RGB", (50, 50), "red"), "JPEG"))) as image:
        assert only_media(convert(image, "im")).mime == "image/jpeg"


def test_same_pil_image_gives_same_bytes() -> None:
    image = Image.linear_gradient("L").resize((300, 200))
    first, second = only_media(convert(image)), only_media(convert(image.copy()))
    assert first.data == second.data
    assert sha256(first) == sha256(second) == sha256(first.data)


@pytest.mark.parametrize(
    ("shape", "dtype", "mode"),
    [
        ((48, 64), np.uint8, "L"),
        ((48, 64, 1), np.uint8, "L"),
        ((48, 64, 3), np.uint8, "RGB"),
        ((48, 64, 4), np.uint8, "RGBA"),
        ((48, 64, 3), np.float32, "RGB"),
        ((48, 64), np.float64, "L"),
    ],
)
def test_image_shaped_arrays_are_images(shape: tuple[int, ...], dtype: type, mode: str) -> None:
    array = np.linspace(0, 1 if dtype != np.uint8 else 255, np.prod(shape)).reshape(shape)
    part = only_media(convert(array.astype(dtype), "arr"))
    with Image.open(io.BytesIO(part.data)) as image:
        assert (image.size, image.mode) == ((64, 48), mode)


def test_huge_array_is_downscaled_cheaply() -> None:
    array = np.broadcast_to(np.uint8(200), (20_000, 20_000, 3))  # no memory behind it
    assert size_of(only_media(convert(array, "arr"))) == (2160, 2160)


def test_arrays_that_are_not_images_are_text() -> None:
    for array in (
        np.arange(10.0),
        np.full((64, 64), 3.5),  # floats outside [0, 1]
        np.zeros((1000, 3)),  # a narrow table, not a picture
        np.zeros((32, 32, 2), np.uint8),
        np.arange(64 * 64, dtype=np.int64).reshape(64, 64),
    ):
        (part,) = convert(array, "arr")
        assert isinstance(part, TextPart)
        assert part.text.startswith(f"@arr: NumPy array, shape {array.shape}, dtype {array.dtype}")
        assert len(part.text) < 2_000


class Plot:
    def _repr_png_(self) -> bytes:
        return encoded(Image.new("RGB", (20, 10), "green"), "PNG")


class Photo:
    def _repr_png_(self) -> None:
        return None

    def _repr_jpeg_(self) -> tuple[bytes, dict[str, str]]:
        return encoded(Image.new("RGB", (20, 10)), "JPEG"), {}


class Broken:
    def _repr_png_(self) -> bytes:
        raise RuntimeError("no renderer")

    def __repr__(self) -> str:
        return "Broken()"


def test_repr_png_and_repr_jpeg_objects_are_images() -> None:
    parts = convert(Plot(), "p")
    assert parts[0] == TextPart("@p: Plot (_repr_png_)")
    assert only_media(parts).mime == "image/png"
    assert only_media(convert(Photo(), "p")).mime == "image/jpeg"
    assert convert(Broken(), "b") == [TextPart("@b: Broken()")]
