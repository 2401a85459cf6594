"""One small view over pandas and polars frames, so one renderer summarises both.

Every method reads a bounded slice: the first `cols` columns, a few rows, or every
`step`-th row of a sample. Nothing here touches the whole frame.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

Rows = tuple[list[Any], list[list[Any]]]  # (index labels, rows of cell values)


class Table(Protocol):
    """What the DataFrame summary needs to know about a frame."""

    kind: str
    n_rows: int
    n_cols: int

    def names(self, cols: int) -> list[str]: ...
    def dtypes(self, cols: int) -> list[str]: ...
    def rows(self, start: int, stop: int, cols: int) -> Rows: ...
    def stats(self, cols: int, step: int) -> list[dict[str, Any]]: ...


class PandasTable:
    """A pandas DataFrame (or a Series, as a one-column frame)."""

    def __init__(self, frame: Any, kind: str) -> None:
        self._frame = frame
        self.kind = kind
        self.n_rows, self.n_cols = frame.shape

    def names(self, cols: int) -> list[str]:
        return [str(name) for name in self._frame.columns[:cols]]

    def dtypes(self, cols: int) -> list[str]:
        return [str(dtype) for dtype in self._frame.dtypes.iloc[:cols]]

    def rows(self, start: int, stop: int, cols: int) -> Rows:
        part = self._frame.iloc[start:stop, :cols]
        return part.index.tolist(), part.astype(object).to_numpy().tolist()

    def stats(self, cols: int, step: int) -> list[dict[str, Any]]:
        sample = self._frame.iloc[::step, :cols]
        return [_pandas_stats(sample.iloc[:, j]) for j in range(sample.shape[1])]


def _pandas_stats(series: Any) -> dict[str, Any]:
    import numpy as np
    from pandas.api import types

    dtype = series.dtype
    out: dict[str, Any] = {"nulls": int(series.isna().sum())}
    if types.is_bool_dtype(dtype) or types.is_complex_dtype(dtype):
        return out
    if types.is_numeric_dtype(dtype):
        with np.errstate(all="ignore"):  # inf - inf in std(): the user should not see a warning
            out.update(min=series.min(), max=series.max(), mean=series.mean(), std=series.std())
    elif types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        out.update(min=series.min(), max=series.max())
    else:
        with contextlib.suppress(TypeError):  # unhashable cells (lists, dicts)
            out["unique"] = int(series.nunique())
    return out


class PolarsTable:
    """A polars DataFrame (or a Series, as a one-column frame); index labels are row numbers."""

    def __init__(self, frame: Any, kind: str) -> None:
        self._frame = frame
        self.kind = kind
        self.n_rows, self.n_cols = frame.shape

    def names(self, cols: int) -> list[str]:
        return list(self._frame.columns[:cols])

    def dtypes(self, cols: int) -> list[str]:
        return [str(dtype) for dtype in self._frame.dtypes[:cols]]

    def rows(self, start: int, stop: int, cols: int) -> Rows:
        part = self._frame.select(self._frame.columns[:cols]).slice(start, stop - start)
        return list(range(start, start + part.height)), [list(row) for row in part.rows()]

    def stats(self, cols: int, step: int) -> list[dict[str, Any]]:
        sample = self._frame.select(self._frame.columns[:cols]).gather_every(step)
        return [_polars_stats(sample.to_series(j)) for j in range(sample.width)]


def _polars_stats(series: Any) -> dict[str, Any]:
    from polars.exceptions import PolarsError

    dtype = series.dtype
    out: dict[str, Any] = {"nulls": series.null_count()}
    if dtype.is_numeric():
        out.update(min=series.min(), max=series.max(), mean=series.mean(), std=series.std())
    elif dtype.is_temporal():
        out.update(min=series.min(), max=series.max())
    else:
        with contextlib.suppress(PolarsError, TypeError):  # Object columns cannot be hashed
            out["unique"] = series.n_unique()
    return out
