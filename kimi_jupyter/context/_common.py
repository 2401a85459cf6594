"""What every converter shares: the limits, the error, and how parts are labelled and cut."""

from __future__ import annotations

from dataclasses import dataclass, fields

from kimi_jupyter import errors
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.errors import ContextError

MIN_TEXT_CHARS = 256  # the smallest summary of a DataFrame (name, type, shape) must fit


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How much one mentioned object may add to a request.

    Images: `max_image` is the (width, height) box they are downscaled into (Kimi's
    recommended 4K), `max_image_bytes` the most one encoded image may weigh (a bigger one is
    re-encoded as JPEG, or WebP if it has transparency, then shrunk until it fits), and
    `max_decode_pixels` bounds what is decoded at all (memory grows with it). Videos cannot
    be re-encoded here: one over `max_video_bytes`, or larger than the `max_video` box
    (Kimi's recommended 2K, either orientation), is refused. `max_rows_sample` bounds the
    rows a DataFrame summary reads, so huge frames cost what small ones do.
    """

    max_text_chars: int = 6_000
    max_image: tuple[int, int] = (4096, 2160)
    max_image_bytes: int = 3_000_000
    max_video: tuple[int, int] = (2048, 1080)
    max_video_bytes: int = 50_000_000
    max_rows_sample: int = 10_000
    head_rows: int = 5
    tail_rows: int = 5
    max_cell_chars: int = 100
    max_decode_pixels: int = 625_000_000

    def __post_init__(self) -> None:
        if self.max_text_chars < MIN_TEXT_CHARS:
            least, value = MIN_TEXT_CHARS, self.max_text_chars
            raise ContextError(f"Limits.max_text_chars must be at least {least}, not {value}")
        for box in ("max_image", "max_video"):
            value = getattr(self, box)
            if len(value) != 2 or min(value) < 1:
                raise ContextError(f"Limits.{box} must be (width, height), not {value}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value < (0 if f.name.endswith("_rows") else 1):
                raise ContextError(f"Limits.{f.name} must be positive, not {value}")


def who(name: str | None, obj: object) -> str:
    """How error messages name the object: `@df` as the user wrote it, else its type."""
    return f"@{name}" if name else f"the {type(obj).__name__}"


def one_line(exc: BaseException, max_chars: int = 160) -> str:
    """`ValueError: the message`, on one line and cut short: for errors raised by user code."""
    return errors.one_line(exc, max_chars)


def truncate(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars` characters, saying how long it was."""
    if len(text) <= max_chars:
        return text
    suffix = f"… [cut from {len(text):,} characters]"
    if max_chars <= len(suffix):
        return text[:max_chars]
    return text[: max_chars - len(suffix)] + suffix


def clip(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters with a one-character ellipsis (table cells)."""
    return text if len(text) <= max_chars else text[: max(0, max_chars - 1)] + "…"


def text_part(name: str | None, body: str, limits: Limits) -> TextPart:
    """A text part that starts with `@name: ` so the model knows what it is reading."""
    prefix = f"@{name}: " if name else ""
    return TextPart(truncate(prefix + body, limits.max_text_chars))


def labelled(name: str | None, what: str, media: MediaPart) -> list[Part]:
    """The media preceded by `@name: what`, so the model can tell several images apart."""
    if not name:
        return [media]
    return [TextPart(f"@{name}: {what}"), media]


def human_size(nbytes: int) -> str:
    """`812 B`, `12.3 kB`, `200.0 MB`: decimal units, as file managers show them."""
    if nbytes < 1000:
        return f"{nbytes} B"
    value = float(nbytes)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def call_repr_method(obj: object, method: str) -> object:
    """What `obj._repr_*_()` returns (data without metadata), or None if it fails."""
    func = getattr(obj, method, None)
    if not callable(func):
        return None
    try:
        data = func()
    # User code may raise anything; IPython's formatters then fall back the same way.
    except Exception:  # noqa: BLE001
        return None
    return data[0] if isinstance(data, tuple) and data else data
