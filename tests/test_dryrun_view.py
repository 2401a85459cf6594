"""The `--dry-run` view: a table of parts that reads at a glance, and nothing raw."""

from __future__ import annotations

import io
import json

import pytest

from kimi_jupyter.context import Limits, convert
from kimi_jupyter.conversation import Message, TextPart
from kimi_jupyter.render.dryrun import downscaled, dry_run_bundle

PIL = pytest.importorskip("PIL.Image")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PIL.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def bundle(*parts: object, note: str | None = None) -> dict[str, str]:
    message = Message("user", list(parts))  # type: ignore[arg-type]
    payload = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "…"}]}
    return dry_run_bundle(message, payload, note=note)


def test_a_left_aligned_table_with_role_kind_size_and_tokens() -> None:
    page = bundle(TextPart("what is in @img?"), *convert(png(9, 4), "img"))["text/html"]
    assert "<th>role</th><th>kind</th><th>size</th><th>tokens</th>" in page
    assert "text-align:left" in page
    assert "white-space:nowrap" in page
    assert "<td class='kimi-dry-label'>user</td>" in page
    assert "image/png" in page
    assert "9×4" in page
    assert "<img src='data:image/" in page  # a thumbnail, not the image
    assert "<div class='kimi-dry-text'>what is in @img?</div>" in page  # as text, open


def test_json_of_a_dataframe_is_folded_under_a_summary_line() -> None:
    rows = json.dumps([{"a": i, "b": f"row {i}"} for i in range(50)])
    page = bundle(TextPart("sum @df"), TextPart(rows))["text/html"]
    assert "<details><summary>JSON " in page
    assert page.count("<details>") == 1


def test_a_line_says_what_was_not_sent() -> None:
    limits = Limits(max_image=(64, 64))
    image = PIL.new("RGB", (640, 320))
    parts = convert(image, "big", limits=limits)
    assert downscaled(list(parts)) == ["@big: downscaled from 640×320 to 64×32"]
    result = bundle(TextPart("see @big and @nope"), *parts,
                    note="@nope: not defined here, sent as plain text")  # fmt: skip
    assert "Not sent as asked: @nope: not defined here" in result["text/html"]
    assert "@big: downscaled from 640×320 to 64×32" in result["text/html"]
    assert "Not sent as asked: @big: downscaled" in result["text/plain"]


def test_no_line_when_everything_went_as_asked() -> None:
    result = bundle(TextPart("hello"))
    assert "Not sent" not in result["text/html"] + result["text/plain"]


def test_prompt_text_and_labels_are_escaped() -> None:
    hostile = "<img src=x onerror=alert(1)><script>x()</script>"
    page = bundle(TextPart(hostile), TextPart(f"@{hostile}: label"),
                  note=hostile)["text/html"]  # fmt: skip
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
