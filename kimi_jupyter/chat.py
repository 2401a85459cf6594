"""`Chat`: the one entry point the Python API, the magics, the widgets and the lab panel share."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import httpx

from ._stream import ChatStream, Request
from .client import KimiClient, RetryNotice
from .config import Settings
from .conversation import Exchange, Message, Options, Part, Session, Sessions, TextPart, with_meta
from .errors import KimiError
from .tools import MAX_STEPS, Toolbox, check_web_search, web_search_spec
from .turn import Turn

__all__ = ["Chat", "ChatStream"]

_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(Options))
_LOOP_OPTIONS = frozenset({"tools", "web_search", "max_steps"})


class Chat:
    """A conversation with Kimi, held in a named session of this kernel process.

    `Chat(session="default", **settings)`: settings (`api_key`, `base_url`, `model`,
    timeouts, retry limits) beat the environment, which is read again on every request.
    `tools` offers kernel functions to the model (functions, `@tool` names, or True for
    every registered one), `web_search` Kimi's builtin `$web_search`; `max_steps` bounds
    the requests of one answer. Each can also be given per call.
    """

    def __init__(
        self,
        session: str = "default",
        *,
        system: str | None = None,
        sessions: Sessions | None = None,
        transport: httpx.BaseTransport | None = None,
        tools: Any = None,
        web_search: bool = False,
        max_steps: int = MAX_STEPS,
        **settings: Any,
    ) -> None:
        self._sessions = sessions or Sessions.default()
        self.session_name = session
        self._sessions.get(session, system=system)
        self._explicit = {k: v for k, v in settings.items() if k not in _OPTION_NAMES}
        self._defaults = {k: v for k, v in settings.items() if k in _OPTION_NAMES}
        Settings.from_env(**self._explicit)  # fail now on an unknown or invalid setting
        self._transport = transport
        self._tools, self._web_search, self._max_steps = tools, web_search, max_steps
        Toolbox.default().resolve(tools)  # fail now on an unknown tool name
        self._client: KimiClient | None = None
        self.on_retry: Callable[[RetryNotice], None] | None = None

    def __repr__(self) -> str:
        return f"Chat(session={self.session_name!r}, {self.settings!r})"

    @property
    def settings(self) -> Settings:
        return Settings.from_env(**self._explicit)

    @property
    def session(self) -> Session:
        return self._sessions.get(self.session_name)

    @property
    def turns(self) -> list[Turn]:
        return self.session.turns

    def ask(
        self,
        prompt: str,
        *objects: Part | str,
        session: str | None = None,
        cell_id: str | None = None,
        **options: Any,
    ) -> Turn:
        """Send `prompt` (and `objects`) after the session's history; return the answer.

        With tools offered, the answer is streamed even when `stream=False` (a tool loop
        needs the calls as they come); the returned turn is the same.
        """
        offers = options.get("tools", self._tools) or options.get("web_search", self._web_search)
        plain = {k: v for k, v in options.items() if k not in _LOOP_OPTIONS}
        if not offers and not self._options(plain).stream:
            return self._complete(prompt, objects, session, cell_id, plain)
        options.pop("stream", None)
        stream = self.stream(prompt, *objects, session=session, cell_id=cell_id, **options)
        for _ in stream:
            pass
        return stream.turn

    def stream(
        self,
        prompt: str,
        *objects: Part | str,
        session: str | None = None,
        cell_id: str | None = None,
        **options: Any,
    ) -> ChatStream:
        """Like `ask`, but iterate the result for events; `.turn` holds the answer so far.

        `session` picks another named session for this call; `cell_id` makes a re-run cell
        replace its earlier exchange instead of adding a second one.
        """
        return ChatStream(self._request(prompt, objects, session, cell_id, options))

    def preview(
        self, prompt: str, *objects: Part | str, session: str | None = None, **options: Any
    ) -> tuple[Message, dict[str, Any]]:
        """What `ask` would send (the user message and the whole payload), sending nothing."""
        stream = options.pop("stream", True)
        request = self._request(prompt, objects, session, None, options)
        if not stream:
            request.options = dataclasses.replace(request.options, stream=False)
        payload, _ = request.payload((), last=request.max_steps <= 1)
        return request.prompt, payload

    @property
    def sessions(self) -> Sessions:
        return self._sessions

    def fork(self, session: str = "default") -> Chat:
        """A Chat with the same settings, defaults, tools and transport, but its own (empty)
        sessions and its own HTTP client: one per worker thread for `map`."""
        twin = Chat(
            session,
            sessions=Sessions(),
            transport=self._transport,
            tools=self._tools,
            web_search=self._web_search,
            max_steps=self._max_steps,
            **self._explicit,
            **self._defaults,
        )
        twin.on_retry = self.on_retry
        return twin

    def map(self, template: str, df: Any, **kwargs: Any) -> Any:
        """Ask `template` (with `{column}` fields) once per row of `df`; see `batch.run_map`."""
        from .batch import run_map

        return run_map(self, template, df, **kwargs)

    def reset(self) -> None:
        self.session.reset()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _complete(
        self,
        prompt: str,
        objects: tuple[Part | str, ...],
        session: str | None,
        cell_id: str | None,
        options: dict[str, Any],
    ) -> Turn:
        message = _user_message(prompt, objects)
        target = self._sessions.get(session or self.session_name)
        opts = self._options(options)
        payload, dropped = target.request(message, self.settings, opts, cell_id=cell_id)
        turn = with_meta(self._get_client().complete(payload), dropped_exchanges=dropped)
        target.record(Exchange(message, turn, cell_id=cell_id))
        return turn

    def _request(
        self,
        prompt: str,
        objects: tuple[Part | str, ...],
        session: str | None,
        cell_id: str | None,
        options: dict[str, Any],
    ) -> Request:
        tools = Toolbox.default().resolve(options.pop("tools", self._tools))
        web_search = options.pop("web_search", self._web_search)
        max_steps = options.pop("max_steps", self._max_steps)
        if not isinstance(max_steps, int) or max_steps < 1:
            raise KimiError(f"max_steps must be a positive whole number, not {max_steps!r}")
        specs = [t.to_wire() for t in tools]
        if web_search:
            check_web_search(self.settings)
            specs.append(web_search_spec())
        if specs:
            options = {**options, "tools": specs}
        return Request(
            client=self._get_client,
            settings=lambda: self.settings,
            session=self._sessions.get(session or self.session_name),
            prompt=_user_message(prompt, objects),
            options=self._options({**options, "stream": True}),
            cell_id=cell_id,
            tools={t.name: t for t in tools},
            max_steps=max_steps,
        )

    def _options(self, options: dict[str, Any]) -> Options:
        merged = {**self._defaults, **{k: v for k, v in options.items() if v is not None}}
        unknown = set(merged) - _OPTION_NAMES
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return Options(**merged)

    def _get_client(self) -> KimiClient:
        settings = self.settings
        if self._client is None or self._client.settings != settings:
            self.close()
            self._client = KimiClient(settings, transport=self._transport, on_retry=self._retry)
        return self._client

    def _retry(self, notice: RetryNotice) -> None:
        if self.on_retry is not None:
            self.on_retry(notice)


def _user_message(prompt: str, objects: tuple[Part | str, ...]) -> Message:
    if not objects:
        return Message("user", prompt)
    parts: list[Part] = [TextPart(prompt)] if prompt else []
    for obj in objects:
        if isinstance(obj, str):
            parts.append(TextPart(obj))
        elif isinstance(obj, Part):
            parts.append(obj)
        else:
            raise TypeError(f"cannot send a {type(obj).__name__}: pass text or a content part")
    return Message("user", tuple(parts))
