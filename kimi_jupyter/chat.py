"""`Chat`: the one entry point the Python API, the magics, the widgets and the lab panel share."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import httpx

from ._stream import ChatStream, Request
from .client import KimiClient, OnRetry
from .config import Secret, Settings
from .conversation import MediaPart, Message, Options, Part, Session, Sessions, TextPart
from .errors import KimiError
from .kernel import KernelContext
from .options import AskOptions
from .tools import MAX_STEPS, check_web_search, web_search_spec
from .turn import Turn

if TYPE_CHECKING:
    from .context import Registry

__all__ = ["AskOptions", "Chat", "ChatStream"]

_ASK_NAMES = frozenset(f.name for f in dataclasses.fields(AskOptions))


class Chat:
    """A conversation with Kimi, held in a named session of this kernel process.

    `Chat(session="default", **settings)`: settings (`api_key`, `base_url`, `model`,
    timeouts, retry limits) beat the environment, which is read again on every request.
    `tools` offers kernel functions to the model (functions, `@tool` names, or True for
    every registered one), `web_search` Kimi's builtin `$web_search`; `max_steps` bounds
    the requests of one answer. Any `AskOptions` field given here is this Chat's default;
    each can also be given per call (keywords, or `options=AskOptions(...)` whole).

    A Chat holds no state of one answer: the surfaces run answers through
    `run.AnswerRun`, which keeps its own Stop, retry notices and approvals.
    """

    def __init__(
        self,
        session: str = "default",
        *,
        system: str | None = None,
        context: KernelContext | None = None,
        sessions: Sessions | None = None,
        transport: httpx.BaseTransport | None = None,
        tools: Any = None,
        web_search: bool = False,
        max_steps: int = MAX_STEPS,
        **settings: Any,
    ) -> None:
        base = context or KernelContext.current()
        if sessions is not None:
            base = KernelContext(sessions=sessions, tools=base.tools, providers=base.providers,
                                 transport=base.transport)  # fmt: skip
        self.context = base
        self.session_name = session
        self.sessions.get(session, system=system)
        if isinstance(settings.get("api_key"), str):  # held masked, so `vars(chat)` shows no key
            settings["api_key"] = Secret(settings["api_key"], source="api_key")
        self._explicit = {k: v for k, v in settings.items() if k not in _ASK_NAMES}
        chosen = {k: v for k, v in settings.items() if k in _ASK_NAMES}
        self._defaults = AskOptions.of(
            **chosen, tools=tools, web_search=web_search, max_steps=max_steps
        )
        Settings.from_env(**self._explicit)  # fail now on an unknown or invalid setting
        self._transport = transport
        self.context.tools.resolve(tools)  # fail now on an unknown tool name
        self._client: KimiClient | None = None

    def __repr__(self) -> str:
        return f"Chat(session={self.session_name!r}, {self.settings!r})"

    @property
    def settings(self) -> Settings:
        return Settings.from_env(**self._explicit)

    @property
    def defaults(self) -> AskOptions:
        return self._defaults

    @property
    def sessions(self) -> Sessions:
        return self.context.sessions

    @property
    def session(self) -> Session:
        return self.sessions.get(self.session_name)

    @property
    def turns(self) -> list[Turn]:
        return self.session.turns

    def ask(
        self,
        prompt: str,
        *objects: object,
        session: str | None = None,
        cell_id: str | None = None,
        options: AskOptions | None = None,
        on_retry: OnRetry | None = None,
        **choices: Any,
    ) -> Turn:
        """Send `prompt` (and `objects`) after the session's history; return the answer.

        `objects` are what a mention may name: DataFrames, figures, PIL images, arrays,
        paths of image and video files, dicts… each becomes content parts through this
        kernel's converters (`context.converters`), as `@df` would; a `str` is sent as text
        and a `TextPart`/`MediaPart` as it is. One that cannot be sent raises `ContextError`.

        With tools offered, the answer is streamed even when `stream=False` (a tool loop
        needs the calls as they come); the returned turn is the same.
        """
        request = self.prepare(prompt, *objects, session=session, cell_id=cell_id,
                               options=options, on_retry=on_retry, **choices)  # fmt: skip
        if not request.streams:
            return request.complete()
        stream = ChatStream(request)
        for _ in stream:
            pass
        return stream.turn

    def stream(
        self,
        prompt: str,
        *objects: object,
        session: str | None = None,
        cell_id: str | None = None,
        options: AskOptions | None = None,
        on_retry: OnRetry | None = None,
        **choices: Any,
    ) -> ChatStream:
        """Like `ask`, but iterate the result for events; `.turn` holds the answer so far.

        `session` picks another named session for this call; `cell_id` makes a re-run cell
        replace its earlier exchange instead of adding a second one.
        """
        request = self.prepare(prompt, *objects, session=session, cell_id=cell_id,
                               options=options, on_retry=on_retry, **choices)  # fmt: skip
        return ChatStream(dataclasses.replace(request, streams=True))

    def preview(
        self,
        prompt: str,
        *objects: object,
        session: str | None = None,
        options: AskOptions | None = None,
        **choices: Any,
    ) -> tuple[Message, dict[str, Any]]:
        """What `ask` would send (the user message and the whole payload), sending nothing."""
        request = self.prepare(prompt, *objects, session=session, options=options, **choices)
        payload, _ = request.payload((), last=request.max_steps <= 1)
        return request.prompt, payload

    def prepare(
        self,
        prompt: str,
        *objects: object,
        session: str | None = None,
        cell_id: str | None = None,
        options: AskOptions | None = None,
        on_retry: OnRetry | None = None,
        **choices: Any,
    ) -> Request:
        """Everything one answer needs, checked, before anything is sent (`AnswerRun` and
        `ChatStream` take it from here)."""
        chosen = AskOptions.of(**choices).over((options or AskOptions()).over(self._defaults))
        tools = self.context.tools.resolve(chosen.tools)
        max_steps = chosen.max_steps if chosen.max_steps is not None else MAX_STEPS
        if not isinstance(max_steps, int) or max_steps < 1:
            raise KimiError(f"max_steps must be a positive whole number, not {max_steps!r}")
        specs = [t.to_wire() for t in tools]
        if chosen.web_search:
            check_web_search(self.settings)
            specs.append(web_search_spec())
        streams = bool(specs) or chosen.stream is not False
        return Request(
            client=self._get_client,
            settings=lambda: self.settings,
            session=self.sessions.get(session or self.session_name),
            prompt=_user_message(prompt, objects, self.context.converters),
            options=_wire_options(chosen, specs, streams),
            cell_id=cell_id,
            tools={t.name: t for t in tools},
            max_steps=max_steps,
            on_retry=on_retry,
            streams=streams,
        )

    def fork(self, session: str = "default") -> Chat:
        """A Chat with the same settings, defaults, tools and transport, but its own (empty)
        sessions and its own HTTP client: one per worker thread for `map`."""
        twin = Chat(
            session,
            context=KernelContext(
                sessions=Sessions(),
                tools=self.context.tools,
                converters=self.context.converters,
                providers=self.context.providers,
            ),
            transport=self._transport or self.context.transport,
            **self._explicit,
        )
        twin._defaults = self._defaults
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

    def _get_client(self) -> KimiClient:
        settings = self.settings
        transport = self._transport or self.context.transport
        client = self._client
        if client is None or client.settings != settings or client.transport is not transport:
            self.close()
            client = self._client = KimiClient(settings, transport=transport)
        return client


def _wire_options(chosen: AskOptions, specs: list[dict[str, Any]], streams: bool) -> Options:
    """The request-level choices the payload is built from (only what the user set)."""
    return Options(
        model=chosen.model,
        thinking=chosen.thinking is not False,
        keep_thinking=bool(chosen.keep_thinking),
        max_completion_tokens=chosen.max_completion_tokens,
        temperature=chosen.temperature,
        top_p=chosen.top_p,
        stop=chosen.stop,
        response_format=chosen.response_format,
        tools=specs or None,
        stream=streams,
    )


def _user_message(prompt: str, objects: tuple[object, ...], converters: Registry) -> Message:
    """The user message: the prompt, then each object's parts (text and parts as they are)."""
    if not objects:
        return Message("user", prompt)
    parts: list[Part] = [TextPart(prompt)] if prompt else []
    for obj in objects:
        if isinstance(obj, str):
            parts.append(TextPart(obj))
        elif isinstance(obj, (TextPart, MediaPart)):
            parts.append(obj)
        else:
            parts.extend(converters.convert(obj))
    return Message("user", tuple(parts))
