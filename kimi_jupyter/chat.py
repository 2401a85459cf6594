"""`Chat`: the one entry point the Python API, the magics, the widgets and the lab panel share."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from .client import EventStream, KimiClient, RetryNotice
from .config import Settings
from .conversation import Exchange, Message, Options, Part, Session, Sessions, TextPart, with_meta
from .errors import KimiError, StreamError
from .events import Event
from .turn import Turn

_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(Options))


class Chat:
    """A conversation with Kimi, held in a named session of this kernel process.

    `Chat(session="default", **settings)`: settings (`api_key`, `base_url`, `model`,
    timeouts, retry limits) beat the environment, which is read again on every request.
    """

    def __init__(
        self,
        session: str = "default",
        *,
        system: str | None = None,
        sessions: Sessions | None = None,
        transport: httpx.BaseTransport | None = None,
        **settings: Any,
    ) -> None:
        self._sessions = sessions or Sessions.default()
        self.session_name = session
        self._sessions.get(session, system=system)
        self._explicit = {k: v for k, v in settings.items() if k not in _OPTION_NAMES}
        self._defaults = {k: v for k, v in settings.items() if k in _OPTION_NAMES}
        Settings.from_env(**self._explicit)  # fail now on an unknown or invalid setting
        self._transport = transport
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
        """Send `prompt` (and `objects`) after the session's history; return the answer."""
        if not self._options(options).stream:
            return self._complete(prompt, objects, session, cell_id, options)
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
        opts = self._options({**options, "stream": True})
        message = _user_message(prompt, objects)
        target = self._sessions.get(session or self.session_name)
        payload, dropped = target.request(message, self.settings, opts, cell_id=cell_id)
        return ChatStream(self._get_client(), target, message, payload, dropped, cell_id)

    def preview(
        self, prompt: str, *objects: Part | str, session: str | None = None, **options: Any
    ) -> tuple[Message, dict[str, Any]]:
        """What `ask` would send (the user message and the whole payload), sending nothing."""
        message = _user_message(prompt, objects)
        target = self._sessions.get(session or self.session_name)
        payload, _ = target.request(message, self.settings, self._options(options))
        return message, payload

    @property
    def sessions(self) -> Sessions:
        return self._sessions

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


class ChatStream:
    """Events of one answer; the exchange is recorded when it ends (done, stopped or failed)."""

    def __init__(
        self,
        client: KimiClient,
        session: Session,
        prompt: Message,
        payload: dict[str, Any],
        dropped: int,
        cell_id: str | None,
    ) -> None:
        self._events: EventStream = client.stream(payload)
        self._session = session
        self._prompt = prompt
        self._dropped = dropped
        self._cell_id = cell_id
        self.payload = payload
        self.turn: Turn = self._events.turn

    def close(self) -> None:
        """Stop the answer where it is; the partial answer is kept in the session."""
        self._events.close()

    def __iter__(self) -> Iterator[Event]:
        try:
            yield from self._events
        except StreamError as exc:
            self._record(exc.partial or self._events.turn)
            raise
        except KimiError:
            raise  # nothing arrived: the session is left as it was
        except BaseException:  # KeyboardInterrupt, GeneratorExit: the user stopped it
            self._events.close()
            self._record(self._events.turn)
            raise
        self._record(self._events.turn)

    def _record(self, turn: Turn) -> None:
        self.turn = with_meta(turn, dropped_exchanges=self._dropped)
        self._session.record(Exchange(self._prompt, self.turn, cell_id=self._cell_id))


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
