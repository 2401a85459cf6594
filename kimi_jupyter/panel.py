"""The kernel side of the JupyterLab chat panel: a comm target speaking small JSON messages.

Frontend → kernel (`type`):
- `hello` → `sessions`: the session names and the default one
- `list_turns` {session} → `turns`: each exchange's prompt text and turn record
- `ask` {id, session, prompt} → `start`, then `delta`s {kind: reasoning|content, text} (only
  what is new, coalesced to at most 20 messages a second, so traffic grows linearly), maybe
  `status`, and finally `done` {record} or `error` {message}. Every `@tool` function of the
  kernel is offered; for each call the model makes:
  `tool_start` {id, call: {id, name, arguments}, step, confirm}, then (when `confirm`)
  `confirm` {id, call_id}, then `tool_end` {id, result} (`ToolResult.to_json()`), then the
  next step's deltas. Arguments and previews are the model's and the tool's text: show them
  as text, never as HTML.
- `confirm_reply` {id, call_id, run} → answers a `confirm`: run the call, or skip it (the
  model is told). The answer waits for it; a reply nobody waits for is ignored.
- `stop` {id} → the answer ends where it is (kept in the session, marked stopped); a call
  waiting for `confirm_reply` is skipped.
Anything else → `error` {message}. Every error is one line; the key never crosses.

Answers stream on a worker thread, so the kernel keeps serving cells, `stop` and
`confirm_reply` meanwhile. When the comm closes, waiting calls are skipped.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypedDict

from kimi_jupyter._comm import TARGET, register
from kimi_jupyter.chat import Chat, ChatStream
from kimi_jupyter.conversation import Part, Sessions
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import (
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCall,
    ToolFinished,
    ToolStarted,
)
from kimi_jupyter.render.bundle import turn_record

__all__ = ["TARGET", "PanelServer", "register"]

FLUSH_SECONDS = 0.05


class DeltaMessage(TypedDict):
    type: Literal["delta"]
    id: str
    kind: Literal["reasoning", "content"]
    text: str


class AskMessage(TypedDict):
    type: Literal["ask"]
    id: str
    session: str
    prompt: str


class CallMessage(TypedDict):
    id: str
    name: str
    arguments: str


class ToolStartMessage(TypedDict):
    type: Literal["tool_start"]
    id: str
    call: CallMessage
    step: int
    confirm: bool


class ToolEndMessage(TypedDict):
    type: Literal["tool_end"]
    id: str
    result: dict[str, Any]


class ConfirmMessage(TypedDict):
    type: Literal["confirm"]
    id: str
    call_id: str


class ConfirmReplyMessage(TypedDict):
    type: Literal["confirm_reply"]
    id: str
    call_id: str
    run: bool


Send = Callable[[dict[str, Any]], None]
Gather = Callable[[str], list[Part]]


class PanelServer:
    """Answers one comm's messages; `gather` turns a prompt's @mentions into parts."""

    def __init__(self, send: Send, chat: Chat, gather: Gather) -> None:
        self._send, self._chat, self._gather = send, chat, gather
        self._streams: dict[str, ChatStream] = {}
        self._waiting: dict[tuple[str, str], _Decision] = {}
        self._stopped: set[str] = set()  # so a confirm asked just after a stop is skipped
        self._lock = threading.Lock()

    @property
    def sessions(self) -> Sessions:
        return self._chat.sessions

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        try:
            if kind == "hello":
                self._send({"type": "sessions", "sessions": self.sessions.names(),
                            "default": self._chat.session_name})  # fmt: skip
            elif kind == "list_turns":
                self._list_turns(str(message.get("session") or self._chat.session_name))
            elif kind == "ask":
                self._ask(message)
            elif kind == "stop":
                self._stop(str(message.get("id", "")))
            elif kind == "confirm_reply":
                key = (str(message.get("id", "")), str(message.get("call_id", "")))
                self._release(lambda k: k == key, run=message.get("run") is True)
            else:
                self._send({"type": "error", "message": f"unknown message type {kind!r}"})
        except KimiError as exc:
            self._send({"type": "error", "id": message.get("id"), "message": str(exc)})

    def _list_turns(self, name: str) -> None:
        session = self.sessions.get(name)
        turns = [
            {"prompt": _prompt_text(e.prompt.content), "record": turn_record(e.turn, name)}
            for e in list(session.exchanges)
        ]
        self._send({"type": "turns", "session": name, "turns": turns})

    def _ask(self, message: dict[str, Any]) -> None:
        request_id, prompt = str(message.get("id", "")), str(message.get("prompt", "")).strip()
        session = str(message.get("session") or self._chat.session_name)
        if not prompt:
            raise KimiError("write a question first")
        parts = self._gather(prompt)  # in the kernel's main thread: it reads the namespace
        stream = self._chat.stream(prompt, *parts, session=session, tools=True)
        stream.confirm = functools.partial(self._confirm, request_id)
        with self._lock:
            self._streams[request_id] = stream
        self._send({"type": "start", "id": request_id, "session": session})
        worker = threading.Thread(
            target=self._pump, args=(request_id, session, stream), daemon=True
        )
        worker.start()

    def _pump(self, request_id: str, session: str, stream: ChatStream) -> None:
        batch = _Batch(request_id, self._send)
        try:
            for event in stream:
                batch.add(event)
            batch.flush()
            self._send(
                {"type": "done", "id": request_id, "record": turn_record(stream.turn, session)}
            )
        except KimiError as exc:
            batch.flush()
            self._send({"type": "error", "id": request_id, "message": str(exc),
                        "record": turn_record(stream.turn, session)})  # fmt: skip
        finally:
            with self._lock:
                self._streams.pop(request_id, None)
                self._stopped.discard(request_id)

    def _stop(self, request_id: str) -> None:
        with self._lock:
            stream = self._streams.get(request_id)
            if stream is not None:
                self._stopped.add(request_id)
        if stream is not None:
            stream.close()
        self._release(lambda key: key[0] == request_id, run=False)

    def close(self) -> None:
        """The comm closed: nobody is left to answer, so every waiting call is skipped."""
        self._release(lambda _key: True, run=False)

    def _confirm(self, request_id: str, call: ToolCall) -> bool:
        """On the worker thread: ask the panel, and wait for `confirm_reply` (or `stop`)."""
        key, decision = (request_id, call.id), _Decision()
        with self._lock:
            if request_id in self._stopped:
                return False
            self._waiting[key] = decision
        try:
            self._send({"type": "confirm", "id": request_id, "call_id": call.id})
            decision.done.wait()
        finally:
            with self._lock:
                self._waiting.pop(key, None)
        return decision.run

    def _release(self, match: Callable[[tuple[str, str]], bool], *, run: bool) -> None:
        with self._lock:
            chosen = [d for key, d in self._waiting.items() if match(key)]
        for decision in chosen:
            decision.decide(run)


class _Decision:
    """One `confirm` waiting for its reply; the first answer wins."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.run = False

    def decide(self, run: bool) -> None:
        if not self.done.is_set():
            self.run = run
            self.done.set()


