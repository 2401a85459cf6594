"""PIL images of any mode in one PNG can hold and a model can read: L, LA, RGB or RGBA.

Pillow's own `convert` clips deep images instead of scaling them (a 16-bit image turns
white), so those are scaled here: 16-bit values by 255/65535, 32-bit integers the same
when they are 16-bit values (as is, when they already fit 8 bits; else stretched from
their minimum to maximum), floats as 0–1 intensities when they lie in [0, 1] and stretched
otherwise (NaN and infinities become black). Alpha is kept (LA, PA, P with transparency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kimi_jupyter.errors import ContextError

if TYPE_CHECKING:
    from PIL import Image

PNG_MODES = ("L", "LA", "RGB", "RGBA")
_DIRECT = {"1": "L", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "CMYK": "RGB", "YCbCr": "RGB"}


def has_alpha(image: Image.Image) -> bool:
    """Whether the image has transparency to keep (an alpha band or a transparent colour)."""
    return "A" in image.getbands() or "transparency" in image.info


def to_png_mode(image: Image.Image, who: str) -> Image.Image:
    """`image` in one of `PNG_MODES`, its values scaled faithfully."""
    mode = image.mode
    if mode in PNG_MODES:
        return image
    if mode.startswith("I;16") or mode == "I":
        return _from_integers(image, 65_535 if mode.startswith("I;16") else None)
    if mode == "F":
        return _from_floats(image)
    target = _DIRECT.get(mode) or ("RGBA" if has_alpha(image) else "RGB")
    try:
        return image.convert(target)
    except ValueError:
        raise ContextError(
            f"{who}: PIL images in mode {mode} cannot be converted to RGB; convert it first"
        ) from None


def _from_integers(image: Image.Image, top: int | None) -> Image.Image:
    import numpy as np

    values = np.asarray(image).astype(np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if top is None and low >= 0 and high <= 255:
        return _gray(values)
    if top is None and (low < 0 or high > 65_535):
        return _stretched(values, low, high)
    return _gray(values * (255 / 65_535))


def _from_floats(image: Image.Image) -> Image.Image:
    import numpy as np

    values = np.asarray(image).astype(np.float64)
    finite = values[np.isfinite(values)]
    values = np.where(np.isfinite(values), values, 0.0)
    if not finite.size:
        return _gray(values * 0)
    low, high = float(finite.min()), float(finite.max())
    if low >= 0 and high <= 1:
        return _gray(values * 255)
    return _stretched(values, low, high)


def _stretched(values: Any, low: float, high: float) -> Image.Image:
    span = high - low
    return _gray((values - low) * (255 / span) if span else values * 0)


def _gray(values: Any) -> Image.Image:
    import numpy as np
    from PIL import Image

    pixels = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels))  # 2-D uint8: mode L
