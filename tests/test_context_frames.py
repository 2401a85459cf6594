"""pandas and polars frames → one bounded, valid JSON text part."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kimi_jupyter.context import Limits, convert, describe
from kimi_jupyter.conversation import TextPart


def summary(obj: object, name: str = "df", limits: Limits | None = None) -> dict[str, Any]:
    parts = convert(obj, name, limits=limits)
    assert len(parts) == 1
    (part,) = parts
    assert isinstance(part, TextPart)
    assert len(part.text) <= (limits or Limits()).max_text_chars
    loaded: dict[str, Any] = json.loads(part.text, parse_constant=_no_constants)
    return loaded


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not valid JSON")


def test_small_frame_summary() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, np.nan, 2.5]})
    doc = summary(df)
    assert doc["name"] == "df"
    assert doc["type"] == "pandas.DataFrame"
    assert doc["shape"] == [3, 3]
    a, b, c = doc["columns"]
    assert a == {
        "name": "a",
        "dtype": "int64",
        "nulls": 0,
        "min": 1,
        "max": 3,
        "mean": 2.0,
        "std": 1.0,
    }
    assert (b["name"], b["nulls"], b["unique"]) == ("b", 1, 2)
    assert (c["nulls"], c["min"], c["max"]) == (1, 0.5, 2.5)
    assert doc["head"] == {
        "columns": ["a", "b", "c"],
        "index": [0, 1, 2],
        "data": [[1, "x", 0.5], [2, "y", None], [3, None, 2.5]],
    }
    assert "tail" not in doc
    assert doc["left_out"] == {"rows": 0, "columns": 0}
    assert "stats" not in doc
    assert describe(convert(df, "df")[0]).startswith("JSON ")


def test_head_tail_and_left_out_rows() -> None:
    df = pd.DataFrame({"n": np.arange(100)})
    doc = summary(df)
    assert doc["head"]["data"] == [[0], [1], [2], [3], [4]]
    assert doc["tail"]["index"] == [95, 96, 97, 98, 99]
    assert doc["left_out"] == {"rows": 90, "columns": 0}


def test_ten_million_rows_cost_what_a_sample_does() -> None:
    df = pd.DataFrame({f"c{i}": np.arange(10_000_000) for i in range(10)}, copy=False)
    start = time.perf_counter()
    doc = summary(df)
    elapsed = time.perf_counter() - start
    assert doc["shape"] == [10_000_000, 10]
    assert doc["stats"] == "nulls and summaries from 10,000 rows (one in 1,000)"
    assert doc["left_out"] == {"rows": 9_999_990, "columns": 0}
    assert doc["tail"]["data"][-1][0] == 9_999_999
    assert elapsed < 0.5


def test_five_thousand_columns_fit_and_say_what_was_left_out() -> None:
    df = pd.DataFrame(np.zeros((20, 5_000)), columns=[f"column_{i}" for i in range(5_000)])
    doc = summary(df)
    shown = len(doc["columns"])
    assert 1 <= shown < 100
    assert doc["left_out"]["columns"] == 5_000 - shown
    assert doc["head"]["columns"] == [f"column_{i}" for i in range(shown)]


def test_nested_cells_become_truncated_strings() -> None:
    df = pd.DataFrame(
        {
            "d": [{"k": list(range(1_000))}, {}],
            "l": [list(range(10_000)), [1]],
            "a": [np.arange(1_000_000), np.zeros(2)],
            "s": ["x" * 10_000, "short"],
        }
    )
    doc = summary(df)
    row = doc["head"]["data"][0]
    assert all(isinstance(cell, str) and len(cell) <= 100 for cell in row)
    assert row[3].endswith("…")
    assert [c.get("unique") for c in doc["columns"]] == [None, None, None, 2]


def test_dates_missing_values_and_numpy_scalars_are_valid_json() -> None:
    df = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-01-02", None]),
            "day": [datetime.date(2024, 1, 2), None],
            "f": [np.float32(1.5), np.inf],
            "i": pd.array([1, None], dtype="Int64"),
            "b": [np.bool_(True), False],
            "td": pd.to_timedelta(["1h", None]),
        },
        index=pd.to_datetime(["2024-01-01", "2024-01-02"]),
    )
    doc = summary(df)
    assert doc["head"]["index"] == ["2024-01-01T00:00:00", "2024-01-02T00:00:00"]
    assert doc["head"]["data"] == [
        ["2024-01-02T00:00:00", "2024-01-02", 1.5, 1, True, "0 days 01:00:00"],
        [None, None, "inf", None, False, None],
    ]
    when = doc["columns"][0]
    assert (when["min"], when["nulls"]) == ("2024-01-02T00:00:00", 1)


def test_budget_is_configurable_and_long_strings_shrink() -> None:
    df = pd.DataFrame({f"text_{i}": ["lorem ipsum " * 50] * 30 for i in range(8)})
    doc = summary(df, limits=Limits(max_text_chars=1_500))
    assert doc["left_out"]["rows"] >= 20
    assert doc["shape"] == [30, 8]


def test_series_is_a_one_column_frame() -> None:
    doc = summary(pd.Series([1.0, 2.0], name="price"), "s")
    assert doc["type"] == "pandas.Series"
    assert doc["columns"][0]["name"] == "price"


def test_polars_frame() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "a": [1, 2, None],
            "s": ["x", "y", "z"],
            "l": [[1, 2], [3], None],
            "t": [datetime.datetime(2024, 1, 1), None, datetime.datetime(2024, 3, 1)],
        }
    )
    doc = summary(df, "pdf")
    assert doc["type"] == "polars.DataFrame"
    assert [c["dtype"] for c in doc["columns"]] == [
        "Int64",
        "String",
        "List(Int64)",
        "Datetime(time_unit='us', time_zone=None)",
    ]
    assert doc["columns"][0] == {
        "name": "a",
        "dtype": "Int64",
        "nulls": 1,
        "min": 1,
        "max": 2,
        "mean": 1.5,
        "std": 0.7071068,
    }
    assert doc["head"]["data"][0] == [1, "x", "[1, 2]", "2024-01-01T00:00:00"]
    assert doc["head"]["index"] == [0, 1, 2]


def test_big_polars_frame_is_sampled() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({f"c{i}": np.arange(2_000_000) for i in range(5)})
    doc = summary(df)
    assert doc["stats"] == "nulls and summaries from 10,000 rows (one in 200)"
    assert doc["tail"]["index"][-1] == 1_999_999
    assert doc["left_out"] == {"rows": 1_999_990, "columns": 0}
