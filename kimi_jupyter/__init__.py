"""Ask Kimi-K2.6 about your notebook: streaming magics, multimodal context, chat panel."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._meta import __version__

if TYPE_CHECKING:
    from .chat import Chat, ChatStream
    from .chat_widget import ChatWidget
    from .config import Settings
    from .errors import KimiError
    from .tools import tool
    from .turn import Turn

__all__ = [
    "Chat",
    "ChatStream",
    "ChatWidget",
    "KimiError",
    "Settings",
    "Turn",
    "__version__",
    "tool",
]

# Loaded on first use, so `%load_ext kimi_jupyter` does not pay for the HTTP client, the
# Markdown renderer or ipywidgets before the first question (STYLE rule 6).
_LAZY = {
    "Chat": "chat",
    "ChatStream": "chat",
    "ChatWidget": "chat_widget",
    "KimiError": "errors",
    "Settings": "config",
    "Turn": "turn",
    "tool": "tools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "kimi-jupyter"}]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext kimi_jupyter`: register `%%kimi` / `%kimi` (imported lazily, to load fast)."""
    from ._magic_line import protect_questions
    from .magics import KimiMagics

    ipython.register_magics(KimiMagics)
    if protect_questions not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(protect_questions)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext kimi_jupyter`: stop treating `%kimi …?` lines specially."""
    from ._magic_line import protect_questions
    from .magics import KimiMagics

    if protect_questions in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(protect_questions)
    magics = ipython.magics_manager.registry.get(KimiMagics.__name__)
    if magics is not None:
        magics.capture.uninstall()
