"""The HTTP client: one POST to `{base}/chat/completions`, streamed or not, with retries.

Every test goes through the `transport` seam (`httpx.MockTransport`, or the simulator on
127.0.0.1). Retries happen only before the first byte of an answer: once a stream has
started, a failure is a `StreamError` carrying the partial turn.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from httpx_sse import EventSource
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from ._meta import __version__
from ._sse import ChunkParser, completion_events
from .config import Settings
from .errors import (
    APIConnectionError,
    APITimeoutError,
    KimiError,
    StreamError,
    error_from_response,
    redact,
)
from .events import Event
from .turn import Status, Turn, TurnBuilder

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class RetryNotice:
    """Told to `on_retry` before each wait, so a view can say "retrying in 2.0 s"."""

    attempt: int
    delay: float
    error: KimiError


OnRetry = Callable[[RetryNotice], None]


class KimiClient:
    """A synchronous client (kernels cannot `asyncio.run`) for one set of settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
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

    def __repr__(self) -> str:
        return f"KimiClient({self.settings!r})"

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

    def complete(self, payload: Payload, *, on_retry: OnRetry | None = None) -> Turn:
        """A non-streamed request, folded into the same `Turn` a stream would give."""
        body = {key: value for key, value in payload.items() if key != "stream_options"}
        builder = TurnBuilder(str(payload.get("model", "")))
        timeout = httpx.Timeout(
            max(self.settings.read_timeout, 900.0), connect=self.settings.connect_timeout
        )
        response = self.open({**body, "stream": False}, timeout=timeout, on_retry=on_retry)
        try:
            data = json.loads(response.read())
        except ValueError:
            raise StreamError("the server's response is not JSON") from None
        except httpx.TransportError as exc:
            raise self._lost(exc, builder) from exc
        except httpx.HTTPError as exc:  # StreamError and the like: still our error tree
            raise self._broken(exc, builder) from exc
        finally:
            response.close()
        builder.response_id = data.get("id")
        builder.model = data.get("model") or builder.model
        for event in completion_events(data):
            builder.add(event)
        return builder.build()

    def open(
        self,
        payload: Payload,
        *,
        timeout: httpx.Timeout | None = None,
        on_retry: OnRetry | None = None,
    ) -> httpx.Response:
        """Send the request, retrying what may be retried; returns a 2xx streaming response.

        Whatever the transport raises leaves here as a `KimiError`.
        """
        content = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        retrying = Retrying(
            stop=stop_any(
                stop_after_attempt(self.settings.max_attempts),
                _WaitBudget(self.settings.max_retry_wait),
            ),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: getattr(exc, "retryable", False)),
            sleep=self._sleep,
            before_sleep=functools.partial(self._notify, on_retry or self.on_retry),
            reraise=True,
        )
        response: httpx.Response = retrying(self._send, content, timeout)
        return response

    def _send(self, content: bytes, timeout: httpx.Timeout | None) -> httpx.Response:
        key = self.settings.require_key()
        request = self._http.build_request(
            "POST",
            "chat/completions",
            content=content,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=timeout if timeout is not None else self._http.timeout,
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                self._redact(f"timed out connecting to {request.url}: {exc}")
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                self._redact(f"could not reach {request.url}: {exc!r}")
            ) from exc
        except Exception as exc:  # a custom transport's own error: one line, not retried
            raise KimiError(
                self._redact(f"the request to {request.url} failed: {_describe(exc)}")
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

    def _redact(self, text: str) -> str:
        return redact(text, self.settings.api_key.reveal() if self.settings.api_key else None)

    def _lost(self, exc: httpx.TransportError, builder: TurnBuilder) -> StreamError:
        if isinstance(exc, httpx.TimeoutException):
            what = f"no data for {self.settings.read_timeout:g} s (read timeout)"
        else:
            what = f"the connection broke ({type(exc).__name__})"
        message = self._redact(f"the answer stopped mid-stream: {what}")
        return StreamError(message, partial=builder.build("failed", message))

    def _broken(self, exc: BaseException, builder: TurnBuilder) -> StreamError:
        """Anything else that broke the body's reading, as one line with the partial turn."""
        message = self._redact(f"the answer stopped mid-stream: {_describe(exc)}")
        return StreamError(message, partial=builder.build("failed", message))


class EventStream:
    """The events of one streamed answer; `turn` is what has arrived so far."""

    def __init__(
        self, client: KimiClient, payload: Payload, *, on_retry: OnRetry | None = None
    ) -> None:
        self._client = client
        self._payload = payload
        self._on_retry = on_retry
        self._builder = TurnBuilder(str(payload.get("model", "")))
        self._response: httpx.Response | None = None
        self._stopped = False

    @property
    def turn(self) -> Turn:
        builder = self._builder
        status: Status = "done" if builder.done else ("stopped" if self._stopped else "failed")
        return builder.build(status)

    @property
    def builder(self) -> TurnBuilder:
        return self._builder

    def close(self) -> None:
        """Stop: end the stream where it is; the partial turn is kept."""
        self._stopped = True
        if self._response is not None:
            self._response.close()

    def __iter__(self) -> Iterator[Event]:
        if self._stopped:  # stopped before it was sent: send nothing
            return
        response = self._response = self._client.open(self._payload, on_retry=self._on_retry)
        try:
            yield from self._iter_events(response)
        except httpx.TransportError as exc:
            if not self._stopped:  # after close() (Stop), a broken read is expected
                raise self._client._lost(exc, self._builder) from exc
        except StreamError as exc:
            exc.partial = self._builder.build("failed", str(exc))
            raise
        except KimiError:
            raise
        except Exception as exc:
            if not self._stopped:
                raise self._client._broken(exc, self._builder) from exc
        finally:
            response.close()

    def _iter_events(self, response: httpx.Response) -> Iterator[Event]:
        builder = self._builder
        if not _is_event_stream(response):
            yield from self._whole_response(response)
            return
        parser = ChunkParser()
        frames = EventSource(cast(httpx.Response, _EndsAtEOF(response))).iter_sse()
        for sse in frames:
            for event in parser.feed(sse.data):
                builder.add(event)
                yield event
            if parser.done:
                _drain(frames)
                return
            if builder.response_id is None:
                builder.response_id, builder.model = (
                    parser.response_id,
                    parser.model or builder.model,
                )
        if not self._stopped:
            raise StreamError(
                "the stream ended before `data: [DONE]`; the answer may be incomplete"
            )

    def _whole_response(self, response: httpx.Response) -> Iterator[Event]:
        # Some gateways ignore `stream: true` and answer with one JSON body.
        try:
            data = json.loads(response.read())
        except ValueError:
            raise StreamError("the server's response is neither SSE nor JSON") from None
        for event in completion_events(data):
            self._builder.add(event)
            yield event


class _WaitBudget(stop_base):
    """Stop before the total time spent waiting between attempts would pass `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self.seconds


class _EndsAtEOF:
    """The response as httpx-sse sees it, with end-of-body ending the last event.

    Kimi's documented examples end with `data: [DONE]` and a single newline; the SSE spec
    would drop that unterminated event, and with it the only end marker the API promises.
    """

    def __init__(self, response: httpx.Response) -> None:
        self.headers = response.headers
        self._response = response

    def iter_text(self) -> Iterator[str]:
        yield from self._response.iter_text()
        yield "\n\n"


def _describe(exc: BaseException) -> str:
    """`RuntimeError: what it said`, on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def _drain(frames: Iterator[Any], limit: int = 64) -> None:
    """Read what follows `[DONE]` to the end of the body (as openai-python does), so the
    connection goes back to the pool instead of being dropped: one TCP (and TLS) handshake
    per client, not per answer. Nothing there can change the answer."""
    with contextlib.suppress(httpx.HTTPError, StreamError):
        for _ in itertools.islice(frames, limit):
            pass
