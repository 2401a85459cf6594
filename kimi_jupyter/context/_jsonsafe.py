"""Kernel values as bounded, valid JSON: no NaN literals, nothing unbounded, no surprises.

Only the standard library is imported: pandas and NumPy values are recognised by their
type names, so converting a dict never imports them.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import json
import math
import numbers
import reprlib
from collections.abc import Mapping
from typing import Any

from ._common import clip

JSON = Any  # a value `json.dumps(..., allow_nan=False)` accepts
_MISSING_TYPES = frozenset({"NAType", "NaTType", "NoneType"})
_SEQUENCES = (list, tuple, set, frozenset)


def dumps(value: JSON) -> str:
    """Compact JSON; non-ASCII kept as is (it counts once against a character budget)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def scalar(value: Any, max_chars: int) -> JSON:
    """One value as a JSON scalar; containers and unknown objects become truncated strings."""
    if value is None or isinstance(value, bool):
        return value
    kind = type(value).__name__
    if kind in _MISSING_TYPES:  # pd.NA and pd.NaT (NaT is a datetime subclass)
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**18 else clip(str(value), max_chars)
    if isinstance(value, str):
        return clip(value, max_chars)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (datetime.timedelta, decimal.Decimal)):
        return str(value)
    if isinstance(value, numbers.Integral):  # NumPy integers register themselves here
        return int(value)
    if isinstance(value, numbers.Real):
        return number(float(value))
    if kind in ("bool", "bool_"):  # numpy.bool_ is not a numbers.Integral
        return bool(value)
    if kind in ("datetime64", "timedelta64"):
        text = str(value)
        return None if text == "NaT" else text
    return clip(_short_repr(value, max_chars), max_chars)


def number(value: float) -> JSON:
    """A float with 7 significant digits; NaN is null and infinities are strings."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.7g}")


def tree(value: Any, *, items: int, chars: int, depth: int) -> JSON:
    """A nested value with at most `items` entries per container and `depth` levels."""
    if depth > 0 and isinstance(value, Mapping):
        out: dict[str, JSON] = {}
        for key, item in itertools.islice(value.items(), items):
            out[clip(str(key), chars)] = tree(item, items=items, chars=chars, depth=depth - 1)
        if len(value) > items:
            out["…"] = f"{len(value) - items:,} more items"
        return out
    if depth > 0 and isinstance(value, _SEQUENCES):
        seq = [
            tree(item, items=items, chars=chars, depth=depth - 1)
            for item in itertools.islice(value, items)
        ]
        if len(value) > items:
            seq.append(f"… {len(value) - items:,} more items")
        return seq
    return scalar(value, chars)


def _short_repr(value: Any, max_chars: int) -> str:
    if type(value).__name__ == "ndarray":  # NumPy's own repr can run to 1,000 elements
        head = value.ravel()[:6].tolist()
        return f"ndarray{list(value.shape)} {value.dtype} {head}"
    short = reprlib.Repr()
    short.maxlevel = 2
    short.maxstring = short.maxother = max(max_chars, 8)
    return short.repr(value)
