"""Images (PNG/JPEG/WebP/GIF bytes, PIL images, `_repr_png_`) as parts within the limits.

Accepted bytes that already fit the `Limits.max_image` box and weigh at most
`Limits.max_image_bytes` are sent as they are. Any other image is decoded, downscaled into
the box and re-encoded (JPEG stays JPEG, everything else becomes PNG); if that is still
over the byte cap it becomes JPEG (WebP when it has transparency) at falling quality, then
smaller, until it fits. So a 100 MB image costs a request a few MB, not 133.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kimi_jupyter.conversation import MediaPart, Part
from kimi_jupyter.errors import ContextError

from ._common import Limits, call_repr_method, human_size, labelled, who
from ._modes import has_alpha, to_png_mode
from ._sniff import HEAD_BYTES, IMAGE_FORMATS, Sniffed, image_size, sniff

if TYPE_CHECKING:
    from PIL import Image

_CONVERT_HINT = {"SVG": "render the SVG to PNG first"}
_QUALITIES = (85, 70, 55)  # tried in turn before an over-cap image is made smaller
_SMALLEST_SIDE = 16


def fit_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with `size`'s aspect ratio inside `box`, never larger than `size`."""
    (width, height), (max_w, max_h) = size, box
    scale = min(1.0, max_w / width, max_h / height)
    if scale == 1.0:
        return size
    return max(1, min(max_w, round(width * scale))), max(1, min(max_h, round(height * scale)))


def image_from_bytes(data: bytes, sniffed: Sniffed, who: str, limits: Limits) -> MediaPart:
    """Encoded image bytes as a part: as they are if accepted and within the limits."""
    if sniffed.mime is None:
        hint = _CONVERT_HINT.get(sniffed.label, "PIL.Image.open() can convert it")
        raise ContextError(
            f"{who}: {sniffed.label} images are not accepted; send {IMAGE_FORMATS} ({hint})"
        )
    size = image_size(data)
    if (
        size is not None
        and fit_size(size, limits.max_image) == size
        and len(data) <= limits.max_image_bytes
    ):
        _verify(data, sniffed.label, who)
        return MediaPart(data, sniffed.mime)
    return _shrunk(data, sniffed.label, who, limits)


def image_from_pil(image: Image.Image, who: str, limits: Limits) -> MediaPart:
    """A PIL image, encoded as PNG (or JPEG if it was read from a JPEG), within the limits."""
    if image.width < 1 or image.height < 1:
        raise ContextError(
            f"{who}: the image is {image.width}×{image.height} pixels: nothing to send"
        )
    try:
        image.load()
    except OSError as exc:
        raise ContextError(f"{who}: the image cannot be decoded ({exc})") from None
    fmt = "JPEG" if image.format in ("JPEG", "MPO") else "PNG"
    return fit(image, fmt, who, limits)


def fit(image: Image.Image, fmt: str, who: str, limits: Limits) -> MediaPart:
    """`image` downscaled into `limits.max_image` and encoded within `limits.max_image_bytes`."""
    image = downscale(image, limits.max_image, who)
    part = encode(image, fmt)
    if len(part.data) <= limits.max_image_bytes:
        return part
    return _squeezed(image, who, limits)


def downscale(image: Image.Image, box: tuple[int, int], who: str = "the image") -> Image.Image:
    """`image` in a mode PNG can hold (L, LA, RGB, RGBA), shrunk to fit `box` if needed."""
    from PIL import Image

    target = fit_size(image.size, box)
    if target != image.size and image.mode in ("1", "P", "PA"):
        # These modes resample only by nearest neighbour: go that way to twice the target,
        # then convert and resample properly.
        near = (min(image.width, 2 * target[0]), min(image.height, 2 * target[1]))
        image = image.resize(near, Image.Resampling.NEAREST)
    image = to_png_mode(image, who)
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode(image: Image.Image, fmt: str = "PNG", quality: int = 90) -> MediaPart:
    """`image` as PNG, or as JPEG or WebP at `quality` when asked and the mode allows it."""
    buffer = io.BytesIO()
    if fmt == "JPEG" and image.mode in ("L", "RGB"):
        image.save(buffer, "JPEG", quality=quality)
        return MediaPart(buffer.getvalue(), "image/jpeg")
    if fmt == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=4)
        return MediaPart(buffer.getvalue(), "image/webp")
    image.save(buffer, "PNG")
    return MediaPart(buffer.getvalue(), "image/png")


