"""Binding a Kimi tool call: the model's JSON arguments checked against the tool's schema and
turned into the Python values the function's annotations ask for.

`bind` is the entry point. This module builds on `_schema` and `_schema` never imports it;
jsonschema is imported only inside the functions here, so describing a tool stays cheap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
from collections.abc import Callable, Iterable
from typing import Any, get_args, get_origin

from kimi_jupyter._schema import (
    _ANYS,
    _ARRAYS,
    _DATES,
    _MAPPINGS,
    _SETS,
    _UNIONS,
    FunctionSchema,
    ToolArgumentError,
    _clip,
    _hints,
    _lookup,
    _parameters,
    _type_schema,
    _unannotate,
)


def bind(
    func: Callable[..., Any], schema: FunctionSchema, arguments: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The `(args, kwargs)` to call `func` with the model's `arguments` (parsed JSON).

    The arguments are checked against `schema.parameters` first; the first error becomes a
    one-line `ToolArgumentError` naming the argument. Omitted optional arguments are left out,
    so Python fills in their defaults.
    """
    if not isinstance(arguments, dict):
        raise ToolArgumentError(
            f"the arguments must be a JSON object, not {type(arguments).__name__}"
        )
    _validate(schema.parameters, arguments)
    hints = _hints(func)
    params = _parameters(func, schema.name)
    values = {
        p.name: _convert(hints.get(p.name, Any), arguments[p.name], p.name)
        for p in params
        if p.name in arguments
    }
    positional = [p for p in params if p.kind is p.POSITIONAL_ONLY]
    last = max((i for i, p in enumerate(positional) if p.name in values), default=-1)
    args = tuple(values.get(p.name, p.default) for p in positional[: last + 1])
    kwargs = {p.name: values[p.name] for p in params if p.name in values and p not in positional}
    return args, kwargs


def _validate(parameters: dict[str, Any], arguments: dict[str, Any]) -> None:
    # jsonschema takes most of a second to import cold: only a tool call pays for it
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(parameters).iter_errors(arguments))
    if error is None:
        return
    path = _path(error.absolute_path)
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        raise ToolArgumentError(f"missing required argument {_join(path, missing)!r}")
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = error.schema.get("properties", {})
        extra = next(name for name in error.instance if name not in known)
        raise ToolArgumentError(f"unexpected argument {_join(path, extra)!r}")
    message = _clip(str(error.message).replace("\n", " "), 300)
    raise ToolArgumentError(f"argument {path!r}: {message}" if path else message)


def _convert(tp: Any, value: Any, path: str) -> Any:
    """`value`, already valid for `tp`'s schema, as the Python value `tp` describes."""
    tp = _unannotate(tp)[0]
    origin, args = get_origin(tp), get_args(tp)
    if origin in _UNIONS:
        return _convert(_pick_branch(args, value), value, path)
    if value is None or tp in _ANYS:
        return value
    if tp is float or tp is int:  # JSON 3 for a float, and jsonschema's 3.0 for an int
        return tp(value)
    if (origin or tp) in _ARRAYS:
        return _convert_array(origin or tp, args, value, path)
    if (origin or tp) in _MAPPINGS and len(args) == 2:
        return {key: _convert(args[1], item, _join(path, key)) for key, item in value.items()}
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return tp(value)
    if inspect.isclass(tp) and dataclasses.is_dataclass(tp):
        return _convert_dataclass(tp, value, path)
    if (fmt := _lookup(_DATES, tp)) is not None:
        zulu = value.endswith(("Z", "z")) and tp is not dt.date
        text = value[:-1] + "+00:00" if zulu else value
        try:
            return tp.fromisoformat(text)
        except ValueError:
            raise ToolArgumentError(f"argument {path!r}: {value!r} is not a {fmt}") from None
    if hasattr(tp, "__supertype__"):
        return _convert(tp.__supertype__, value, path)
    return value


def _pick_branch(args: tuple[Any, ...], value: Any) -> Any:
    """The first member of a Union whose schema `value` fits."""
    from jsonschema import Draft202012Validator

    for arg in args:
        if Draft202012Validator(_type_schema(arg)).is_valid(value):
            return arg
    return Any


def _convert_array(kind: Any, args: tuple[Any, ...], value: list[Any], path: str) -> Any:
    if kind is tuple and args and args[-1] is not Ellipsis:
        return tuple(
            _convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    item = args[0] if args else Any
    items = [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind is tuple:
        return tuple(items)
    if kind in _SETS:
        return frozenset(items) if kind is frozenset else set(items)
    return items


def _convert_dataclass(cls: Any, value: dict[str, Any], path: str) -> Any:
    hints = _hints(cls)
    names = {field.name for field in dataclasses.fields(cls) if field.init}
    kwargs = {
        name: _convert(hints.get(name, Any), item, _join(path, name))
        for name, item in value.items()
        if name in names
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # a check in __post_init__
        raise ToolArgumentError(f"argument {path!r}: {exc}") from None


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
