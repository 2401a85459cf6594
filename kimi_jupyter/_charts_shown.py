"""What `@last` keeps of one display, and how a JavaScript chart it showed becomes an image.

A display is kept in its richest form: an image (sent as shown), else a chart's mime data
(Plotly JSON, a Vega-Lite/Vega spec, or a Bokeh/HoloViews output that only names its model
by id), else its text. The chart object behind a display (a cell's result, an object passed
to `display()`) is kept with it, so `@last` draws the chart from the object when the cell
gave one, else from the displayed spec, else finds Bokeh's model by its id; when nothing
can draw it, the display's text goes instead and a note says so.

Chart objects are recognised by class names along their MRO, so no chart library is
imported here; the classes are those the default converters (`kimi_jupyter.context`) draw.
"""

from __future__ import annotations

import base64
import gc
import json
import re
import sys
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_jupyter.conversation import Part, TextPart
from kimi_jupyter.errors import ContextError, KimiError, one_line

if TYPE_CHECKING:
    from kimi_jupyter.context import Limits

IMAGE_MIMES = ("image/png", "image/jpeg")
PLOTLY = "application/vnd.plotly.v1+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
HOLOVIEWS_EXEC = "application/vnd.holoviews_exec.v0+json"
# Altair 6 writes `application/vnd.vegalite.v6.json`, Altair 5 `…v5+json`.
_VEGA = re.compile(r"application/vnd\.vega(lite)?\.v\d+[.+]json")
_TEXT_LIMIT = 4_000

_CHART_CLASSES = frozenset(
    {
        ("plotly", "BaseFigure"),
        ("altair", "TopLevelMixin"),
        ("bokeh", "LayoutDOM"),
        ("holoviews", "Dimensioned"),
        ("plotnine", "ggplot"),
        ("plotnine", "Compose"),
        ("seaborn", "Plot"),
        ("seaborn", "Plotter"),
        ("seaborn", "_BaseGrid"),
        ("seaborn", "Grid"),
        ("seaborn", "JointGrid"),
        ("matplotlib", "FigureBase"),
        ("matplotlib", "Axes"),
    }
)
# Their displays are PNGs already (the inline backend's, or their own `_repr_png_`).
_IMAGE_LIBRARIES = frozenset({"matplotlib", "seaborn", "plotnine"})
_LIBRARIES = {"plotly": "Plotly", "altair": "Altair", "bokeh": "Bokeh", "holoviews": "HoloViews"}


def is_chart(obj: object) -> bool:
    """Whether `obj` is a chart the default converters draw (read from class names only)."""
    return any((_package(cls), cls.__name__) in _CHART_CLASSES for cls in type(obj).__mro__)


@dataclass
class Shown:
    """One display of a cell: its richest kept form, the bundle's text (sent when a chart
    cannot be drawn), its output id (Bokeh, HoloViews) and the chart object behind it."""

    mime: str
    data: bytes | str | dict[str, Any]
    text: str | None = None
    ident: str | None = None
    obj: object = None  # held as long as the cell's record is
    size: int = 0
    # An image's figure, not kept alive: mentioned too (`@fig @last`), it is sent once.
    source: Callable[[], object] | None = field(default=None, repr=False)
    # The parts and notes it was drawn as: asked again, it sends the same bytes at once.
    _drawn: tuple[Limits, list[Part], list[str]] | None = field(default=None, repr=False)


def shown_from(data: Mapping[str, Any], metadata: object, obj: object) -> Shown | None:
    """What `@last` keeps of one display bundle, or None if nothing in it is worth keeping."""
    mime = next((m for m in IMAGE_MIMES if m in data), None)
    mime = mime or next((m for m in data if is_chart_mime(m)), None)
    mime = mime or ("text/plain" if "text/plain" in data else None)
    if mime is None:
        return None
    text = _text(data.get("text/plain"))
    ident = _ident(metadata, mime)
    if mime == HOLOVIEWS_EXEC and text is None and obj is None:
        return None  # `hv.extension()` sets the page up with one of these: not a chart
    source = None
    if mime in IMAGE_MIMES:
        source = _weak(obj)
        obj = None  # the image is sent as shown: holding a closed figure would only cost memory
    elif mime == BOKEH_EXEC and obj is None:
        obj = bokeh_model(ident, scan=False)  # `show()` has just made it a root of its document
    value = data[mime]
    return Shown(mime, value, text, ident, obj, _size(value) + len(text or ""), source=source)


def _weak(obj: object) -> Callable[[], object] | None:
    if obj is None:
        return None
    try:
        return weakref.ref(obj)
    except TypeError:  # not weakly referable: not kept
        return None


def is_chart_mime(mime: str) -> bool:
    return mime in (PLOTLY, BOKEH_EXEC, HOLOVIEWS_EXEC) or _VEGA.fullmatch(mime) is not None


