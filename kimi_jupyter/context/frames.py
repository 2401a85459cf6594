"""pandas and polars frames as ONE compact JSON text part within `Limits.max_text_chars`.

The summary holds the name, type, shape, each shown column's dtype, null count and
numeric summary, head and tail rows (`split` orientation: columns, index, data) and how
many rows and columns were left out. Statistics come from at most `max_rows_sample`
evenly spaced rows, so a 10,000,000-row frame costs what a 10,000-row one does. When the
first rendering is over budget, cells, rows and then columns are cut until it fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from kimi_jupyter.conversation import Part, TextPart

from ._common import Limits, clip
from ._jsonsafe import dumps, scalar
from ._tables import PandasTable, PolarsTable, Rows, Table

_CHARS_PER_COLUMN = 60  # no column's summary is shorter: more columns could never fit
_NAME_CHARS = 60
_STAT_CHARS = 40


@dataclass(frozen=True)
class _Plan:
    """How much of the frame one rendering shows."""

    cols: int
    head: int
    tail: int
    cell: int


def pandas_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for pandas DataFrame and Series."""
    series = obj.ndim == 1
    kind = "pandas.Series" if series else "pandas.DataFrame"
    frame = obj.to_frame() if series else obj
    return [frame_part(PandasTable(frame, kind), name, limits)]


def polars_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for polars DataFrame and Series."""
    series = not hasattr(obj, "columns")
    kind = "polars.Series" if series else "polars.DataFrame"
    frame = obj.to_frame() if series else obj
    return [frame_part(PolarsTable(frame, kind), name, limits)]


def frame_part(table: Table, name: str | None, limits: Limits) -> TextPart:
    """The JSON summary of `table`, shrunk until it fits `limits.max_text_chars`."""
    budget = limits.max_text_chars
    cols = min(table.n_cols, max(1, budget // _CHARS_PER_COLUMN))
    head = min(limits.head_rows, table.n_rows)
    tail = min(limits.tail_rows, table.n_rows - head)
    step = max(1, -(-table.n_rows // limits.max_rows_sample))
    source = _Source(
        table,
        name,
        table.names(cols),
        table.dtypes(cols),
        table.stats(cols, step) if table.n_rows else [{} for _ in range(cols)],
        table.rows(0, head, cols),
        table.rows(table.n_rows - tail, table.n_rows, cols),
        step,
    )
    plan: _Plan | None = _Plan(cols, head, tail, limits.max_cell_chars)
    while plan is not None:
        text = source.render(plan)
        if len(text) <= budget:
            return TextPart(text)
        plan = _smaller(plan, len(text) / budget)
    return TextPart(source.render_minimal())


def _smaller(plan: _Plan, excess: float) -> _Plan | None:
    """The next, smaller plan: shorter cells, then fewer rows and columns."""
    if plan.cell > 40:
        return replace(plan, cell=40)
    if plan.cols > 1 and excess > 1.5:
        return replace(plan, cols=max(1, min(plan.cols - 1, int(plan.cols / excess))))
    if plan.head + plan.tail > 2:
        return replace(plan, head=min(plan.head, 1), tail=min(plan.tail, 1))
    if plan.cols > 1:
        return replace(plan, cols=plan.cols - max(1, plan.cols // 10))
    if plan.cell > 12:
        return replace(plan, cell=12)
    if plan.head + plan.tail:
        return replace(plan, head=0, tail=0)
    return None


@dataclass(frozen=True)
class _Source:
    """Everything read from the frame, once; renderings only slice it."""

    table: Table
    name: str | None
    names: list[str]
    dtypes: list[str]
    stats: list[dict[str, Any]]
    head: Rows
    tail: Rows
    step: int

    def render(self, plan: _Plan) -> str:
        doc = self._header()
        doc["columns"] = [self._column(j, plan.cell) for j in range(plan.cols)]
        if self.step > 1:
            sampled = len(range(0, self.table.n_rows, self.step))
            doc["stats"] = f"nulls and summaries from {sampled:,} rows (one in {self.step:,})"
        if plan.head:
            doc["head"] = self._rows(self.head, 0, plan.head, plan)
        if plan.tail:
            start = len(self.tail[0]) - plan.tail
            doc["tail"] = self._rows(self.tail, start, len(self.tail[0]), plan)
        doc["left_out"] = {
            "rows": self.table.n_rows - plan.head - plan.tail,
            "columns": self.table.n_cols - plan.cols,
        }
        return dumps(doc)

    def render_minimal(self) -> str:
        doc = self._header()
        doc["left_out"] = {"rows": self.table.n_rows, "columns": self.table.n_cols}
        return dumps(doc)

    def _header(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": clip(self.name, _NAME_CHARS)} if self.name else {}
        doc["type"] = self.table.kind
        doc["shape"] = [self.table.n_rows, self.table.n_cols]
        return doc

    def _column(self, j: int, cell: int) -> dict[str, Any]:
        column = {"name": clip(self.names[j], min(cell, _NAME_CHARS)), "dtype": self.dtypes[j]}
        column.update({k: scalar(v, _STAT_CHARS) for k, v in self.stats[j].items()})
        return column

    def _rows(self, rows: Rows, start: int, stop: int, plan: _Plan) -> dict[str, Any]:
        index, data = rows
        return {
            "columns": [
                clip(name, min(plan.cell, _NAME_CHARS)) for name in self.names[: plan.cols]
            ],
            "index": [scalar(label, plan.cell) for label in index[start:stop]],
            "data": [[scalar(v, plan.cell) for v in row[: plan.cols]] for row in data[start:stop]],
        }
