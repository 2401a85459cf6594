"""The package's version, for modules that must not import the package `__init__`."""

from __future__ import annotations

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - a checkout that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
