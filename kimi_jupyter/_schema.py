"""Python functions as Kimi function tools: the schema sent to the model.

`function_schema` follows Kimi's rules (KIMI_WIRE §2, §2.5): a name matching
`^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$`, every property typed at every level, no top-level
`$schema`, tuples as `prefixItems`. `_binding.bind`, which builds on this module (never the
other way round), checks the model's arguments against that schema and turns them into the
Python values the annotations ask for.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import enum
import functools
import inspect
import json
import re
import types
import typing
from collections import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from kimi_jupyter._docstring import parse_docstring
from kimi_jupyter.errors import KimiError

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{2,63}")
_MAX_DESCRIPTION = 1_000
_SCALARS: tuple[tuple[Any, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (type(None), "null"),
)
_DATES: tuple[tuple[Any, str], ...] = (
    (dt.datetime, "date-time"),
    (dt.date, "date"),
    (dt.time, "time"),
)
_SETS = (set, frozenset, abc.Set, abc.MutableSet)
_ARRAYS = (list, tuple, abc.Sequence, abc.MutableSequence, abc.Collection, abc.Iterable, *_SETS)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)
_UNIONS = (Union, types.UnionType)
_ANYS = (Any, object)
_NO_DEFAULT = object()


class ToolDefinitionError(KimiError):
    """A function cannot be described as a Kimi tool (bad name, an annotation JSON can't carry)."""


class ToolArgumentError(KimiError):
    """The model's tool arguments do not fit the schema; the message is meant for the model."""


class _UnsupportedError(Exception):
    """An annotation has no JSON schema; the message says why."""


@dataclass(frozen=True)
class FunctionSchema:
    """A function tool as Kimi sees it: name, description and a JSON schema of the arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The entry for the request's `tools` array."""
        function = {
            "name": self.name,
            "description": self.description,
            "parameters": copy.deepcopy(self.parameters),
        }
        return {"type": "function", "function": function}


def function_schema(
    func: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> FunctionSchema:
    """Describe `func` as a Kimi function tool, from its signature, annotations and docstring."""
    target = func.func if isinstance(func, functools.partial) else func  # its name and doc
    tool_name = name if name is not None else getattr(target, "__name__", type(func).__name__)
    if not _NAME.fullmatch(tool_name):
        raise ToolDefinitionError(
            f"{tool_name!r} is not a valid Kimi tool name (3-64 letters, digits, '_' or '-', "
            f'not starting with a digit or "-"); give it one with @tool(name="...")'
        )
    summary, docs = parse_docstring(inspect.getdoc(target))
    try:
        hints = _hints(func)
    except _UnsupportedError as exc:
        raise ToolDefinitionError(f"cannot describe tool {tool_name!r}: {exc}") from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in _parameters(func, tool_name):
        default = _NO_DEFAULT if param.default is param.empty else param.default
        tp = hints.get(param.name, Any)
        try:
            properties[param.name] = _property(tp, docs.get(param.name, ""), default, ())
        except _UnsupportedError as exc:
            raise ToolDefinitionError(
                f"cannot describe parameter {param.name!r} of tool {tool_name!r}: {exc}"
            ) from None
        if default is _NO_DEFAULT:
            required.append(param.name)
    text = _clip(description if description is not None else summary)
    return FunctionSchema(tool_name, text, _object(properties, required))


def _parameters(func: Callable[..., Any], tool_name: str) -> list[inspect.Parameter]:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"cannot read the signature of {tool_name!r}: {exc}") from None
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            star = "*" if p.kind is p.VAR_POSITIONAL else "**"
            raise ToolDefinitionError(
                f"cannot describe parameter '{star}{p.name}' of tool {tool_name!r}: "
                "a tool's arguments must all be named parameters"
            )
    return params


def _hints(obj: Any) -> dict[str, Any]:
    """The resolved annotations of a function or class (string annotations evaluated)."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except NameError as exc:
        raise _UnsupportedError(f"an annotation cannot be resolved ({exc})") from None
    except TypeError:
        pass  # not a function or class: a functools.partial or a callable object
    try:
        sig = inspect.signature(obj, eval_str=True)
    except (NameError, TypeError, ValueError) as exc:
        raise _UnsupportedError(f"the annotations cannot be read ({exc})") from None
    return {n: p.annotation for n, p in sig.parameters.items() if p.annotation is not p.empty}


def _property(tp: Any, doc: str, default: Any, seen: tuple[type, ...]) -> dict[str, Any]:
    """One property: the annotation's schema, a description, and a JSON-able default."""
    schema = _type_schema(tp, seen)
    if doc and "description" not in schema:
        schema["description"] = _clip(doc)
    if _unannotate(tp)[0] in _ANYS:
        text = schema.get("description")
        schema["description"] = f"{text} (passed as text)" if text else "passed as text"
    if isinstance(default, enum.Enum):
        default = default.value
    if default is not _NO_DEFAULT:
        # a default JSON cannot show (a DataFrame, a date) is simply not shown
        with contextlib.suppress(TypeError, ValueError):
            schema["default"] = json.loads(json.dumps(default, allow_nan=False))
    return schema


def _type_schema(tp: Any, seen: tuple[type, ...] = ()) -> dict[str, Any]:
    """The JSON schema of one annotation; `seen` holds the dataclasses being described."""
    tp, description = _unannotate(tp)
    schema = _bare_schema(tp, seen)
    if description:
        schema["description"] = _clip(description)
    return schema


def _bare_schema(tp: Any, seen: tuple[type, ...]) -> dict[str, Any]:
    if tp in _ANYS:
        return {"type": "string"}
    if (name := _lookup(_SCALARS, tp)) is not None:
        return {"type": name}
    if (fmt := _lookup(_DATES, tp)) is not None:
        return {"type": "string", "format": fmt}
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return _enum_schema(args, "Literal")
    if origin in _UNIONS:
        return _union_schema(args, seen)
    if (origin or tp) in _ARRAYS:
        return _array_schema(origin or tp, args, seen)
    if (origin or tp) in _MAPPINGS:
        if args and args[0] is not str:
            raise _UnsupportedError(f"dict keys must be str, not {_type_name(args[0])}")
        if len(args) == 2 and args[1] not in _ANYS:
            return {"type": "object", "additionalProperties": _type_schema(args[1], seen)}
        return {"type": "object"}
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return _enum_schema(tuple(member.value for member in tp), tp.__name__)
    if inspect.isclass(tp) and dataclasses.is_dataclass(tp):
        return _dataclass_schema(tp, seen)
    if hasattr(tp, "__supertype__"):  # typing.NewType
        return _bare_schema(tp.__supertype__, seen)
    raise _UnsupportedError(
        f"{_type_name(tp)} cannot be sent as JSON (use str, int, float, bool, list, dict, "
        "Literal, an Enum, a dataclass, or Optional of these)"
    )


def _enum_schema(values: tuple[Any, ...], what: str) -> dict[str, Any]:
    names: list[str] = []
    for value in values:
        name = _lookup(_SCALARS, type(value))
        if name is None:
            raise _UnsupportedError(f"{what} value {value!r} is not a JSON string, number or bool")
        if name not in names:
            names.append(name)
    return {"type": names[0] if len(names) == 1 else names, "enum": list(values)}


def _union_schema(args: tuple[Any, ...], seen: tuple[type, ...]) -> dict[str, Any]:
    branches = [_type_schema(arg, seen) for arg in args]
    if not all(branch.keys() == {"type"} for branch in branches):
        return {"anyOf": branches}
    names: list[str] = []
    for branch in branches:
        kinds = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
        names.extend(kind for kind in kinds if kind not in names)
    return {"type": names[0] if len(names) == 1 else names}


def _array_schema(kind: Any, args: tuple[Any, ...], seen: tuple[type, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array"}
    if kind is tuple and args and args[-1] is not Ellipsis:
        items = [_type_schema(arg, seen) for arg in args]
        return {**schema, "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if args and args[0] not in _ANYS:
        schema["items"] = _type_schema(args[0], seen)
    if kind in _SETS:
        schema["uniqueItems"] = True
    return schema


def _dataclass_schema(cls: type, seen: tuple[type, ...]) -> dict[str, Any]:
    if cls in seen:
        raise _UnsupportedError(f"dataclass {cls.__name__} contains itself")
    hints = _hints(cls)
    own_doc = cls.__doc__ if not (cls.__doc__ or "").startswith(f"{cls.__name__}(") else None
    docs = parse_docstring(own_doc)[1]
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        has_default = field.default is not dataclasses.MISSING
        default = field.default if has_default else _NO_DEFAULT
        tp = hints.get(field.name, Any)
        properties[field.name] = _property(tp, docs.get(field.name, ""), default, (*seen, cls))
        if not has_default and field.default_factory is dataclasses.MISSING:
            required.append(field.name)
    return _object(properties, required)


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _unannotate(tp: Any) -> tuple[Any, str]:
    """`Annotated[X, ...]` as X and the first description in its metadata (a string, or an
    object with a string `description`, like pydantic's `Field`)."""
    if get_origin(tp) is not typing.Annotated:
        return tp, ""
    for meta in tp.__metadata__:
        text = meta if isinstance(meta, str) else getattr(meta, "description", None)
        if isinstance(text, str) and text:
            return get_args(tp)[0], text
    return get_args(tp)[0], ""


def _lookup(table: Iterable[tuple[Any, str]], tp: Any) -> str | None:
    # identity, not a dict: annotations may be unhashable (Annotated with a dict in it)
    return next((name for cls, name in table if tp is cls), None)


def _type_name(tp: Any) -> str:
    return str(getattr(tp, "__qualname__", None) or repr(tp))


def _clip(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
