"""The DataFrame side of a map: rows in, result columns out, and the template filled per row."""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from kimi_jupyter.errors import KimiError
from kimi_jupyter.structured import Shape, json_shape, schema_shape


class _Table:
    """A pandas or polars DataFrame as map sees it: rows by position, two result columns."""

    def __init__(self, df: Any, column: str) -> None:
        self.df, self.column, self.error_column = df, column, f"{column}_error"
        kind = type(df).__module__.split(".")[0]
        self.polars = kind == "polars" and hasattr(df, "insert_column")
        if not self.polars and not (kind == "pandas" and hasattr(df, "to_dict")):
            raise KimiError(f"map: expected a pandas or polars DataFrame, got {type(df).__name__}")
        if not self.polars and not df.index.is_unique:
            raise KimiError("map: the DataFrame's index has duplicates; use df.reset_index()")
        self.columns = [str(c) for c in df.columns]
        self.keys: list[Any] = list(range(len(df))) if self.polars else list(df.index)
        self.values = self._existing(column)
        self.errors = self._existing(self.error_column)

    def records(self, positions: Iterable[int]) -> Iterable[tuple[int, dict[str, Any]]]:
        rows = self.df.to_dicts() if self.polars else self.df.to_dict("records")
        for pos in positions:
            yield pos, {str(k): v for k, v in rows[pos].items()}

    def is_done(self, pos: int) -> bool:
        return not _missing(self.values[pos]) and _missing(self.errors[pos])

    def prepare(self) -> None:
        """Add the result column before the first write; the error column comes with the first
        error (a map without errors leaves none, or drops the one a rerun emptied)."""
        if self.polars:
            return
        self._add_column(self.column)
        if self.error_column in self.df.columns:
            self._add_column(self.error_column)

    def _add_column(self, name: str) -> None:
        """A pandas column of object dtype (so any value fits), added if missing."""
        import pandas as pd

        if name not in self.df.columns:  # with the rows written so far (None, not NaN)
            values = self.errors if name == self.error_column else self.values
            self.df[name] = pd.Series(values, index=self.df.index, dtype=object)
        elif self.df[name].dtype != object:
            self.df[name] = self.df[name].astype(object)

    def write(self, pos: int, value: Any, error: str | None) -> None:
        self.values[pos], self.errors[pos] = value, error
        if not self.polars:
            key = self.keys[pos]
            self.df.at[key, self.column] = value
            if error is not None:
                self._add_column(self.error_column)
            if self.error_column in self.df.columns:
                self.df.at[key, self.error_column] = error

    def flush(self) -> None:
        """At the end: the error column only if some row failed; polars frames take whole
        columns, so replace them in place once."""
        failed = not all(_missing(e) for e in self.errors)
        if not self.polars:
            if not failed and self.error_column in self.df.columns:
                del self.df[self.error_column]
            return
        import polars as pl

        if not failed and self.error_column in self.df.columns:
            self.df.drop_in_place(self.error_column)
        columns = [(self.column, self.values)] + [(self.error_column, self.errors)] * failed
        for name, values in columns:
            plain = all(v is None or isinstance(v, str) for v in values)
            series = pl.Series(name, values, dtype=pl.String if plain else pl.Object)
            if name in self.df.columns:
                self.df.replace_column(self.df.get_column_index(name), series)
            else:
                self.df.insert_column(self.df.width, series)

    def _existing(self, name: str) -> list[Any]:
        if name not in self.columns:
            return [None] * len(self.keys)
        return list(self.df[name].to_list())


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return type(value).__name__ in ("NAType", "NaTType")


class _RowFormatter(string.Formatter):
    """str.format with the row's columns as names (`{0}` names a column called "0" too)."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        return kwargs[str(key)]


def _template_fields(template: str) -> list[str]:
    """The column names a template mentions (`{col}`, `{col.attr}`, `{col[0]}`)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        message = f"map: the template is not a format string ({exc}); write {{{{ for {{"
        raise KimiError(message) from None
    names: list[str] = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        base = name.split(".", 1)[0].split("[", 1)[0]
        if not base:
            raise KimiError("map: the template has an empty {}; name a column, e.g. {text}")
        names.append(base)
        names += _template_fields(spec or "")
    return names


def _check_template(template: str, columns: list[str], column: str) -> None:
    fields = _template_fields(template)
    if not fields:
        raise KimiError("map: the template mentions no column; write e.g. 'Summarize: {text}'")
    for name in fields:
        if name not in columns:
            shown = ", ".join(columns[:30]) + (", …" if len(columns) > 30 else "")
            raise KimiError(f"map: the template mentions {{{name}}}, but there is no column "
                            f"{name!r}; columns: {shown}")  # fmt: skip
    if column in fields or f"{column}_error" in fields:
        raise KimiError(f"map: column={column!r} would overwrite a column the template reads")


def _shape(json: bool, schema: Any) -> Shape:
    if schema is not None:
        name = schema.__name__ if isinstance(schema, type) else "row"
        return schema_shape(name, {name: schema})
    return json_shape() if json else Shape()


def _prompts(
    template: str, table: _Table, positions: Iterable[int], shape: Shape
) -> tuple[dict[int, str], dict[int, str]]:
    """Each row's prompt, or why the row could not fill the template."""
    formatter = _RowFormatter()
    prompts, failures = {}, {}
    for pos, record in table.records(positions):
        try:
            prompts[pos] = formatter.vformat(template, (), record) + shape.instruction
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            failures[pos] = f"could not fill the template: {type(exc).__name__}: {exc}"
    return prompts, failures
