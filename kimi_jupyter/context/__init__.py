"""Kernel objects → content parts: what a mentioned `@name` becomes in a request.

```python
from kimi_jupyter.context import convert, describe, Limits

parts = convert(df, "df", limits=Limits(max_text_chars=4_000))  # list[TextPart | MediaPart]
print([describe(p) for p in parts])                              # ['JSON 3,981 chars']
```

Built in: matplotlib figures/axes/subfigures and seaborn grids (PNG, same bytes for the
same figure), Plotly figures (PNG drawn by kaleido in the Chrome/Chromium already on the
machine, else a JSON summary of their data), Altair charts (PNG drawn by vl-convert, no
browser), plotnine ggplots and seaborn objects plots (PNG through matplotlib at their
theme's or layout's size), Bokeh figures and layouts (PNG at their size on the page, drawn
through the machine's chromedriver, else a JSON summary of their data), HoloViews/hvPlot
objects (through their active backend, Bokeh or matplotlib), PIL images, image-shaped
NumPy arrays, PNG/JPEG/WebP/GIF bytes and files, video bytes and files (MP4, MOV, WebM,
MPEG, AVI, FLV, WMV, 3GP), pandas and polars frames (one compact JSON part),
`_repr_png_`/`_repr_jpeg_`/`_repr_markdown_` objects, strings, dicts and lists; anything
else is its `repr`, truncated. Images are downscaled into `Limits.max_image` and
re-encoded until they weigh at most `Limits.max_image_bytes`; videos over
`Limits.max_video_bytes` or the `Limits.max_video` box are refused. Objects that cannot be
sent (or whose converter raises anything) raise `ContextError` with a one-line message
naming them; one that sends something in place of what was asked says so
with `note()` (shown by `--dry-run` and the status line). `register()` adds converters; the
newest matching one wins. Importing this package imports none of the libraries above.
"""

from __future__ import annotations

from kimi_jupyter.conversation import Part
from kimi_jupyter.errors import ContextError

from ._common import Limits
from ._notes import note
from ._registry import Converter, Matcher, Registry
from .parts import describe, sha256

__all__ = [
    "ContextError",
    "Converter",
    "Limits",
    "Matcher",
    "Registry",
    "convert",
    "describe",
    "note",
    "register",
    "sha256",
]


def convert(obj: object, name: str | None = None, *, limits: Limits | None = None) -> list[Part]:
    """The content parts for `obj`, mentioned as `@name`; raises `ContextError`.

    `name` is the mention without its `@` ("df", "Out[3]"); parts then say what they are.
    """
    return Registry.default().convert(obj, name, limits=limits)


def register(matcher: Matcher, converter: Converter) -> Converter:
    """Make `converter(obj, name, limits)` handle the objects `matcher` accepts."""
    return Registry.default().register(matcher, converter)
