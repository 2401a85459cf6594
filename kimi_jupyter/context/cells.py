"""A notebook's cells as content parts: every cell in one line or three, some in full.

`@notebook` is one listing of every cell (position, id, type, execution count, first lines,
output kinds, error name) within `listing_chars(limits)`, then the cells that were
mentioned and the few just above the asking one in full: the source, and the outputs as
text (ANSI colours gone, each cell within `limits.max_text_chars`) and images (through the
image caps, at most `MAX_IMAGES` in all). Cells are data written by code and people, so the
parts open with `UNTRUSTED`, the words the agent's tool results use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kimi_jupyter.conversation import MediaPart, Part

from ._common import Limits, clip, truncate
from .notebook import Notebook
from .outputs import MAX_IMAGES, UNTRUSTED, ImageCap, fence, merged, multiline, output_pieces

__all__ = ["MAX_IMAGES", "RECENT", "UNTRUSTED", "Wanted", "cell_parts", "listing_chars"]

RECENT = 3  # cells just above the asking one, sent in full with `@notebook`
MAX_FULL = 12  # cells in full at most, mentioned ones first
# (lines, characters per line) of each cell in the listing: tried until the listing fits
_SHAPES = ((3, 160), (1, 100), (1, 48), (0, 0))


@dataclass(frozen=True)
class Wanted:
    """A cell to send in full, and why (`@cell:3`, `@In[7]`, `just above the question`)."""

    index: int
    why: str


def listing_chars(limits: Limits) -> int:
    """How long the listing of every cell may be (four mentions' worth of text)."""
    return 4 * limits.max_text_chars


def cell_parts(
    notebook: Notebook, wanted: Sequence[Wanted], limits: Limits, *, listing: bool
) -> list[Part]:
    """`@notebook` (`listing`: every cell summarised, then `wanted` in full) or the
    mentioned `@cell:N`s alone (just `wanted`, in full)."""
    head = _heading(notebook, listing)
    pieces: list[str | MediaPart] = [f"{head}\n{UNTRUSTED}"]
    if listing:
        pieces.append(_listing(notebook, listing_chars(limits)))
    full = _full_cells(wanted)
    capped = ImageCap(MAX_IMAGES)
    for index, why in full:
        cell = notebook.cells[index]
        pieces += (capped(p, f"cell {index + 1}") for p in _cell_pieces(cell, index, why, limits))
    left = len({w.index for w in wanted}) - len(full)
    if left > 0:
        pieces.append(f"[{left} more cell(s) not shown in full: at most {MAX_FULL} are]")
    return merged(pieces)


def _heading(notebook: Notebook, listing: bool) -> str:
    count = len(notebook.cells)
    where = "" if notebook.current is None else f"; the question is cell {notebook.current + 1}"
    saved = " (as last saved: unsaved edits and newer outputs are not in it)"
    what = f"Notebook {notebook.name or 'this notebook'}: {count} cells{where}"
    label = "@notebook: " if listing else ""
    return f"{label}{what}{saved if notebook.saved else ''}"


def _full_cells(wanted: Sequence[Wanted]) -> list[tuple[int, str]]:
    """The cells to show in full, each once (its reasons joined), in notebook order."""
    reasons: dict[int, list[str]] = {}
    for want in wanted:
        said = reasons.setdefault(want.index, [])
        if want.why not in said:
            said.append(want.why)
    kept = list(reasons)[:MAX_FULL]
    return [(index, ", ".join(reasons[index])) for index in sorted(kept)]


def _listing(notebook: Notebook, budget: int) -> str:
    """Every cell in one row, its first source lines below it: in the first of `_SHAPES`
    (lines, characters a line) that fits the budget, else the rows that fit."""
    cells = [
        (_summary(c, i, notebook.current), multiline(c.get("source")).strip("\n").splitlines())
        for i, c in enumerate(notebook.cells)
    ]
    for lines, chars in _SHAPES:
        rows = [
            head + "".join(f"\n    {clip(line, chars)}" for line in source[:lines])
            for head, source in cells
        ]
        text = "\n".join(["## Every cell", *rows])
        if len(text) <= budget:
            return text
    return _elided(rows, budget)


def _elided(rows: Sequence[str], budget: int) -> str:
    """The first and last rows that fit, the middle said in one line."""
    head: list[str] = []
    tail: list[str] = []
    used = 200  # the heading and the line that says what is left out
    for i in range(len(rows)):
        row = rows[i // 2] if i % 2 == 0 else rows[len(rows) - 1 - i // 2]
        if used + len(row) + 1 > budget:
            break
        (head if i % 2 == 0 else tail).append(row)
        used += len(row) + 1
    gone = len(rows) - len(head) - len(tail)
    middle = f"[cells {len(head) + 1}–{len(head) + gone} left out: the listing is full]"
    return "\n".join(["## Every cell", *head, middle, *reversed(tail)])


def _summary(cell: Mapping[str, Any], index: int, current: int | None) -> str:
    kind = str(cell.get("cell_type", "?"))
    bits = [f"cell {index + 1}", kind]
    if cell.get("id"):
        bits.append(f"id {clip(str(cell['id']), 40)}")
    count = cell.get("execution_count")
    if isinstance(count, int):
        bits.append(f"In[{count}]")
    outputs = _outputs(cell)
    if outputs:
        bits.append("out: " + ", ".join(_kinds(outputs)))
    error = next((o.get("ename") for o in outputs if o.get("output_type") == "error"), None)
    if error:
        bits.append(f"error {clip(str(error), 60)}")
    if index == current:
        bits.append("(this question)")
    return "- " + " · ".join(bits)


def _kinds(outputs: Sequence[Mapping[str, Any]]) -> list[str]:
    kinds: dict[str, None] = {}
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            kinds[str(output.get("name", "stream"))] = None
        elif kind == "error":
            kinds["error"] = None
        elif isinstance(output.get("data"), Mapping):
            kinds.update(dict.fromkeys(str(k) for k in output["data"]))
    return list(kinds)


def _outputs(cell: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outputs = cell.get("outputs")
    return [o for o in outputs if isinstance(o, Mapping)] if isinstance(outputs, list) else []


def _cell_pieces(
    cell: Mapping[str, Any], index: int, why: str, limits: Limits
) -> Iterator[str | MediaPart]:
    kind = str(cell.get("cell_type", "?"))
    count = cell.get("execution_count")
    ran = f" · In[{count}]" if isinstance(count, int) else ""
    budget = limits.max_text_chars
    source = truncate(multiline(cell.get("source")), budget)
    budget -= len(source)
    ticks = fence(source)
    language = "python" if kind == "code" else ""
    yield f"\n## Cell {index + 1} ({kind}{ran}; {why})\n{ticks}{language}\n{source}\n{ticks}"
    dropped = cell.get("outputs_left_out")  # by the page, to keep the message small
    if isinstance(dropped, int) and dropped > 0:
        yield f"[{dropped} output(s) of this cell left out by the page: too large to send]"
    for number, output in enumerate(_outputs(cell), 1):
        for piece in output_pieces(output, f"cell {index + 1}, output {number}", limits):
            if isinstance(piece, str):
                if budget <= 0:
                    yield f"[cell {index + 1}: more outputs left out, its text budget is spent]"
                    return
                piece = truncate(piece, budget)
                budget -= len(piece)
            yield piece
