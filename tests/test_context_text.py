"""Text-like objects, the registry, limits, descriptions, and what importing the package loads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from kimi_jupyter.context import (
    ContextError,
    Limits,
    Registry,
    convert,
    describe,
    register,
    sha256,
)
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.errors import KimiError

HEAVY = ("pandas", "polars", "matplotlib", "PIL", "numpy", "seaborn")


def text_of(obj: object, name: str | None = "x", limits: Limits | None = None) -> str:
    (part,) = convert(obj, name, limits=limits)
    assert isinstance(part, TextPart)
    return part.text


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = "import sys, json, kimi_jupyter.context; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(out.stdout)}
    assert loaded.isdisjoint(HEAVY)


def test_strings_are_named_and_bounded() -> None:
    assert text_of("hello", "s") == "@s: hello"
    assert text_of("hello", None) == "hello"
    long = text_of("y" * 50_000, "s")
    assert len(long) == 6_000
    assert long.endswith("… [cut from 50,004 characters]")
    assert len(text_of("y" * 50_000, "s", Limits(max_text_chars=500))) == 500


def test_a_string_that_is_not_a_media_file_stays_text(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    assert text_of(str(notes), "p") == f"@p: {notes}"


def test_dicts_and_lists_are_bounded_json() -> None:
    assert text_of({"a": 1, "b": [1.5, None, float("nan")]}, "d") == (
        '@d: dict of 2 keys: {"a":1,"b":[1.5,null,null]}'
    )
    big = text_of({f"key{i}": list(range(1_000)) for i in range(1_000)}, "d")
    assert len(big) <= 6_000
    body = json.loads(big.partition(": ")[2].partition(": ")[2])
    assert body["key0"][-1] == "… 980 more items"
    assert body["…"] == "980 more items"
    nested = text_of([[[[[["deep"]]]]]], "l")
    assert nested == "@l: list of 1 items: [[[[\"[['deep']]\"]]]]"
    assert text_of((1, "two"), "t") == '@t: tuple of 2 items: [1,"two"]'


def test_markdown_reprs_are_text() -> None:
    class Note:
        def _repr_markdown_(self) -> tuple[str, dict[str, str]]:
            return "# Title", {}

    assert text_of(Note(), "n") == "@n: # Title"


def test_anything_else_is_its_repr_truncated() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing(" + "z" * 10_000 + ")"

    text = text_of(Thing(), "t")
    assert text.startswith("@t: Thing(zzz")
    assert len(text) == 6_000

    class Broken:
        def __repr__(self) -> str:
            raise ValueError("nope")

    assert text_of(Broken(), "b") == (
        "@b: <test_anything_else_is_its_repr_truncated.<locals>.Broken object; "
        "repr() raised ValueError>"
    )


def test_bytes_that_are_not_media_are_an_error() -> None:
    with pytest.raises(ContextError) as info:
        convert(b"just some text", "blob")
    assert str(info.value) == (
        "@blob: these 14 bytes are not a PNG, JPEG, WebP or GIF image or a video; decode text first"
    )
    assert isinstance(info.value, KimiError)


def test_missing_and_non_media_paths_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ContextError) as missing:
        convert(tmp_path / "gone.png", "p")
    assert str(missing.value) == f"@p: no such file: {tmp_path / 'gone.png'}"
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(ContextError) as other:
        convert(csv, "p")
    assert str(other.value) == (
        "@p: data.csv is not a PNG, JPEG, WebP or GIF image or a video; "
        "read text files into a str first"
    )


def test_register_later_registrations_win_and_none_passes_on() -> None:
    class Point:
        pass

    registry = Registry.with_builtins()

    def first(obj: object, name: str | None, limits: Limits) -> Sequence[Part]:
        return [TextPart("first")]

    def second(obj: object, name: str | None, limits: Limits) -> Sequence[Part] | None:
        return None if name == "skip" else [TextPart("second")]

    registry.register(Point, first)
    registry.register(f"{__name__}.{Point.__qualname__}", second)
    assert registry.convert(Point(), "p") == [TextPart("second")]
    assert registry.convert(Point(), "skip") == [TextPart("first")]
    registry.register(lambda obj: isinstance(obj, int), first)
    assert registry.convert(3) == [TextPart("first")]
    assert convert(3, "n") == [TextPart("@n: 3")]  # the shared registry is untouched


def test_register_on_the_shared_registry() -> None:
    class Marker:
        pass

    def converter(obj: object, name: str | None, limits: Limits) -> Sequence[Part]:
        return [TextPart(f"marker {name}")]

    assert register(Marker, converter) is converter
    assert convert(Marker(), "m") == [TextPart("marker m")]
    with pytest.raises(TypeError):
        register(42, converter)  # type: ignore[arg-type]


def test_limits_are_validated() -> None:
    with pytest.raises(ContextError) as info:
        Limits(max_text_chars=10)
    assert str(info.value) == "Limits.max_text_chars must be at least 256, not 10"
    with pytest.raises(ContextError, match=r"^Limits.max_video_bytes must be positive, not 0$"):
        Limits(max_video_bytes=0)
    assert Limits(head_rows=0).head_rows == 0


def test_describe_and_sha256() -> None:
    assert describe(TextPart('{"a": 1}')) == "JSON 8 chars"
    assert describe(TextPart("x" * 2_345)) == "text 2,345 chars"
    part = MediaPart(b"\x00\x00\x00\x18ftypisom" + bytes(12_290), "video/mp4")
    assert describe(part) == "video/mp4, 12.3 kB"
    assert sha256(part) == sha256(MediaPart(part.data, "video/mp4"))
    assert len(sha256(part)) == 64
