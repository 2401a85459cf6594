"""Altair charts and displayed Vega-Lite / Vega specs as PNG parts, drawn by vl-convert.

vl-convert draws in its own embedded JavaScript engine: no browser, no network. A chart
that loads its data from a URL is refused (`allowed_base_urls=[]`) rather than fetched,
or silently drawn empty offline. The Vega-Lite version is the one the spec's `$schema`
names (the closest vl-convert bundles), since another version lays the same spec out
differently. Scale 1 gives the chart's own width and height, as the user sees it; a chart
that would not fit `Limits.max_image` is drawn again at a lower scale. The same chart
gives the same bytes. The first chart in a process costs about a second (the engine
starts), later ones about 0.05 s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.errors import ContextError

from . import images
from ._common import Limits, clip, one_line, who
from ._sniff import HEAD_BYTES, image_size, sniff

Grammar = Literal["vega-lite", "vega"]
_MIME = re.compile(r"application/vnd\.(vegalite|vega)\.v(\d+)[.+]json")
_SCHEMA = re.compile(r"/v(\d+)(?:\.(\d+))?[^/]*\.json$")
_DATA_URL = re.compile(r"External data url not allowed: (\S+)")
_SAID_CHARS = 200
_INSTALL = "vl-convert-python (pip install 'kimi-jupyter[altair]')"
_NAMES: dict[Grammar, str] = {"vega-lite": "Vega-Lite", "vega": "Vega"}


def altair_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for Altair charts (any `alt.TopLevelMixin`: Chart, LayerChart, concat…)."""
    from altair.utils.schemapi import SchemaValidationError

    label = who(name, obj)
    try:
        spec = obj.to_dict()
    except (SchemaValidationError, ValueError) as exc:
        said = clip(one_line(exc), _SAID_CHARS)
        raise ContextError(f"{label}: Altair cannot turn the chart into a spec ({said})") from None
    return _parts(spec, "vega-lite", None, label, f"Altair {type(obj).__name__}", limits)


def vega_spec_parts(spec: dict[str, Any], mime: str, who: str, limits: Limits) -> list[Part]:
    """A displayed `application/vnd.vegalite.vN+json` (Altair 6 writes `.vN.json`) or
    `application/vnd.vega.vN+json` spec as a PNG part."""
    match = _MIME.fullmatch(mime)
    if match is None:
        raise ContextError(f"{who}: {mime} is not a Vega or Vega-Lite output")
    grammar: Grammar = "vega-lite" if match.group(1) == "vegalite" else "vega"
    if not isinstance(spec, Mapping):
        raise ContextError(f"{who}: the {_NAMES[grammar]} output holds no spec")
    what = f"{_NAMES[grammar]} chart"
    return _parts(dict(spec), grammar, int(match.group(2)), who, what, limits)


def _parts(
    spec: dict[str, Any], grammar: Grammar, major: int | None, who: str, what: str, limits: Limits
) -> list[Part]:
    png = _draw(spec, grammar, major, 1.0, who)
    seen = image_size(png) or (0, 0)
    max_w, max_h = limits.max_image
    if seen[0] > max_w or seen[1] > max_h:  # drawn again smaller: sharper than shrinking
        png = _draw(spec, grammar, major, min(max_w / seen[0], max_h / seen[1]), who)
    part = images.image_from_bytes(png, sniff(png[:HEAD_BYTES]), who, limits)
    return _labelled(who, f"{what}, {seen[0]}×{seen[1]}", part)


def _draw(
    spec: dict[str, Any], grammar: Grammar, major: int | None, scale: float, who: str
) -> bytes:
    try:
        import vl_convert as vlc
    except ImportError:
        raise ContextError(f"{who}: drawing charts needs {_INSTALL}") from None
    try:
        if grammar == "vega":
            return vlc.vega_to_png(spec, scale=scale, allowed_base_urls=[])
        version = _vegalite_version(spec, major, vlc.get_vegalite_versions())
        return vlc.vegalite_to_png(spec, vl_version=version, scale=scale, allowed_base_urls=[])
    except (ValueError, RuntimeError) as exc:
        raise ContextError(f"{who}: {_problem(exc, grammar)}") from None


def _problem(exc: Exception, grammar: Grammar) -> str:
    """vl-convert's error as one line: the JavaScript error, without its stack."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = lines[0] if lines else type(exc).__name__
    if said.endswith("failed:") and len(lines) > 1:  # "Vega-Lite to PNG conversion failed:"
        said = lines[1]
    if url := _DATA_URL.search(said):
        return (
            f"the chart loads its data from {clip(url.group(1), _SAID_CHARS)}, and charts are "
            "drawn without fetching anything; give the chart the data itself (a DataFrame)"
        )
    return f"{_NAMES[grammar]} could not draw the chart ({clip(said, _SAID_CHARS)})"


def _vegalite_version(
    spec: Mapping[str, Any], major: int | None, versions: Sequence[str]
) -> str | None:
    """Of the Vega-Lite `versions` vl-convert bundles, the closest to the one `$schema`
    names: the oldest at least as new in the same major version, else the newest of that
    major version (also when only the output's MIME type gives a major version)."""
    minor: int | None = None
    match = _SCHEMA.search(str(spec.get("$schema", "")))
    if match is not None:
        major, minor = int(match.group(1)), int(match.group(2) or 0)
    if major is None:
        return None  # vl-convert's newest
    bundled = sorted(tuple(int(n) for n in v.split(".")[:2]) for v in versions)
    same = [v for v in bundled if v[0] == major]
    if same:
        chosen = next((v for v in same if minor is not None and v[1] >= minor), same[-1])
    else:  # a v4 spec is drawn by the oldest bundled v5, a future one by the newest
        chosen = bundled[0] if major < bundled[0][0] else bundled[-1]
    return f"{chosen[0]}.{chosen[1]}"


def _labelled(who: str, what: str, part: MediaPart) -> list[Part]:
    return [TextPart(f"{who}: {what}"), part] if who.startswith("@") else [part]
