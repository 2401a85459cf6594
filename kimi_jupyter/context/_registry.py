"""Which converter takes an object: a registry that libraries extend, newest entry first."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from kimi_jupyter.conversation import Part
from kimi_jupyter.errors import ContextError, KimiError

from . import (
    arrays,
    bokeh_charts,
    figures,
    frames,
    images,
    matplotlib_charts,
    media,
    plotly_charts,
    text,
    vega_charts,
)
from ._common import Limits, one_line, who

Converter: TypeAlias = Callable[[Any, str | None, Limits], Sequence[Part] | None]
"""`converter(obj, name, limits)` → parts, or None to let the next matching entry try."""
Matcher: TypeAlias = type | tuple[type, ...] | str | Callable[[Any], bool]
"""A type (or tuple of types), a dotted class name matched without importing its module
("pandas.core.frame.DataFrame"), or a predicate."""


@dataclass(frozen=True)
class _Entry:
    matches: Callable[[Any], bool]
    converter: Converter


class Registry:
    """Converters by the objects they take; the most recent matching registration wins."""

    _default: ClassVar[Registry | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._entries: tuple[_Entry, ...] = ()
        self._lock = threading.Lock()

    @classmethod
    def with_builtins(cls) -> Registry:
        """A new registry holding the built-in converters (figures, images, frames, …)."""
        registry = cls()
        for matcher, converter in _builtins():
            registry.register(matcher, converter)
        return registry

    @classmethod
    def default(cls) -> Registry:
        """The kernel's shared registry, which `convert` and `register` use."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls.with_builtins()
            return cls._default

    def register(self, matcher: Matcher, converter: Converter) -> Converter:
        """Make `converter` handle objects that `matcher` accepts, before earlier entries."""
        entry = _Entry(_predicate(matcher), converter)
        with self._lock:
            self._entries = (*self._entries, entry)
        return converter

    def convert(
        self, obj: object, name: str | None = None, *, limits: Limits | None = None
    ) -> list[Part]:
        """The content parts for `obj`; `repr(obj)`, truncated, when no converter takes it.

        A converter that fails in any other way than `ContextError` (a property of the
        object raising, a library bug) gives a `ContextError` naming the object too.
        """
        limits = limits or Limits()
        try:
            for entry in reversed(self._entries):
                if entry.matches(obj):
                    parts = entry.converter(obj, name, limits)
                    if parts is not None:
                        return list(parts)
            return list(text.repr_parts(obj, name, limits))
        except KimiError:
            raise
        # User objects and third-party libraries may raise anything while being read.
        except Exception as exc:
            raise ContextError(f"{who(name, obj)}: reading it raised {one_line(exc)}") from exc


def _predicate(matcher: Matcher) -> Callable[[Any], bool]:
    if isinstance(matcher, str):
        return lambda obj: any(
            f"{cls.__module__}.{cls.__qualname__}" == matcher for cls in type(obj).__mro__
        )
    if isinstance(matcher, (type, tuple)):
        types = matcher
        return lambda obj: isinstance(obj, types)
    if callable(matcher):
        return matcher
    raise TypeError(f"register() takes a type, a dotted class name or a predicate, not {matcher!r}")


def _from(package: str, *names: str) -> Callable[[Any], bool]:
    """Whether an object's class (or a base) is one of `names` from `package`; reading the
    class's module name imports nothing, so unused libraries stay unloaded."""
    wanted = frozenset(names)

    def matches(obj: Any) -> bool:
        return any(
            cls.__name__ in wanted and cls.__module__.partition(".")[0] == package
            for cls in type(obj).__mro__
        )

    return matches


def _has_method(*methods: str) -> Callable[[Any], bool]:
    # Looked up on the type: objects whose __getattr__ answers everything are not images.
    return lambda obj: any(callable(getattr(type(obj), m, None)) for m in methods)


def _builtins() -> list[tuple[Matcher, Converter]]:
    """The built-in entries, most general first (later entries are tried first)."""
    return [
        ((dict, list, tuple, set, frozenset), text.container_parts),
        (_has_method("_repr_markdown_"), text.markdown_parts),
        (_has_method("_repr_png_", "_repr_jpeg_"), images.repr_image_parts),
        (str, text.str_parts),
        ((bytes, bytearray, memoryview), media.bytes_parts),
        (os.PathLike, media.path_parts),
        (_from("numpy", "ndarray"), arrays.array_parts),
        (_from("PIL", "Image"), images.pil_parts),
        (_from("pandas", "DataFrame", "Series"), frames.pandas_parts),
        (_from("polars", "DataFrame", "Series"), frames.polars_parts),
        (_from("matplotlib", "FigureBase", "Axes"), figures.figure_parts),
        (_from("plotly", "BaseFigure"), plotly_charts.plotly_parts),
        (_from("altair", "TopLevelMixin"), vega_charts.altair_parts),
        (_from("seaborn", "_BaseGrid", "Grid", "JointGrid"), figures.figure_parts),
        (_from("plotnine", "ggplot", "Compose"), matplotlib_charts.plotnine_parts),
        (_from("seaborn", "Plot", "Plotter"), matplotlib_charts.seaborn_objects_parts),
        (_from("bokeh", "LayoutDOM"), bokeh_charts.bokeh_parts),
        (_from("holoviews", "Dimensioned"), bokeh_charts.holoviews_parts),
    ]
