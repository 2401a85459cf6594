"""The kernel side of the JupyterLab chat panel: a comm target speaking small JSON messages.

Frontend → kernel (`type`):
- `hello` → `sessions`: the session names and the default one
- `list_turns` {session} → `turns`: each exchange's prompt text and turn record
- `ask` {id, session, prompt} → `start`, then `delta`s {kind: reasoning|content, text} (only
  what is new, coalesced to at most 20 messages a second, so traffic grows linearly), maybe
  `status`, and finally `done` {record} or `error` {message}
- `stop` {id} → the answer ends where it is (kept in the session, marked stopped)
Anything else → `error` {message}. Every error is one line; the key never crosses.

Answers stream on a worker thread, so the kernel keeps serving cells and `stop` meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypedDict

from kimi_jupyter.chat import Chat, ChatStream
from kimi_jupyter.conversation import Part, Sessions
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import ContentDelta, Event, ReasoningDelta
from kimi_jupyter.render.bundle import turn_record

TARGET = "kimi_jupyter.chat"
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


Send = Callable[[dict[str, Any]], None]
Gather = Callable[[str], list[Part]]


class PanelServer:
    """Answers one comm's messages; `gather` turns a prompt's @mentions into parts."""

    def __init__(self, send: Send, chat: Chat, gather: Gather) -> None:
        self._send, self._chat, self._gather = send, chat, gather
        self._streams: dict[str, ChatStream] = {}
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
        stream = self._chat.stream(prompt, *parts, session=session)
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

    def _stop(self, request_id: str) -> None:
        with self._lock:
            stream = self._streams.get(request_id)
        if stream is not None:
            stream.close()


class _Batch:
    """Collects deltas and sends what is new at most every FLUSH_SECONDS."""

    def __init__(self, request_id: str, send: Send) -> None:
        self._id, self._send = request_id, send
        self._pending: list[tuple[str, str]] = []
        self._last = time.monotonic()

    def add(self, event: Event) -> None:
        if isinstance(event, ReasoningDelta):
            self._pending.append(("reasoning", event.text))
        elif isinstance(event, ContentDelta):
            self._pending.append(("content", event.text))
        if time.monotonic() - self._last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        for kind in ("reasoning", "content"):
            text = "".join(t for k, t in self._pending if k == kind)
            if text:
                self._send({"type": "delta", "id": self._id, "kind": kind, "text": text})
        self._pending.clear()


def _prompt_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return next((getattr(p, "text", "") for p in content), "")


def register(shell: Any, chat_factory: Callable[[], Chat], gather: Gather) -> bool:
    """Register the comm target in this kernel (no-op outside one); True when registered."""
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False

    def open_comm(comm: Any, _open_msg: dict[str, Any]) -> None:
        server = PanelServer(lambda data: comm.send(data), chat_factory(), gather)
        comm.on_msg(lambda msg: server.handle(msg["content"]["data"]))

    manager.register_target(TARGET, open_comm)
    return True
