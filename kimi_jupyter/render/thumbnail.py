"""Small previews of the images a turn sends, for `--dry-run` and `%kimi history`.

A notebook keeps what a cell displays: an inline copy of a 20 MB image put 27 MB of HTML in
it. A preview is the image scaled to at most `THUMBNAIL_PX` a side and re-encoded (a few
kB); without PIL, or for bytes PIL cannot read, it is a text placeholder.
"""

from __future__ import annotations

import base64
import html
import io

THUMBNAIL_PX = 96
_KEPT_BYTES = 16_000
_KEPT = {"PNG", "JPEG", "GIF", "WEBP"}
_PNG_BYTES = 12_000
_STYLE = "max-width:96px;max-height:96px;margin:2px;vertical-align:middle"


def thumbnail_html(data: bytes, label: str) -> str:
    """An `<img>` of at most `THUMBNAIL_PX` pixels a side, or `[label]` as text."""
    shrunk = thumbnail(data)
    title = html.escape(label, quote=True)
    if shrunk is None:
        return f"<span class='kimi-thumbnail' title='{title}'>[{html.escape(label)}]</span>"
    mime, small = shrunk
    data_url = f"data:{mime};base64,{base64.b64encode(small).decode('ascii')}"
    return f"<img src='{data_url}' alt='{title}' title='{title}' style='{_STYLE}'>"


def thumbnail(data: bytes, px: int = THUMBNAIL_PX) -> tuple[str, bytes] | None:
    """(mime, bytes) of at most `px` a side: a PNG for a PNG (if it stays small) or an image
    with transparency, else a JPEG; an image that small already, as it is."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) <= px and len(data) <= _KEPT_BYTES and image.format in _KEPT:
                return f"image/{image.format.lower()}", data  # small already: as it is
            image.draft("RGB", (px * 2, px * 2))  # JPEG: decode at a fraction of the size
            image.thumbnail((px, px))
            alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            small = image.convert("RGBA" if alpha else "RGB")
            was_png = image.format == "PNG"
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    out = io.BytesIO()
    if alpha or was_png:  # a plot stays a PNG, unless a photo-like one would be large
        small.save(out, "PNG", optimize=True)
        if alpha or out.tell() <= _PNG_BYTES:
            return "image/png", out.getvalue()
        out = io.BytesIO()
    small.save(out, "JPEG", quality=75)
    return "image/jpeg", out.getvalue()