def pil_parts(obj: Image.Image, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for PIL images."""
    part = image_from_pil(obj, who(name, obj), limits)
    return labelled(name, f"PIL image, {obj.width}×{obj.height} {obj.mode}", part)


def repr_image_parts(obj: object, name: str | None, limits: Limits) -> Sequence[Part] | None:
    """Converter for objects with `_repr_png_`/`_repr_jpeg_`; None if they return nothing."""
    for method in ("_repr_png_", "_repr_jpeg_"):
        data = _as_bytes(call_repr_method(obj, method))
        sniffed = sniff(data[:HEAD_BYTES])
        if data and sniffed.kind == "image" and sniffed.mime is not None:
            part = image_from_bytes(data, sniffed, who(name, obj), limits)
            return labelled(name, f"{type(obj).__name__} ({method})", part)
    return None


def _as_bytes(data: object) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):  # IPython also accepts base64 text from _repr_png_
        try:
            return base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            return b""
    return b""


def _shrunk(data: bytes, label: str, who: str, limits: Limits) -> MediaPart:
    from PIL import Image, ImageOps

    try:
        image = _open_unchecked(data, label)
        check_pixels(image.size, who, limits)
        if label == "JPEG":  # let libjpeg decode at 1/2, 1/4 or 1/8 scale: fast and small
            image.draft("RGB", fit_size(image.size, limits.max_image))
        ImageOps.exif_transpose(image, in_place=True)  # re-encoding drops the EXIF rotation
        return fit(image, label, who, limits)
    except Image.DecompressionBombError:
        raise ContextError(f"{who}: the {label} image is too large to decode") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ContextError(f"{who}: the {label} image cannot be decoded ({exc})") from None


def _squeezed(image: Image.Image, who: str, limits: Limits) -> MediaPart:
    """Lossy encodings at falling quality, then smaller sizes, until one fits the cap."""
    from PIL import Image

    cap, lossy = limits.max_image_bytes, "WEBP" if has_alpha(image) else "JPEG"
    while True:
        for quality in _QUALITIES:
            part = encode(image, lossy, quality)
            if len(part.data) <= cap:
                return part
        if max(image.size) <= _SMALLEST_SIDE:
            raise ContextError(
                f"{who}: the image cannot be made as small as {human_size(cap)} "
                "(Limits.max_image_bytes)"
            )
        scale = min(0.9, math.sqrt(cap / len(part.data)))
        target = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image = image.resize(target, Image.Resampling.LANCZOS)


def _verify(data: bytes, label: str, who: str) -> None:
    """Bytes about to go as they are: Pillow reads their structure (PNG chunk checksums,
    say) without decoding pixels, so a truncated or corrupt image is one line here rather
    than a 400 from the API."""
    try:
        _open_unchecked(data, label).verify()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ContextError(f"{who}: the {label} image cannot be decoded ({exc})") from None


def _open_unchecked(data: bytes, label: str) -> Image.Image:
    """Open without Pillow's global decompression-bomb check, which refuses anything over
    ~179 megapixels: `Limits.max_decode_pixels` applies instead, and raising
    `PIL.Image.MAX_IMAGE_PIXELS` would lower the guard for the whole kernel."""
    from PIL import Image

    Image.init()
    plugin = Image.OPEN.get(label.upper())
    if plugin is None:
        raise OSError(f"this Pillow has no {label} decoder")
    return plugin[0](io.BytesIO(data), "")


def check_pixels(size: tuple[int, int] | None, who: str, limits: Limits) -> None:
    """A ContextError if an image of `size` is over `Limits.max_decode_pixels`."""
    if size is not None and size[0] * size[1] > limits.max_decode_pixels:
        raise ContextError(
            f"{who}: the image is {size[0]:,}×{size[1]:,} pixels, over the decoding limit "
            f"of {limits.max_decode_pixels:,} pixels (Limits.max_decode_pixels)"
        )
