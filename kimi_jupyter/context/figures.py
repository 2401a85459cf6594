"""Matplotlib figures, subfigures, axes and seaborn grids as PNG parts.

The same unchanged figure gives the same bytes every time (no `Software` text chunk, no
timestamps), so a conversation that resends it keeps Kimi's prompt cache warm. Big
figures are rendered at a lower dpi to fit `Limits.max_image` (cheaper and sharper than
rendering large and shrinking); Pillow then trims any rounding overshoot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from kimi_jupyter.conversation import MediaPart, Part
from kimi_jupyter.errors import ContextError

from . import images
from ._common import Limits, labelled, who
from ._sniff import image_size


def figure_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for Figure, SubFigure, Axes and anything with a `.figure` (seaborn grids)."""
    figure = _figure_of(obj)
    if not _has_content(figure):
        raise ContextError(
            f"{who(name, obj)}: the figure is empty (nothing is drawn on it); plot into it "
            "first, or mention @last to send what the previous cell displayed"
        )
    part = render_png(figure, who(name, obj), limits)
    return labelled(name, f"matplotlib {type(obj).__name__}", part)


def render_png(figure: Any, who: str, limits: Limits) -> MediaPart:
    """A Figure or SubFigure as PNG bytes that fit `limits.max_image`."""
    root = _root(figure)
    width_in, height_in, bbox = _extent(figure, root)
    if round(width_in * root.dpi) < 1 or round(height_in * root.dpi) < 1:
        raise ContextError(
            f"{who}: the figure is {width_in:g}×{height_in:g} inches, too small to draw; "
            "give it a size first (fig.set_size_inches(6, 4))"
        )
    max_w, max_h = limits.max_image
    dpi = min(float(root.dpi), max_w / width_in, max_h / height_in)
    buffer = io.BytesIO()
    try:
        root.savefig(buffer, format="png", dpi=dpi, bbox_inches=bbox, metadata={"Software": None})
    except (ValueError, RuntimeError, OverflowError) as exc:
        raise ContextError(f"{who}: the figure could not be drawn ({exc})") from None
    png = buffer.getvalue()
    size = image_size(png)
    if (
        size is not None
        and images.fit_size(size, limits.max_image) == size
        and len(png) <= limits.max_image_bytes
    ):
        return MediaPart(png, "image/png")
    from PIL import Image

    return images.fit(Image.open(io.BytesIO(png)), "PNG", who, limits)


def _figure_of(obj: Any) -> Any:
    from matplotlib.figure import FigureBase

    if isinstance(obj, FigureBase):
        return obj
    figure = getattr(obj, "figure", None)  # Axes, seaborn FacetGrid/PairGrid/JointGrid
    if isinstance(figure, FigureBase):
        return figure
    raise ContextError(f"{who(None, obj)}: it has no matplotlib figure to draw")


def _root(figure: Any) -> Any:
    from matplotlib.figure import Figure

    root = figure
    while not isinstance(root, Figure):  # a SubFigure's .figure is its parent (or root)
        root = root.figure
    return root


def _extent(figure: Any, root: Any) -> tuple[float, float, Any]:
    """Size in inches, and the `bbox_inches` that crops the root to a SubFigure."""
    if figure is root:
        width_in, height_in = root.get_size_inches()
        return float(width_in), float(height_in), None
    bbox = figure.bbox.transformed(root.dpi_scale_trans.inverted())
    return float(bbox.width), float(bbox.height), bbox


def _has_content(figure: Any) -> bool:
    drawn = (figure.texts, figure.images, figure.lines, figure.patches, figure.legends)
    if any(drawn) or figure.artists:
        return True
    if any(_axes_has_content(ax) for ax in figure.axes):
        return True
    return any(_has_content(sub) for sub in figure.subfigs)


def _axes_has_content(ax: Any) -> bool:
    return bool(ax.has_data() or ax.texts or ax.tables or ax.artists)