def shown_parts(shown: Shown, label: str, *, drawn: bool, limits: Limits) -> list[Part]:
    """What one display becomes in `@last`. `drawn`: the cell displayed an image, so a
    matplotlib-like object beside it is what that image shows, and goes as its text."""
    from kimi_jupyter.context import note
    from kimi_jupyter.context._notes import collecting
    from kimi_jupyter.context.media import media_part

    data = shown.data
    if shown.mime in IMAGE_MIMES and isinstance(data, (str, bytes)):
        raw = base64.b64decode(data) if isinstance(data, str) else data
        return [media_part(raw, f"@last ({label})", limits)]
    if shown.mime == "text/plain" and (shown.obj is None or (drawn and _is_image_like(shown.obj))):
        return [TextPart((shown.text or "")[:_TEXT_LIMIT])]
    if shown._drawn is None or shown._drawn[0] != limits:
        with collecting() as notes:
            parts = _draw(shown, label, limits)
        shown._drawn = (limits, parts, list(notes))
    _, parts, notes = shown._drawn
    for text in notes:
        note(text)  # said again for this question: the first one's notes are gone
    return list(parts)


def _draw(shown: Shown, label: str, limits: Limits) -> list[Part]:
    """The chart from its object, else its displayed spec, else its text and a note."""
    from kimi_jupyter.context import Registry, note

    reason = "the kernel no longer holds it, and only a browser can draw what was displayed"
    if shown.obj is None and shown.mime == BOKEH_EXEC:
        shown.obj = bokeh_model(shown.ident, scan=True)
    if shown.obj is not None:
        try:
            return Registry.default().convert(shown.obj, "last", limits=limits)
        except ContextError as exc:
            reason = _reason(exc)
    spec = _spec(shown)
    if spec is not None:
        try:
            return _spec_parts(shown.mime, spec, "@last", limits)
        # Chart libraries may raise anything while drawing; the text still goes.
        except Exception as exc:  # noqa: BLE001
            reason = _reason(exc)
    library = _library(shown)
    sent = "its text" if shown.text else "a line saying so"
    note(f"@last: {label} displayed a {library} chart that cannot be drawn here ({reason}): "
         f"sent {sent} instead")  # fmt: skip
    text = shown.text or f"[{label} displayed a {library} chart that cannot be drawn here]"
    return [TextPart(text[:_TEXT_LIMIT])]


def _spec_parts(mime: str, spec: dict[str, Any], who: str, limits: Limits) -> list[Part]:
    if mime == PLOTLY:
        from kimi_jupyter.context.plotly_charts import plotly_spec_parts

        return plotly_spec_parts(spec, who, limits)
    from kimi_jupyter.context.vega_charts import vega_spec_parts

    return vega_spec_parts(spec, mime, who, limits)


def bokeh_model(ident: str | None, *, scan: bool) -> object:
    """The Bokeh model `show()` displayed under this id: from Bokeh's current document, else
    (`scan`) from every object alive, which is slow and done only when `@last` needs it."""
    if not ident:
        return None
    state = sys.modules.get("bokeh.io.state")  # loaded if Bokeh displayed anything
    if state is not None:
        model = state.curstate().document.get_model_by_id(ident)
        if model is not None:
            return model
    if scan:
        for obj in gc.get_objects():
            if _package(type(obj)) == "bokeh" and is_chart(obj) and obj.id == ident:
                return obj
    return None


def _spec(shown: Shown) -> dict[str, Any] | None:
    if shown.mime != PLOTLY and not _VEGA.fullmatch(shown.mime):
        return None
    data = shown.data
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def _library(shown: Shown) -> str:
    if shown.obj is not None:
        package = _package(type(shown.obj))
        return _LIBRARIES.get(package, package)
    if shown.mime == PLOTLY:
        return "Plotly"
    if shown.mime in (BOKEH_EXEC, HOLOVIEWS_EXEC):
        return "Bokeh" if shown.mime == BOKEH_EXEC else "HoloViews"
    match = _VEGA.fullmatch(shown.mime)
    return "Vega-Lite" if match and match.group(1) else "Vega"


def _reason(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, KimiError) else one_line(exc, 200)
    # Converters start their messages with the mention (`@last: …`): the note already does.
    return re.sub(r"^@last(?: \([^)]*\))?: ", "", text)


def _is_image_like(obj: object) -> bool:
    return _package(type(obj)) in _IMAGE_LIBRARIES


def _package(cls: type) -> str:
    return str(getattr(cls, "__module__", "") or "").partition(".")[0]


def _text(data: object) -> str | None:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data if isinstance(data, str) else None


def _ident(metadata: object, mime: str) -> str | None:
    entry = metadata.get(mime) if isinstance(metadata, Mapping) else None
    ident = entry.get("id") if isinstance(entry, Mapping) else None
    return ident if isinstance(ident, str) else None


def _size(data: object) -> int:
    if isinstance(data, (bytes, str)):
        return len(data)
    try:
        return len(json.dumps(data, default=repr))
    except (ValueError, TypeError, RecursionError):
        return 0
