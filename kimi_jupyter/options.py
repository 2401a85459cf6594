"""`AskOptions`: everything one question may choose, passed whole from every surface to `Chat`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AskOptions"]


@dataclass(frozen=True)
class AskOptions:
    """Per-question choices; `None` means "not chosen here" (the `Chat`'s default, else the
    API's). `%%kimi` flags, the chat widget, the panel and `Chat.ask(**kwargs)` all make one.

    `tools`: True (every registered `@tool`), names, functions or `Tool`s; False offers none.
    """

    model: str | None = None
    thinking: bool | None = None
    keep_thinking: bool | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: Sequence[str] | None = None
    response_format: dict[str, Any] | None = None
    tools: Any = None
    web_search: bool | None = None
    max_steps: int | None = None
    stream: bool | None = None

    @classmethod
    def of(cls, **choices: Any) -> AskOptions:
        """From keyword arguments (the Python API); an unknown name is a `TypeError`."""
        unknown = set(choices) - _NAMES
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return cls(**choices)

    def over(self, base: AskOptions) -> AskOptions:
        """These choices on top of `base`: what is set here wins."""
        return dataclasses.replace(base, **self.chosen())

    def chosen(self) -> dict[str, Any]:
        """Only the fields that were set."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }

    @property
    def offers_tools(self) -> bool:
        return bool(self.tools) or bool(self.web_search)


_NAMES = frozenset(f.name for f in dataclasses.fields(AskOptions))
