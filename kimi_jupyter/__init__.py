"""Ask Kimi-K2.6 about your notebook: streaming magics, multimodal context, chat panel."""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - a checkout that was never installed
    __version__ = "0.0.0"

from .chat import Chat, ChatStream
from .config import Settings
from .errors import KimiError
from .turn import Turn

__all__ = ["Chat", "ChatStream", "KimiError", "Settings", "Turn", "__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "kimi-jupyter"}]


def load_ipython_extension(ipython: Any) -> None:  # pragma: no cover - the magics issue
    """Register `%%kimi` / `%kimi` (the magics module is imported lazily)."""