class _Batch:
    """Collects deltas and sends what is new at most every FLUSH_SECONDS.

    After a tool call, the next step's text of a kind that had some starts with a blank
    line, as the turn record joins the steps: the deltas add up to the record's text.
    """

    def __init__(self, request_id: str, send: Send) -> None:
        self._id, self._send = request_id, send
        self._pending: list[tuple[str, str]] = []
        self._last = time.monotonic()
        self._seen: set[str] = set()
        self._resume: set[str] = set()

    def add(self, event: Event) -> None:
        if isinstance(event, ReasoningDelta):
            self._text("reasoning", event.text)
        elif isinstance(event, ContentDelta):
            self._text("content", event.text)
        elif isinstance(event, (ToolStarted, ToolFinished)):
            self.flush()  # the text before the call, then the call
            self._send(_tool_message(self._id, event))
            self._resume = set(self._seen)
            return
        if time.monotonic() - self._last >= FLUSH_SECONDS:
            self.flush()

    def _text(self, kind: str, text: str) -> None:
        if not text:
            return
        if kind in self._resume:
            self._resume.discard(kind)
            text = "\n\n" + text
        self._seen.add(kind)
        self._pending.append((kind, text))

    def flush(self) -> None:
        self._last = time.monotonic()
        for kind in ("reasoning", "content"):
            text = "".join(t for k, t in self._pending if k == kind)
            if text:
                self._send({"type": "delta", "id": self._id, "kind": kind, "text": text})
        self._pending.clear()


def _tool_message(request_id: str, event: ToolStarted | ToolFinished) -> dict[str, Any]:
    if isinstance(event, ToolFinished):
        end: ToolEndMessage = {"type": "tool_end", "id": request_id,
                               "result": event.result.to_json()}  # fmt: skip
        return dict(end)
    call: CallMessage = {"id": event.call.id, "name": event.call.name,
                         "arguments": event.call.arguments}  # fmt: skip
    start: ToolStartMessage = {"type": "tool_start", "id": request_id, "call": call,
                               "step": event.step, "confirm": event.confirm}  # fmt: skip
    return dict(start)


def _prompt_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return next((getattr(p, "text", "") for p in content), "")
