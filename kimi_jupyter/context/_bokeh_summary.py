"""A Bokeh model as a small JSON-able summary, sent when no browser can draw it.

What a chart shows, bounded whatever its size: layouts' children, plots' titles, axes,
glyphs, legend labels and the length of each data column (not the data itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import clip

_ITEMS = 20  # children, renderers, columns, labels: at most this many of each
_DEPTH = 6
_CHARS = 200


def summary(model: Any) -> dict[str, Any]:
    """The summary of a Bokeh layout, plot or widget."""
    return _summary(model, 0)


def _summary(model: Any, depth: int) -> dict[str, Any]:
    """What a Bokeh model shows, bounded: plots' titles, axes, glyphs and data columns."""
    from bokeh.models import Plot

    out: dict[str, Any] = {"type": type(model).__name__}
    for key in ("width", "height"):
        value = getattr(model, key, None)
        if isinstance(value, int):
            out[key] = value
    if isinstance(model, Plot):
        return out | _plot_summary(model)
    text = getattr(model, "text", None)  # Div, Paragraph, PreText
    if isinstance(text, str):
        out["text"] = clip(text, _CHARS)
    children = _children(model)
    if children and depth < _DEPTH:
        shown = [_summary(child, depth + 1) for child in children[:_ITEMS]]
        out["children"] = shown + _more(len(children))
    return out


def _children(model: Any) -> list[Any]:
    found = []
    for item in getattr(model, "children", None) or []:  # grids hold (child, row, col, ...)
        found.append(item[0] if isinstance(item, tuple) else item)
    found.extend(getattr(panel, "child", None) for panel in getattr(model, "tabs", None) or [])
    return [child for child in found if child is not None]


def _plot_summary(plot: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    title = getattr(plot.title, "text", None)
    if title:
        out["title"] = clip(str(title), _CHARS)
    for key, axes in (("x_axis", plot.xaxis), ("y_axis", plot.yaxis)):
        out[key] = [_axis(axis) for axis in list(axes)[:_ITEMS]]
    renderers = list(plot.renderers)
    out["renderers"] = [_renderer(r) for r in renderers[:_ITEMS]] + _more(len(renderers))
    labels = [_text(item.label) for legend in plot.legend for item in legend.items]
    if any(labels):
        out["legend"] = [label for label in labels if label][:_ITEMS]
    return out


def _axis(axis: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(axis).__name__}
    label = _text(axis.axis_label)
    if label:
        out["label"] = label
    return out


def _renderer(renderer: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(renderer).__name__}
    if getattr(renderer, "name", None):
        out["name"] = clip(str(renderer.name), _CHARS)
    glyph = getattr(renderer, "glyph", None)
    if glyph is not None:
        out["glyph"] = type(glyph).__name__
    data = getattr(getattr(renderer, "data_source", None), "data", None)
    if isinstance(data, Mapping):
        columns = list(data.items())
        out["columns"] = {clip(str(key), _CHARS): _length(value) for key, value in columns[:_ITEMS]}
        if len(columns) > _ITEMS:
            out["more_columns"] = len(columns) - _ITEMS
    return out


def _text(value: Any) -> str | None:
    """A label's text: a plain string, a `value("...")` spec or a TeX/text model."""
    if isinstance(value, Mapping):
        value = value.get("value")
    value = getattr(value, "value", getattr(value, "text", value))
    return clip(value, _CHARS) if isinstance(value, str) and value else None


def _length(value: Any) -> int | None:
    try:
        return len(value)
    except TypeError:
        return None


def _more(count: int) -> list[Any]:
    return [f"… {count - _ITEMS} more"] if count > _ITEMS else []
