"""The answers of one request: `EventStream` (streamed) and `Completion` (whole), both
closable from any thread, both folding into the same `Turn`.

Reading is where a request can break after it started: a connection lost mid-event, a chunk
that is not what the API sends, a server gone quiet or trickling. Each ends as one
`StreamError` line carrying the partial turn; after Stop it ends quietly, marked stopped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import httpx
from httpx_sse import EventSource

from ._inflight import Stopped
from ._sse import ChunkParser, completion_events
from .errors import KimiError, StreamError, one_line
from .events import Event
from .turn import Status, Turn, TurnBuilder

if TYPE_CHECKING:
    from .client import KimiClient, RetryNotice

Payload = Mapping[str, Any]
OnRetry = Callable[["RetryNotice"], None]


class EventStream:
    """The events of one streamed answer; `turn` is what has arrived so far."""

    def __init__(
        self, client: KimiClient, payload: Payload, *, on_retry: OnRetry | None = None
    ) -> None:
        self._client = client
        self._payload = payload
        self._on_retry = on_retry
        self._builder = TurnBuilder(str(payload.get("model", "")))
        self._inflight = client.inflight(streaming=True)

    @property
    def turn(self) -> Turn:
        builder = self._builder
        stopped = self._inflight.stopped
        status: Status = "done" if builder.done else ("stopped" if stopped else "failed")
        return builder.build(status)

    @property
    def builder(self) -> TurnBuilder:
        return self._builder

    def close(self) -> None:
        """Stop, from any thread: no attempt starts after this, a back-off or a read in
        progress ends at once, and the partial turn is kept."""
        self._inflight.stop()

    def __iter__(self) -> Iterator[Event]:
        inflight = self._inflight
        if inflight.stopped:  # stopped before it was sent: send nothing
            return
        try:
            response = self._client.open(self._payload, on_retry=self._on_retry, inflight=inflight)
        except Stopped:
            return
        except KimiError as exc:
            self._client.scrub(exc)
            raise
        inflight.watch(response)
        try:
            yield from self._iter_events(response)
        except Exception as exc:
            failure = self._failure(exc)
            if failure is exc:
                raise
            if failure is not None:
                raise failure from exc
        finally:
            inflight.finish()
            response.close()

    def _failure(self, exc: Exception) -> KimiError | None:
        """What to raise for `exc` (None: the user stopped the stream, which is no failure)."""
        inflight, builder, client = self._inflight, self._builder, self._client
        if inflight.fired is not None:
            message = f"the answer stopped mid-stream: {inflight.why()}"
            return StreamError(message, partial=builder.build("failed", message))
        if inflight.stopped:  # after close() (Stop), a broken read is expected
            return None
        if isinstance(exc, KimiError):
            client.scrub(exc)
            if isinstance(exc, StreamError):
                exc.partial = builder.build("failed", str(exc))
            return exc
        if isinstance(exc, httpx.TransportError):
            return lost(client, exc, builder)
        return broken(client, exc, builder)

    def _iter_events(self, response: httpx.Response) -> Iterator[Event]:
        builder, inflight = self._builder, self._inflight
        if not is_event_stream(response):
            yield from self._whole_response(response)
            return
        parser = ChunkParser()
        frames = EventSource(cast(httpx.Response, EndsAtEOF(response))).iter_sse()
        for sse in frames:
            inflight.beat()
            for event in parser.feed(sse.data):
                builder.add(event)
                yield event
            if parser.done:
                drain(frames)
                return
            if builder.response_id is None:
                builder.response_id, builder.model = (
                    parser.response_id,
                    parser.model or builder.model,
                )
        if not inflight.stopped:
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


class Completion:
    """One non-streamed answer: `result()` waits for it; `close()` (Stop, from any thread)
    ends the wait at once, with an empty stopped turn."""

    def __init__(
        self, client: KimiClient, payload: Payload, *, on_retry: OnRetry | None = None
    ) -> None:
        self._client = client
        self._payload = payload
        self._on_retry = on_retry
        self._inflight = client.inflight(streaming=False)

    def close(self) -> None:
        self._inflight.stop()

    def result(self) -> Turn:
        client, inflight = self._client, self._inflight
        builder = TurnBuilder(str(self._payload.get("model", "")))
        try:
            response = client.open(self._payload, on_retry=self._on_retry, inflight=inflight)
        except Stopped:
            return builder.build("stopped")
        except KimiError as exc:
            client.scrub(exc)
            raise
        inflight.watch(response)
        try:
            raw = response.read()
        except Exception as exc:
            if inflight.fired is not None:
                raise inflight.deadline_error() from exc
            if inflight.stopped:
                return builder.build("stopped")
            if isinstance(exc, httpx.TransportError):
                raise lost(client, exc, builder) from exc
            raise broken(client, exc, builder) from exc  # e.g. a transport's own error
        finally:
            inflight.finish()
            response.close()
        return self._fold(raw, builder)

    def _fold(self, raw: bytes, builder: TurnBuilder) -> Turn:
        try:
            data = json.loads(raw)
        except ValueError:
            raise StreamError("the server's response is not JSON") from None
        if not isinstance(data, dict):
            raise StreamError("the server's response is not a chat completion")
        builder.response_id = data.get("id") if isinstance(data.get("id"), str) else None
        model = data.get("model")
        builder.model = model if isinstance(model, str) and model else builder.model
        try:
            events = completion_events(data)
        except StreamError as exc:
            raise self._client.scrub(exc) from None
        for event in events:
            builder.add(event)
        return builder.build()


def lost(client: KimiClient, exc: httpx.TransportError, builder: TurnBuilder) -> StreamError:
    """The connection broke or went silent mid-answer: one line, with the partial turn."""
    if isinstance(exc, httpx.TimeoutException):
        what = f"no data for {client.settings.read_timeout:g} s (read timeout)"
    else:
        what = f"connection lost (the connection broke: {type(exc).__name__})"
    message = client.redact(f"the answer stopped mid-stream: {what}")
    return StreamError(message, partial=builder.build("failed", message))


def broken(client: KimiClient, exc: BaseException, builder: TurnBuilder) -> StreamError:
    """Anything else that broke the body's reading, as one line with the partial turn."""
    message = client.redact(f"the answer stopped mid-stream: {one_line(exc)}")
    return StreamError(message, partial=builder.build("failed", message))


class EndsAtEOF:
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


def is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def drain(frames: Iterator[Any], limit: int = 64) -> None:
    """Read what follows `[DONE]` to the end of the body (as openai-python does), so the
    connection goes back to the pool instead of being dropped: one TCP (and TLS) handshake
    per client, not per answer. Nothing there can change the answer."""
    with contextlib.suppress(httpx.HTTPError, StreamError):
        for _ in itertools.islice(frames, limit):
            pass
