"""Where the live view freezes a growing answer: pieces that render on their own, a small tail."""

from __future__ import annotations

import random

import pytest

from kimi_jupyter.render.chunks import MAX_TAIL, MarkdownChunker, Piece, PlainChunker
from kimi_jupyter.render.html import render_markdown


def feed(text: str, step: int = 7, chunker: MarkdownChunker | None = None) -> list[Piece]:
    """Every frozen piece, then the tail, after streaming `text` in `step`-sized deltas."""
    chunker = chunker or MarkdownChunker()
    pieces = []
    for i in range(0, len(text), step):
        pieces += chunker.feed(text[i : i + step])
        assert len(chunker.tail().source) < MAX_TAIL + 200 + step
    return [*pieces, chunker.tail()]


def test_finished_blocks_freeze_at_blank_lines_and_closing_fences() -> None:
    text = "# Title\n\nA paragraph.\n\n```python\nx = 1\n\ny = 2\n```\nafter\n\ntail"
    pieces = feed(text)
    assert "".join(p.source for p in pieces) == text
    assert [p.source for p in pieces if "```" in p.source] == ["```python\nx = 1\n\ny = 2\n```\n"]
    assert pieces[-1] == Piece("tail")
    assert "".join(render_markdown(p.source) for p in pieces) == render_markdown(text)


def test_an_open_fence_is_frozen_by_complete_lines_each_part_closed_and_reopened() -> None:
    lines = [f"x{i} = compute({i})  # a comment\n" for i in range(400)]
    text = "Intro.\n\n```python\n" + "".join(lines)
    pieces = feed(text)
    parts = [p for p in pieces if p.source.startswith("```python\n")]
    assert len(parts) > 10
    assert not parts[0].joined
    assert all(p.joined for p in parts[1:])
    for part in parts[:-1]:
        assert part.source.endswith("\n```\n")
        html = render_markdown(part.source)
        assert html.count("<pre>") == 1
        assert html.startswith('<pre><code class="language-python">')
    bodies = "".join(p.source.removeprefix("```python\n").removesuffix("```\n") for p in parts)
    assert bodies == "".join(lines)


def test_the_fence_closing_after_a_split_ends_the_block() -> None:
    text = "```\n" + "line of code\n" * 200 + "```\n\nAfter the fence.\n\n"
    pieces = feed(text)
    parts = [p for p in pieces if p.source.startswith("```\n")]
    assert all(p.source.endswith("line of code\n```\n") for p in parts)  # no empty part
    assert "".join(p.source[4:-4] for p in parts) == "line of code\n" * 200
    assert any(p.source.startswith("After the fence.") and not p.joined for p in pieces)
    assert pieces[-1].source == ""


def test_an_indented_fence_in_a_list_is_split_without_becoming_an_indented_code_block() -> None:
    text = "1. Step:\n\n    ```sh\n" + "    echo hello world\n" * 100
    parts = [p for p in feed(text) if "```sh" in p.source]
    assert len(parts) > 2
    for part in parts:
        assert part.source.startswith("```sh\necho hello world\n")
        html = render_markdown(part.source)
        assert html.startswith('<pre><code class="language-sh">')
        assert "  echo" not in html


def test_a_table_is_frozen_by_complete_rows_under_its_header() -> None:
    header = "| a | b |\n|:--|--:|\n"
    rows = [f"| {i} | v{i} |\n" for i in range(300)]
    pieces = feed("Before.\n" + header + "".join(rows) + "\nAfter.")
    parts = [p for p in pieces if p.source.startswith(header)]
    assert len(parts) > 5
    assert not parts[0].joined
    assert all(p.joined for p in parts[1:])
    for part in parts:
        assert render_markdown(part.source).startswith("<table>")
    assert "".join(p.source.removeprefix(header) for p in parts) == "".join(rows)


@pytest.mark.parametrize("unit", ["word ", "x", "A sentence. ", "<", "> > > ", "- - - "])
def test_one_long_line_is_cut_into_pieces(unit: str) -> None:
    text = unit * (200_000 // len(unit))
    pieces = feed(text, step=20)
    assert "".join(p.source for p in pieces) == text
    assert len(pieces) > 100
    assert max(len(p.source) for p in pieces) < 2 * MAX_TAIL


def test_math_blocks_are_split_like_fences() -> None:
    text = "$$\n" + "a_1 + b_2 = c \\\\\n" * 300
    parts = [p for p in feed(text) if p.source.startswith("$$\n")]
    assert len(parts) > 3
    assert all(p.source.endswith("\n$$\n") for p in parts[:-1])


def test_streamed_in_any_steps_the_text_comes_out_whole() -> None:
    rng = random.Random(11)
    units = ["word ", "\n", "\n\n", "```py\n", "```\n", "| a | b |\n", "|---|---|\n",
             "$$\n", "> ", "- item\n", "    ```\n", "~~~\n", "x" * 300, ". "]  # fmt: skip
    for _ in range(40):
        text = "".join(rng.choice(units) for _ in range(rng.randint(50, 400)))
        chunker = MarkdownChunker(max_tail=300, min_piece=120)
        raw = []
        i = 0
        while i < len(text):
            step = rng.randint(1, 60)
            for piece in chunker.feed(text[i : i + step]):
                raw.append(piece.source)
                render_markdown(piece.source)
            i += step
        assert len(chunker.tail().source) < 300 + 60 + 400
        assert all(len(p) < 300 + 60 + 400 + 300 for p in raw[1:])


def test_plain_text_freezes_at_newlines_spaces_or_anywhere() -> None:
    chunker = PlainChunker(max_tail=100)
    assert chunker.feed("one\ntwo") == [Piece("one\n")]
    assert chunker.tail() == Piece("two")
    pieces = chunker.feed("x" * 1_000)
    assert pieces
    assert len(chunker.tail().source) <= 100
    assert "".join(p.source for p in pieces) + chunker.tail().source == "two" + "x" * 1_000
