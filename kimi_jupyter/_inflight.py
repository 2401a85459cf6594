"""`Inflight`: one request's stop switch and clocks, reaching it wherever it waits.

A request waits in three places: in a back-off sleep between attempts, for the response
headers, and for the next bytes of the body. Stop (the run's Stop button, Ctrl-C, a map's
halt) and the two deadlines must end each of them promptly:

- the back-off sleep waits on the switch, so Stop wakes it, and no attempt starts after Stop;
- the headers are awaited on a helper thread, so the caller can give up on Stop or at the
  total deadline (the helper closes whatever arrives later);
- the body is read on the caller's thread; a watchdog shuts the socket down when the total
  deadline passes or no event came for the idle timeout. Closing a socket does not wake a
  blocked read; shutting it down does.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import Literal

import httpx

from .errors import DeadlineError

Fired = Literal["total", "idle"]
_LONGEST_WAIT = 3600.0  # threading's waits refuse infinity


class Stopped(Exception):  # noqa: N818 - a signal, not an error: nothing went wrong
    """The request was stopped: nothing more is sent, the answer so far is kept."""


class Expired(Exception):  # noqa: N818 - `Inflight.fired` says which deadline
    """A deadline passed while the body was read (see `Inflight.why`)."""


class Inflight:
    """One request (all its attempts): Stop, the total deadline and the idle timeout.

    `total`: seconds from the first attempt to the last byte; `idle`: seconds a stream may go
    without an event once it started (None: not a stream).
    """

    def __init__(self, total: float, idle: float | None = None) -> None:
        self.total, self.idle = total, idle
        self.started: float | None = None  # the clock starts with the first attempt
        self.fired: Fired | None = None
        self._stop = threading.Event()
        self._over = threading.Event()  # the body is read (or given up): the watchdog rests
        self._lock = threading.Lock()
        self._response: httpx.Response | None = None
        self._waiter: _Waiter | None = None
        self._last_event = 0.0

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def begin(self) -> None:
        """The first attempt starts: from now on the total deadline counts."""
        if self.started is None:
            self.started = time.monotonic()

    def remaining(self) -> float:
        started = self.started if self.started is not None else time.monotonic()
        return started + self.total - time.monotonic()

    def stop(self) -> None:
        """From any thread: wake a back-off, give up waiting for headers, cut the body."""
        self._stop.set()
        with self._lock:
            waiter = self._waiter
        if waiter is not None:
            waiter.wake()
        self._cut()

    def check(self) -> None:
        """Before an attempt: raise `Stopped` after Stop, `DeadlineError` past the deadline."""
        if self.stopped:
            raise Stopped
        if self.remaining() <= 0:
            raise self.deadline_error()

    def sleep(self, seconds: float, sleep: Callable[[float], None] | None) -> None:
        """The back-off between attempts: `sleep` if one was injected (tests), else a wait
        that Stop ends at once."""
        if sleep is not None:
            sleep(seconds)
        else:
            self._stop.wait(min(seconds, _LONGEST_WAIT))
        if self.stopped:
            raise Stopped

    def send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """`send()` on a helper thread; its response, or `Stopped`, or `DeadlineError`."""
        waiter = _Waiter(send)
        with self._lock:
            self._waiter = waiter
        if self.stopped:  # Stop came between `check()` and now
            waiter.wake()
        try:
            finished = waiter.wait(self.remaining())
        finally:
            with self._lock:
                self._waiter = None
        if not finished:
            if self.stopped:
                raise Stopped
            raise self.deadline_error()
        return waiter.response()

    def watch(self, response: httpx.Response) -> None:
        """Read `response` under the clocks: a watchdog cuts it when a deadline passes."""
        with self._lock:
            self._response = response
            self._last_event = time.monotonic()  # the idle clock starts with the headers
        if self.stopped:
            self._cut()
            return
        threading.Thread(target=self._watch, name="kimi-deadline", daemon=True).start()

    def beat(self) -> None:
        """An event arrived: the idle clock starts again; past the total deadline, `Expired`."""
        self._last_event = time.monotonic()
        if self.remaining() <= 0:
            self.fired = self.fired or "total"
            raise Expired

    def finish(self) -> None:
        """The body is read or abandoned: the watchdog stops, the socket is left alone."""
        with self._lock:
            self._over.set()
            self._response = None

    def deadline_error(self) -> DeadlineError:
        return DeadlineError(
            f"no answer within {self.total:g} s (the total deadline, KIMI_TIMEOUT)"
        )

    def why(self) -> str:
        """Which clock fired, as the end of "the answer stopped mid-stream: …"."""
        if self.fired == "idle":
            return f"no event for {self.idle:g} s (the idle timeout, KIMI_IDLE_TIMEOUT)"
        return f"it took longer than {self.total:g} s (the total deadline, KIMI_TIMEOUT)"

    def _watch(self) -> None:
        while not self._over.is_set():
            now = time.monotonic()
            due_total = now + self.remaining()
            due_idle = self._last_event + self.idle if self.idle is not None else math.inf
            if now >= min(due_total, due_idle):
                self._cut("total" if now >= due_total else "idle")
                return
            self._over.wait(min(due_total, due_idle, now + _LONGEST_WAIT) - now)

    def _cut(self, fired: Fired | None = None) -> None:
        """End the read in progress (if any); `fired`: a deadline did it, not Stop."""
        with self._lock:
            response, self._response = self._response, None
            if response is None or response.is_closed:
                return
            self.fired = fired
            _shutdown(response)
        with contextlib.suppress(httpx.HTTPError, OSError):  # the reader reports the break
            response.close()


class _Waiter:
    """`send()` on a daemon thread; the caller waits for it until `wake()` or its deadline."""

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        self._send = send
        self._wake = threading.Event()  # set when `send` is over, or by Stop
        self._lock = threading.Lock()
        self._done = self._abandoned = False
        self._result: httpx.Response | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="kimi-request", daemon=True).start()

    def wake(self) -> None:
        self._wake.set()

    def wait(self, timeout: float) -> bool:
        """True when `send` returned or raised; False after Stop or `timeout` (given up)."""
        deadline = time.monotonic() + timeout
        try:
            while not self._wake.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(min(left, _LONGEST_WAIT))
        finally:  # Ctrl-C here too: whatever arrives later is closed by the helper
            with self._lock:
                self._abandoned = not self._done
        return not self._abandoned

    def response(self) -> httpx.Response:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _run(self) -> None:
        result: httpx.Response | None = None
        try:
            result = self._send()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            self._error = exc
        with self._lock:
            self._result, self._done = result, True
            abandoned = self._abandoned
        self._wake.set()
        if abandoned and result is not None:  # nobody waits any more: let the connection go
            result.close()


def _shutdown(response: httpx.Response) -> None:
    """Wake a read blocked on this response's socket (a MockTransport has none)."""
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if get is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
