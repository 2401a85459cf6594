"""Plotly figures (Figure, FigureWidget, Plotly Express results) as PNG parts, drawn by kaleido.

kaleido draws in the Chrome or Chromium already on the machine (`_chrome.find_chrome`);
nothing is downloaded. The first figure starts the browser (2-3 s), later ones take about
0.2 s (`_kaleido`). The image has the size the user sees: the layout's width and height
(else its template's, else `plotly.io.defaults`' 700×500) times
`plotly.io.defaults.default_scale`; a figure that would not fit `Limits.max_image` is
drawn at a lower scale. An unchanged figure gives the same bytes. Without a browser (or
kaleido) the figure goes as a compact JSON summary of its data, and a `note()` says why and
how to get one (`--dry-run` and the status line show it).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.errors import ContextError

from . import images
from ._chrome import HOW_TO_GET, find_chrome
from ._common import Limits, clip, truncate, who
from ._jsonsafe import dumps
from ._notes import note
from ._sniff import HEAD_BYTES, sniff

_DATA_KEYS = ("x", "y", "z", "values", "labels", "lat", "lon", "locations", "r", "theta",
              "a", "b", "c", "open", "close", "ids", "parents")  # fmt: skip
_AXIS = re.compile(r"[a-z]*axis\d*")  # xaxis2, and a scene's zaxis, a polar's radialaxis
_SUBPLOT = re.compile(r"(?:scene|polar|ternary|smith)\d*")
_MAX_AXES = 16


def plotly_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for Plotly `BaseFigure`s: go.Figure, go.FigureWidget, Plotly Express."""
    return _parts(obj.to_dict(), who(name, obj), f"Plotly {type(obj).__name__}", limits)


def plotly_spec_parts(spec: dict[str, Any], who: str, limits: Limits) -> list[Part]:
    """The figure in a displayed `application/vnd.plotly.v1+json` output, as for a Figure."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("data"), list):
        raise ContextError(f"{who}: the Plotly output holds no figure (no list of traces)")
    layout = spec.get("layout")
    fig = {"data": spec["data"], "layout": layout if isinstance(layout, Mapping) else {}}
    return _parts(fig, who, "Plotly figure", limits)


def _parts(fig: dict[str, Any], who: str, what: str, limits: Limits) -> list[Part]:
    """A figure dict as a PNG part, or as its JSON summary when nothing here can draw it."""
    chrome = find_chrome()
    if chrome is None or importlib.util.find_spec("kaleido") is None:
        why, how = _why_not_drawn(chrome)
        note(
            f"{_named(who, what)} sent as a JSON summary of its data, not as an image: {why}; {how}"
        )
        return [_summary_part(fig, who, what, why, limits)]
    width, height, scale = _size(fig)
    seen = (round(width * scale), round(height * scale))
    max_w, max_h = limits.max_image
    opts = {
        "format": "png",
        "width": width,
        "height": height,
        "scale": min(scale, max_w / width, max_h / height),
    }
    from ._kaleido import Browser  # asyncio and threads: not loaded before the first figure

    png = Browser.draw(chrome, fig, opts, _defaults("topojson"), who)
    part = images.image_from_bytes(png, sniff(png[:HEAD_BYTES]), who, limits)
    return _labelled(who, f"{what}, {seen[0]}×{seen[1]}", part)


def _size(fig: Mapping[str, Any]) -> tuple[float, float, float]:
    """(width, height, scale) as plotly's `to_image` and the notebook use them."""
    layout = _mapping(fig.get("layout"))
    template = _mapping(_mapping(layout.get("template")).get("layout"))

    def side(key: str, fallback: float) -> float:
        found = (layout.get(key), template.get(key), _defaults(f"default_{key}"), fallback)
        return next(n for n in map(_positive, found) if n is not None)

    return side("width", 700.0), side("height", 500.0), _positive(_defaults("default_scale")) or 1.0


