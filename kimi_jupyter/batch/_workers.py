"""The worker side of a map: forks of the chat on a thread pool, the shared `Gate`, Stop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimi_jupyter.errors import KimiError, RateLimitError

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat, ChatStream
    from kimi_jupyter.client import RetryNotice
    from kimi_jupyter.events import Usage
    from kimi_jupyter.structured import Shape
    from kimi_jupyter.turn import Turn

__all__ = ["Gate"]


class Gate:
    """The shared backoff: once a worker is told to wait, no worker starts a request sooner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._held: set[str] = set()
        self.waits = 0

    def close_until(self, moment: float) -> None:
        with self._lock:
            self._until = max(self._until, moment)
            self._held.add(threading.current_thread().name)  # its own retry wait holds it

    def hold(self, stop: threading.Event, *, after: float = 0.0) -> None:
        """Wait (in a worker) until the gate opens, `after` seconds from now counted as spent."""
        with self._lock:
            left = self._until - time.monotonic() - after
            if left > 0:
                self.waits += 1
                self._held.add(threading.current_thread().name)
        if left > 0:
            stop.wait(left)

    @property
    def held_workers(self) -> int:
        return len(self._held)


@dataclass(frozen=True)
class _Outcome:
    value: Any = None
    error: str | None = None
    usage: Usage | None = None


class _StoppedError(Exception):
    """Raised in a worker's retry callback to abandon the retries after Stop."""


class _Workers:
    """The worker side: idle forks of the chat, the streams in flight, the gate and Stop."""

    def __init__(self, chat: Chat, size: int, shape: Shape, options: dict[str, Any]) -> None:
        self.stop = threading.Event()
        self.gate = Gate()
        self.retries = 0
        self._shape, self._options = shape, options
        self._lock = threading.Lock()
        self._closed = False
        self._streams: set[ChatStream] = set()
        self._idle: list[Chat] = []
        self.size = size
        for _ in range(size):
            self._idle.append(chat.fork())

    def ask(self, prompt: str) -> _Outcome | None:
        """One row, in a worker thread; None if it was stopped before it finished."""
        with self._lock:
            if self.stop.is_set() or not self._idle:
                return None
            fork = self._idle.pop()
        try:
            return self._ask(fork, prompt)
        except KimiError as exc:
            return _Outcome(error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        except _StoppedError:
            return None
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.append(fork)
            if closed:
                fork.close()

    def _ask(self, fork: Chat, prompt: str) -> _Outcome | None:
        self.gate.hold(self.stop)
        fork.reset()  # each row is a single-turn conversation
        stream = fork.stream(prompt, on_retry=self._on_retry, **self._options)
        with self._lock:
            self._streams.add(stream)
        try:
            if self.stop.is_set():
                return None
            for _ in stream:
                pass
        finally:
            with self._lock:
                self._streams.discard(stream)
        return None if stream.turn.status == "stopped" else _outcome(stream.turn, self._shape)

    def _on_retry(self, notice: RetryNotice) -> None:
        if self.stop.is_set():
            raise _StoppedError
        with self._lock:
            self.retries += 1
        if isinstance(notice.error, RateLimitError):
            self.gate.close_until(time.monotonic() + notice.delay)
        self.gate.hold(self.stop, after=notice.delay)  # another worker may have pushed it later

    def halt(self) -> None:
        """Stop (from the calling thread): close the streams in flight and the idle forks."""
        self.stop.set()
        with self._lock:
            self._closed = True
            streams, idle, self._idle = list(self._streams), self._idle, []
        for stream in streams:
            stream.close()
        for fork in idle:
            fork.close()


def _outcome(turn: Turn, shape: Shape) -> _Outcome:
    if turn.status != "done" or not turn.answer:
        error = turn.error or f"the answer is empty (finish reason: {turn.finish_reason})"
        return _Outcome(error=error, usage=turn.usage)
    try:
        return _Outcome(value=shape.parse(turn.answer), usage=turn.usage)
    except KimiError as exc:
        error = str(exc).removesuffix("; it is kept in the session")  # no session here
        return _Outcome(error=error, usage=turn.usage)
