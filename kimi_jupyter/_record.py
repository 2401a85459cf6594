"""Strict reading of the JSON we save (turn records, a saved session's notebook metadata).

A missing key, or `null`, gives the field's default, so records written by older versions
still load; a value of the wrong type is a one-line `KimiError` naming the field, never a
`TypeError` from deep inside a constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import KimiError


class Record:
    """One JSON object read field by field; `what` names it in error messages."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise KimiError(f"{what} must be a JSON object, not {_kind(data)}")
        self._data: Mapping[str, Any] = data
        self.what = what

    @classmethod
    def of(cls, data: object, what: str) -> Record:
        """`data` read as a record named `what` (a `Record` stays as it is)."""
        return data if isinstance(data, Record) else cls(data, what)

    def text(self, key: str, default: str = "") -> str:
        value = self.optional_text(key)
        return default if value is None else value

    def optional_text(self, key: str) -> str | None:
        value: str | None = self._get(key, str, "a string")
        return value

    def integer(self, key: str, default: int = 0) -> int:
        value = self._get(key, int, "a whole number")
        return default if value is None else value

    def number(self, key: str, default: float = 0.0) -> float:
        value = self.optional_number(key)
        return default if value is None else value

    def optional_number(self, key: str) -> float | None:
        value = self._get(key, (int, float), "a number")
        return None if value is None else float(value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        """One of `options` (the first when missing)."""
        value = self.text(key, options[0])
        if value not in options:
            raise KimiError(f"{self._name(key)} must be one of {', '.join(options)}, not {value!r}")
        return value

    def record(self, key: str) -> Record | None:
        value = self._data.get(key)
        return None if value is None else Record(value, self._name(key))

    def required(self, key: str) -> Record:
        """A nested JSON object that must be there."""
        value = self.record(key)
        if value is None:
            raise KimiError(f"{self._name(key)} is missing")
        return value

    def records(self, key: str) -> list[Record]:
        """A list of JSON objects (empty when missing)."""
        items = self._get(key, list, "a list") or []
        return [Record(item, f"{self._name(key)}[{i}]") for i, item in enumerate(items)]

    def mapping(self, key: str) -> dict[str, Any]:
        """A JSON object kept as it is (empty when missing)."""
        value = self._get(key, Mapping, "a JSON object")
        return dict(value) if value is not None else {}

    def names(self) -> list[str]:
        """The keys of the object, in order."""
        return list(self._data)

    def get(self, key: str) -> Any:
        """The raw value, for a field that may have several types (`None` when missing)."""
        return self._data.get(key)

    def _get(self, key: str, kind: type[Any] | tuple[type[Any], ...], label: str) -> Any:
        value = self._data.get(key)
        # JSON `true` is an int to Python, never a count or a number here
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise KimiError(f"{self._name(key)} must be {label}, not {_kind(value)}")
        return value

    def _name(self, key: str) -> str:
        return f"{self.what}.{key}"


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"{type(value).__name__} {value!r}"[:60])