def _summary_part(
    fig: Mapping[str, Any], who: str, what: str, why: str, limits: Limits
) -> TextPart:
    """A line saying what was sent instead of an image and why, then the figure as compact
    JSON (title, size, axis titles, each trace's type, name and number of points), with
    fewer traces until it fits `Limits.max_text_chars`."""
    head = f"{_named(who, what)} as a JSON summary of its data, not as an image ({why})"
    layout, cut = _mapping(fig.get("layout")), limits.max_cell_chars
    width, height, scale = _size(fig)
    summary: dict[str, Any] = {
        "figure": what,
        "title": clip(_title(layout.get("title")), cut),
        "size": [round(width * scale), round(height * scale)],
        "axes": {k: clip(v, cut) for k, v in _axis_titles(layout).items()},
    }
    traces = [_trace(t, cut) for t in _list(fig.get("data"))]
    for shown in _fewer(len(traces)):
        summary["traces"] = traces[:shown]
        if shown < len(traces):
            summary["traces_not_shown"] = len(traces) - shown
        body = dumps(summary)
        if len(head) + 1 + len(body) <= limits.max_text_chars:
            break
    return TextPart(truncate(f"{head}\n{body}", limits.max_text_chars))


def _trace(value: object, cut: int) -> dict[str, Any]:
    trace = _mapping(value)
    out: dict[str, Any] = {"type": clip(str(trace.get("type") or "scatter"), cut)}
    for key in ("name", "mode"):
        if isinstance(trace.get(key), str) and trace[key]:
            out[key] = clip(trace[key], cut)
    counts = [_count(trace[key]) for key in _DATA_KEYS if key in trace]
    out["points"] = max(counts, default=0)
    return out


def _count(value: object) -> int:
    """How many values a data array holds: a list, a NumPy array or plotly's base64 form."""
    if isinstance(value, Mapping) and isinstance(value.get("bdata"), str):
        shape = value.get("shape")
        if isinstance(shape, str) and shape.strip():
            return math.prod(int(n) for n in shape.split(",") if n.strip().isdigit())
        item = int(re.sub(r"\D", "", str(value.get("dtype", ""))) or 1)
        data = str(value["bdata"]).strip()
        return (len(data) * 3 // 4 - data[-2:].count("=")) // item
    size = getattr(value, "size", None)  # a NumPy array, without importing NumPy
    if isinstance(size, int):
        return size
    if isinstance(value, (list, tuple)):
        return sum(_count(v) if isinstance(v, (list, tuple)) else 1 for v in value)
    return 0


def _axis_titles(layout: Mapping[str, Any]) -> dict[str, str]:
    """`{"xaxis": "time", "scene.zaxis": "depth"}`: 3-D, polar and ternary subplots hold
    their own axes."""
    titles: dict[str, str] = {}
    for key, value in layout.items():
        if _AXIS.fullmatch(key) and (title := _title(_mapping(value).get("title"))):
            titles[key] = title
        elif _SUBPLOT.fullmatch(key):
            titles.update({f"{key}.{k}": v for k, v in _axis_titles(_mapping(value)).items()})
    return dict(list(titles.items())[:_MAX_AXES])


def _title(title: object) -> str:
    if isinstance(title, Mapping):
        title = title.get("text")
    return title if isinstance(title, str) else ""


def _fewer(n: int) -> list[int]:
    """How many traces to try showing: all, then fewer, down to none."""
    counts, shown = [], n
    while shown > 0:
        counts.append(shown)
        shown = shown // 2 if shown > 8 else shown - 1
    return [*counts, 0]


def _why_not_drawn(chrome: str | None) -> tuple[str, str]:
    """Why nothing here can draw the figure, and how to change that."""
    named = os.environ.get("KIMI_CHROME")
    if chrome is None and named is not None:
        return f"KIMI_CHROME={named!r} is not a browser", HOW_TO_GET
    if chrome is None:
        return "no Chrome or Chromium here to draw it in", HOW_TO_GET
    return "kaleido is not installed", "pip install 'kimi-jupyter[plotly]'"


def _named(who: str, what: str) -> str:
    return f"{who}: {what}" if who.startswith("@") else what


def _defaults(name: str) -> Any:
    """A setting from `plotly.io.defaults` (the sizes, scale and topojson `to_image` uses)."""
    try:
        import plotly.io as pio
    except ImportError:
        return None
    return getattr(pio.defaults, name, None)


def _labelled(who: str, what: str, part: MediaPart) -> list[Part]:
    return [TextPart(_named(who, what)), part] if who.startswith("@") else [part]


def _positive(value: object) -> float | None:
    """`value` as a float if it is a finite number above 0 (a size or a scale), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 < value < math.inf else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
