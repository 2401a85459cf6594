"""The hostile-output corpus in `tests/fixtures/hostile/`: model text that tries to run
script, load anything, or stall a renderer (issue 11). The Python HTML path, the lab
renderer in Chromium and the live view are all tested against it.

Every vector that could make a request points at a URL containing `MARKER`
(`/kimi-hostile/<id>`, `http://kimi-hostile.invalid/<id>`, `?kimi-hostile=<id>`) but the
audit's two verbatim images (`![x](x.png)`, `![](/api/kernels)`), and every script payload
calls `alert('<id>')` or an equivalent; `size` vectors are generated here from a compact
description (see `fixtures/hostile/README.md`). No third-party imports: kernels load this
file too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CLASSES", "MARKER", "Vector", "load"]

CORPUS = Path(__file__).parent / "fixtures" / "hostile"
MARKER = "kimi-hostile"
CLASSES = (
    "script",
    "event",
    "url-scheme",
    "data-url",
    "relative-url",
    "css",
    "svg",
    "entity",
    "mermaid",
    "math",
    "jupyter",
    "markdown",
    "bidi",
    "size",
)


@dataclass(frozen=True)
class Vector:
    """One piece of model text: its id, class, the text itself and what it tries.

    `expect` names what must survive rendering: `img-data` (an inline data image),
    `code-block` (the text is shown as a code block), `link` (a link is kept),
    `bidi-notice` (Copy and Insert say they removed direction-changing characters).
    """

    id: str
    kind: str
    text: str
    note: str
    source: str
    expect: tuple[str, ...] = field(default=())


def load(*kinds: str, corpus: Path = CORPUS) -> list[Vector]:
    """The vectors of `kinds` (all classes when none are named), in file order."""
    for kind in kinds:
        if kind not in CLASSES:
            raise ValueError(f"unknown class {kind!r}; classes: {', '.join(CLASSES)}")
    vectors = []
    for kind in kinds or CLASSES:
        for item in json.loads((corpus / f"{kind}.json").read_text(encoding="utf-8")):
            vectors.append(_vector(item))
    return vectors


def _vector(item: dict[str, object]) -> Vector:
    text = item.get("text")
    if not isinstance(text, str):
        pieces = item["repeat"]
        assert isinstance(pieces, list)
        body = "".join(str(unit) * int(count) for unit, count in pieces)
        text = f"{item.get('prefix', '')}{body}{item.get('suffix', '')}"
    expect = item.get("expect", [])
    assert isinstance(expect, list)
    return Vector(
        id=str(item["id"]),
        kind=str(item["class"]),
        text=text,
        note=str(item["note"]),
        source=str(item["source"]),
        expect=tuple(str(x) for x in expect),
    )
