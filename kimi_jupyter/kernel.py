"""`KernelContext`: what every surface of one kernel shares, made once and handed around.

The magic makes it at `%load_ext`; `Chat`, the chat widget, the panel and `map` receive it.
It holds the named sessions, the `@tool` registry, the converters that turn objects into
content parts, and the mention providers (`@last`, `@error`) the magic's capture serves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import httpx

    from kimi_jupyter.context import Registry
    from kimi_jupyter.conversation import Sessions
    from kimi_jupyter.prompting import Context
    from kimi_jupyter.tools import Toolbox

Provider = Callable[[], Any]

__all__ = ["KernelContext", "Provider"]


class KernelContext:
    """Sessions, tools, converters and mention providers of one kernel process.

    Members are made on first use, so making a context (at `%load_ext`) imports nothing
    heavy. `@tool` and `context.register` add to the process's registries, which a context
    uses unless it is given its own.
    """

    _current: ClassVar[KernelContext | None] = None
    _current_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        *,
        sessions: Sessions | None = None,
        tools: Toolbox | None = None,
        converters: Registry | None = None,
        providers: Mapping[str, Provider] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._sessions, self._tools, self._converters = sessions, tools, converters
        self.providers: dict[str, Provider] = dict(providers or {})
        # The HTTP seam for every Chat of this kernel that names none (tests, proxies).
        self.transport = transport
        self._lock = threading.Lock()

    @classmethod
    def current(cls) -> KernelContext:
        """This process's context: the one `%load_ext` made, else a new one."""
        with cls._current_lock:
            if cls._current is None:
                cls._current = cls()
            return cls._current

    def install(self) -> KernelContext:
        """Make this the process's context (what `%load_ext` does); returns it."""
        with KernelContext._current_lock:
            KernelContext._current = self
        return self

    @property
    def sessions(self) -> Sessions:
        with self._lock:
            if self._sessions is None:
                from kimi_jupyter.conversation import Sessions

                self._sessions = Sessions()
            return self._sessions

    @property
    def tools(self) -> Toolbox:
        if self._tools is not None:
            return self._tools
        from kimi_jupyter.tools import Toolbox

        return Toolbox.default()

    @property
    def converters(self) -> Registry:
        if self._converters is not None:
            return self._converters
        from kimi_jupyter.context import Registry

        return Registry.default()

    def gather(self, prompt: str, namespace: Mapping[str, Any]) -> Context:
        """The prompt's mentions resolved in `namespace` (and the providers), as parts."""
        from kimi_jupyter.prompting import gather

        return gather(prompt, namespace, self.providers, converters=self.converters)
