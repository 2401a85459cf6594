"""NumPy arrays: image-shaped ones as images, all others as a bounded text summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kimi_jupyter.conversation import MediaPart, Part

from . import images
from ._common import Limits, labelled, text_part, who

# A 2-D array narrower than this is a table of numbers, not a grayscale picture.
_MIN_2D_SIDE = 16


def array_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for `numpy.ndarray`."""
    part = image_from_array(obj, limits, who(name, obj))
    if part is not None:
        what = f"NumPy array {obj.shape} {obj.dtype}, shown as an image"
        return labelled(name, what, part)
    return [text_part(name, _summary(obj), limits)]


def image_from_array(array: Any, limits: Limits, who: str = "the array") -> MediaPart | None:
    """An H×W, H×W×1, H×W×3 or H×W×4 array of uint8, or of floats in [0, 1], as a PNG;
    None for any other array."""
    import numpy as np
    from PIL import Image

    if not _image_shaped(array):
        return None
    pixels = _subsampled(array, limits.max_image)
    if pixels.dtype.kind == "f":
        if not (np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1):
            return None
        pixels = (pixels * 255 + 0.5).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    image = Image.fromarray(np.ascontiguousarray(pixels))
    return images.fit(image, "PNG", who, limits)


def _image_shaped(array: Any) -> bool:
    if array.dtype.kind != "f" and array.dtype.name != "uint8":
        return False
    if array.ndim == 2:
        return bool(min(array.shape) >= _MIN_2D_SIDE)
    return bool(array.ndim == 3 and array.shape[2] in (1, 3, 4) and min(array.shape[:2]) >= 1)


def _subsampled(array: Any, box: tuple[int, int]) -> Any:
    """A strided view still at least twice the target size, so that a 20,000² array is
    resampled from a few megapixels instead of copied and converted whole."""
    height, width = array.shape[:2]
    target_w, target_h = images.fit_size((width, height), box)
    step = max(1, min(width // (2 * target_w), height // (2 * target_h)))
    return array[::step, ::step] if step > 1 else array


def _summary(array: Any) -> str:
    import numpy as np

    body = np.array2string(array, threshold=200, edgeitems=3, max_line_width=100)
    return f"NumPy array, shape {array.shape}, dtype {array.dtype}\n{body}"
