"""The HTTP client: one POST to `{base}/chat/completions`, streamed or not, with retries.

Every test goes through the `transport` seam (`httpx.MockTransport`, or the simulator on
127.0.0.1). Retries happen only before the first byte of an answer: once a stream has
started, a failure is a `StreamError` carrying the partial turn (`_answers`). Each request
runs under an `Inflight`: its total deadline (KIMI_TIMEOUT, retries included), the idle
timeout of a stream (KIMI_IDLE_TIMEOUT), and Stop, which ends a back-off or a wait at once
and lets no attempt start after it. A wait the server asks for beyond KIMI_MAX_RETRY_WAIT
is not waited, and the error says how long it asked for. Whatever a server says is shown
with the key masked; the key itself goes only into the Authorization header.
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from ._answers import Completion, EventStream
from ._inflight import Inflight, Stopped
from ._meta import __version__
from ._redact import watch_logs
from .config import Settings
from .errors import APIConnectionError, APITimeoutError, KimiError, error_from_response, one_line
from .turn import Turn

__all__ = ["Completion", "EventStream", "KimiClient", "OnRetry", "RetryNotice"]

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class RetryNotice:
    """Told to `on_retry` before each wait, so a view can say "retrying in 2.0 s"."""

    attempt: int
    delay: float
    error: KimiError


OnRetry = Callable[[RetryNotice], None]


class KimiClient:
    """A synchronous client (kernels cannot `asyncio.run`) for one set of settings.

    `sleep` replaces the back-off wait between attempts (tests record it); by default the
    wait is one that Stop ends at once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.on_retry = on_retry
        self._backoff = (backoff_base, backoff_max)
        self._http = httpx.Client(
            base_url=settings.base_url,
            transport=transport,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            headers={"User-Agent": f"kimi-jupyter/{__version__}"},
        )
        if settings.api_key is not None:
            watch_logs(settings.api_key)

    def __repr__(self) -> str:
        return f"KimiClient({self.settings!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a KimiClient cannot be pickled: it holds open connections and a key")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KimiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stream(self, payload: Payload, *, on_retry: OnRetry | None = None) -> EventStream:
        """Start a streamed request; iterate the result for events. `on_retry` hears this
        request's retries (else the client's own `on_retry`)."""
        return EventStream(self, {**payload, "stream": True}, on_retry=on_retry)

    def completion(self, payload: Payload, *, on_retry: OnRetry | None = None) -> Completion:
        """A non-streamed request, closable like a stream; `result()` waits for its turn."""
        body = {key: value for key, value in payload.items() if key != "stream_options"}
        return Completion(self, {**body, "stream": False}, on_retry=on_retry)

    def complete(self, payload: Payload, *, on_retry: OnRetry | None = None) -> Turn:
        """A non-streamed request, folded into the same `Turn` a stream would give."""
        return self.completion(payload, on_retry=on_retry).result()

    def inflight(self, *, streaming: bool) -> Inflight:
        """A new request's clocks: the total deadline, and for a stream the idle timeout."""
        settings = self.settings
        return Inflight(settings.timeout, settings.idle_timeout if streaming else None)

    def open(
        self,
        payload: Payload,
        *,
        timeout: httpx.Timeout | None = None,
        on_retry: OnRetry | None = None,
        inflight: Inflight | None = None,
    ) -> httpx.Response:
        """Send the request, retrying what may be retried; returns a 2xx streaming response.

        Whatever the transport raises leaves here as a `KimiError`; after `inflight.stop()`
        nothing more is sent and `Stopped` is raised.
        """
        inflight = inflight or self.inflight(streaming=bool(payload.get("stream")))
        inflight.begin()
        content = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        budget, deadline = _WaitBudget(self.settings.max_retry_wait), _Deadline(inflight)
        retrying = Retrying(
            stop=stop_any(stop_after_attempt(self.settings.max_attempts), budget, deadline),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: getattr(exc, "retryable", False)),
            sleep=functools.partial(inflight.sleep, sleep=self._sleep),
            before_sleep=functools.partial(self._notify, on_retry or self.on_retry),
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(self._send, content, timeout, inflight)
        except KimiError as exc:
            refused = budget.refused or deadline.refused
            if refused:
                _amend(exc, refused)
            raise
        return response

    def _send(
        self, content: bytes, timeout: httpx.Timeout | None, inflight: Inflight
    ) -> httpx.Response:
        inflight.check()
        key = self.settings.require_key()
        request = self._http.build_request(
            "POST",
            "chat/completions",
            content=content,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=timeout if timeout is not None else self._timeout(inflight),
        )
        try:
            response = inflight.send(functools.partial(self._http.send, request, stream=True))
        except (Stopped, KimiError):
            raise
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                self.redact(f"timed out connecting to {request.url}: {exc}")
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                self.redact(f"could not reach {request.url}: {exc!r}")
            ) from exc
        except Exception as exc:  # a custom transport's own error: one line, not retried
            raise KimiError(
                self.redact(f"the request to {request.url} failed: {one_line(exc)}")
            ) from exc
        if response.status_code < 300:
            return response
        try:
            body = response.read()
        except httpx.TransportError:
            body = b""
        finally:
            response.close()
        raise error_from_response(response.status_code, body, response.headers, secret=key)

    def _timeout(self, inflight: Inflight) -> httpx.Timeout:
        """A stream reads under the read timeout; a whole answer may take the total deadline
        (the waiter gives up at the deadline itself, so httpx gets a second more)."""
        if inflight.idle is not None:
            return self._http.timeout
        left = inflight.remaining()
        read = None if math.isinf(left) else max(left, 0.0) + 1.0
        return httpx.Timeout(read, connect=self.settings.connect_timeout)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        if hinted is not None:
            return float(hinted)
        base, cap = self._backoff
        ceiling = min(cap, base * 2.0 ** (state.attempt_number - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)  # "equal jitter"

    @staticmethod
    def _notify(on_retry: OnRetry | None, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and isinstance(error, KimiError):
            on_retry(RetryNotice(state.attempt_number, state.upcoming_sleep, error))

    def redact(self, text: str) -> str:
        """`text` with this client's key masked in every form (see `_redact`)."""
        key = self.settings.api_key
        return key.redact(text) if key is not None else text

    def scrub(self, error: KimiError) -> KimiError:
        """`error` with the key masked out of its text (a server may echo it anywhere)."""
        clean = self.redact(error.message)
        if clean != error.message:
            error.message, error.args = clean, (clean,)
        return error


class _WaitBudget(stop_base):
    """Stop before the total time spent waiting between attempts would pass `seconds`;
    `refused` then says what the server asked for."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.refused: str | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.idle_for + retry_state.upcoming_sleep <= self.seconds:
            return False
        spent = retry_state.idle_for
        limit = f"KIMI_MAX_RETRY_WAIT allows ({_secs(self.seconds)}"
        limit += f", {_secs(spent)} already waited)" if spent else ")"
        self.refused = _refusal(retry_state, limit)
        return True


class _Deadline(stop_base):
    """Stop when the next attempt would start after the request's total deadline."""

    def __init__(self, inflight: Inflight) -> None:
        self.inflight = inflight
        self.refused: str | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.upcoming_sleep < self.inflight.remaining():
            return False
        limit = f"the total deadline leaves (KIMI_TIMEOUT, {_secs(self.inflight.total)} in all)"
        self.refused = _refusal(retry_state, limit)
        return True


def _refusal(retry_state: RetryCallState, limit: str) -> str:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    asked = getattr(error, "retry_after", None)
    wait = _secs(retry_state.upcoming_sleep)
    if asked is not None:
        return f"the server asked to wait {wait}, more than {limit}; not retried"
    return f"not retried: the next wait ({wait}) is more than {limit}"


def _amend(error: KimiError, note: str) -> None:
    error.message = f"{error.message}; {note}"
    error.args = (error.message,)


def _secs(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 or seconds == int(seconds) else f"{seconds:.1f} s"
