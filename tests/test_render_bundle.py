"""What a finished turn leaves: a notice for an empty or failed answer, bounded thumbnails."""

from __future__ import annotations

import io
import sys

import pytest

from kimi_jupyter import commands
from kimi_jupyter.conversation import Exchange, MediaPart, Message, Sessions, TextPart
from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.render.dryrun import dry_run_bundle
from kimi_jupyter.render.thumbnail import THUMBNAIL_PX, thumbnail, thumbnail_html
from kimi_jupyter.turn import Turn

EMPTY = "The model returned no answer (finish reason: {})"


@pytest.mark.parametrize(
    ("turn", "shown"),
    [
        (Turn(answer="", finish_reason="length"), EMPTY.format("length")),
        (Turn(answer="  \n", finish_reason="stop"), EMPTY.format("stop")),
        (Turn(answer=""), EMPTY.format("none")),
        (Turn(answer="partial", status="failed", error="lost"), "Failed: lost"),
        (Turn(answer="", status="failed"), "Failed: the answer broke off"),
        (Turn(answer="partial", status="stopped"), "Stopped: partial answer"),
        (Turn(answer="long", finish_reason="length"), "Cut off at the token limit"),
    ],
)
def test_the_notice_is_in_the_html_and_the_text(turn: Turn, shown: str) -> None:
    bundle = static_bundle(turn, "s")
    assert f"<p class='kimi-notice'>{shown}</p>" in bundle["text/html"]
    assert bundle["text/plain"].endswith(f"[{shown}]")
    if turn.answer.strip():
        assert bundle["text/plain"].startswith(turn.answer)


def test_a_normal_answer_has_no_notice() -> None:
    bundle = static_bundle(Turn(answer="Fine.", finish_reason="stop"), "s")
    assert bundle["text/plain"] == "Fine."
    assert "kimi-notice'>" not in bundle["text/html"]


def test_text_plain_carries_no_escape_sequence() -> None:
    bundle = static_bundle(Turn(answer="a\x1b]52;c;eA==\x07b\x1b[2Jc"), "s")
    assert bundle["text/plain"] == "abc"


def big_png(megabytes: int = 20) -> bytes:
    """An uncompressed PNG of about `megabytes` MB."""
    from PIL import Image

    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), bytes(range(256)) * (side * side * 3 // 256 + 1))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


@pytest.fixture(scope="module")
def twenty_mb() -> bytes:
    pytest.importorskip("PIL")
    data = big_png()
    assert len(data) > 19_000_000
    return data


def test_a_20_mb_image_is_a_few_kb_in_the_dry_run(twenty_mb: bytes) -> None:
    message = Message("user", (TextPart("look"), MediaPart(twenty_mb, "image/png")))
    bundle = dry_run_bundle(message, {"model": "kimi-k2.6", "messages": [{"role": "user"}]})
    assert len(bundle["text/html"]) < 50_000
    assert "<img src='data:image/png;base64," in bundle["text/html"]


def test_a_20_mb_image_is_a_few_kb_in_the_history(twenty_mb: bytes) -> None:
    sessions = Sessions()
    prompt = Message("user", (TextPart("look"), MediaPart(twenty_mb, "image/png")))
    sessions.new("s").record(Exchange(prompt, Turn(answer="ok")))
    html = commands.history(sessions, "s")["text/html"]
    assert len(html) < 50_000
    assert "<img src='data:image/png;base64," in html


def test_a_photo_like_png_becomes_a_small_jpeg() -> None:
    import random

    from PIL import Image

    noise = random.Random(0).randbytes(800 * 600 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (800, 600), noise).save(out, "PNG")
    shrunk = thumbnail(out.getvalue())
    assert shrunk is not None
    assert shrunk[0] == "image/jpeg"
    assert len(shrunk[1]) < 12_000


def test_a_thumbnail_is_small_and_keeps_transparency() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1200, 600), (255, 0, 0, 128)).save(out, "PNG")
    shrunk = thumbnail(out.getvalue())
    assert shrunk is not None
    mime, data = shrunk
    assert mime == "image/png"
    assert Image.open(io.BytesIO(data)).size == (THUMBNAIL_PX, THUMBNAIL_PX // 2)


def test_unreadable_bytes_or_no_pil_give_a_text_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert thumbnail_html(b"not an image", "image/png 1×1, 12 B") == (
        "<span class='kimi-thumbnail' title='image/png 1×1, 12 B'>[image/png 1×1, 12 B]</span>"
    )
    png = big_png(1)
    monkeypatch.setitem(sys.modules, "PIL", None)
    placeholder = thumbnail_html(png, "image/png <big>")
    assert placeholder.startswith("<span class='kimi-thumbnail'")
    assert "&lt;big&gt;" in placeholder
