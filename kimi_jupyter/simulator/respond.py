"""Writing responses on the wire: JSON, HTML, chunked SSE, and the faults that break them."""

from __future__ import annotations

import io
import secrets
import socket
import struct
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from .errors import ApiError
from .faults import GATEWAY_TIMEOUT_HTML, Fault
from .stream import DONE, dumps

JSON = "application/json; charset=utf-8"
_FLUSH_AT = 64 * 1024  # bytes per socket write when no delay is asked for
_KEEPALIVE = b": keep-alive\n\n"
_MALFORMED = b'data: {"id":"chatcmpl-malformed","choices":[{"index":0,"delta":{"content":"\n\n'
_HEAD: dict[str, Any] = {"id": "chatcmpl-malformed", "object": "chat.completion.chunk"}
_BAD_CHUNKS: dict[str, dict[str, Any]] = {  # `malformed:KIND` in a stream
    "null-choice": {**_HEAD, "choices": [None]},
    "bad-content": {**_HEAD, "choices": [{"index": 0, "delta": {"content": 42}}]},
    "bad-usage": {**_HEAD, "choices": [], "usage": {"prompt_tokens": "many", "total_tokens": "x"}},
    "odd-shape": {**_HEAD, "choices": {"index": 0, "delta": {"content": "?"}}},
}
_ERROR_FRAME = (
    b'data: {"error":{"message":"Stream failed","type":"server_error","code":"stream_failure"}}\n\n'
)


class StoppingError(Exception):
    """The simulator is stopping: abandon this response and close the connection."""


class _Chunked:
    """HTTP/1.1 chunked body writer that batches events into large socket writes."""

    def __init__(self, wfile: io.BufferedIOBase, stopping: threading.Event) -> None:
        self._wfile = wfile
        self._stopping = stopping
        self._buffer = bytearray()

    def add(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._stopping.is_set():
            raise StoppingError
        if self._buffer:
            self._wfile.write(b"%x\r\n" % len(self._buffer) + self._buffer + b"\r\n")
            self._buffer.clear()

    def finish(self) -> None:
        self.flush()
        self._wfile.write(b"0\r\n\r\n")


class Responder:
    """Sends one response for a handler, with Moonshot's headers and any fault applied."""

    def __init__(self, handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        self._handler = handler
        self._stopping = stopping

    def error(self, exc: ApiError) -> None:
        """Send an error: the JSON envelope, or the gateway's HTML page for a 504."""
        if exc.status == 504:  # the gateway, not the API, answers after 900 s (§2.3)
            self.raw(504, "text/html", GATEWAY_TIMEOUT_HTML, exc.headers)
        else:
            self.raw(exc.status, JSON, exc.body(), exc.headers)

    def raw(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        """Send a complete response with a Content-Length."""
        self._start(status, content_type, {**(headers or {}), "Content-Length": str(len(body))})
        self._handler.wfile.write(body)

    def completion(self, completion: dict[str, Any], fault: Fault | None) -> None:
        """Send a non-streaming completion; stream faults act on the body where they can."""
        body = _mangled(completion, fault)
        self._start(200, JSON, {"Content-Length": str(len(body))})
        if fault and fault.name == "stall":
            self._stall_body(fault, body)
            return
        if fault and fault.name == "reset-mid-stream":
            self._handler.wfile.write(body[: len(body) // 2])
            self.reset()
            return
        self._handler.wfile.write(body)

    def _stall_body(self, fault: Fault, body: bytes) -> None:
        wfile = self._handler.wfile
        if fault.kind == "trickle":
            for i in range(len(body)):
                wfile.write(body[i : i + 1])
                wfile.flush()
                self._pause(fault.stall)
            return
        if fault.kind == "keepalive":  # JSON may start with blank space: a keep-alive
            for _ in _ticks(fault.stall):
                wfile.write(b" ")
                wfile.flush()
                self._pause(_tick(fault.stall))
        else:
            self._pause(fault.stall)
        wfile.write(body)

    def stream(self, events: Iterator[bytes], fault: Fault | None, delay: float) -> None:
        """Send SSE events as a chunked body, injecting `fault` after `fault.at` events."""
        self._start(200, "text/event-stream", {"Cache-Control": "no-cache"}, chunked=True)
        out = _Chunked(self._handler.wfile, self._stopping)
        name = fault.name if fault else None
        events = iter(events)
        for n, event in enumerate(events):
            if fault and n == fault.at and self._strike(fault, out, event, events):
                return
            if name == "no-done" and event is DONE:
                break
            if name == "keepalive" and n % 2 == 0:
                out.add(_KEEPALIVE)
            out.add(event)
            if delay:
                out.flush()
                self._pause(delay)
        out.finish()

    def _strike(self, fault: Fault, out: _Chunked, event: bytes, rest: Iterator[bytes]) -> bool:
        """Apply a mid-stream fault before `event`; return True when the response is over."""
        out.flush()
        if fault.name == "reset-mid-stream":
            if fault.kind == "in-event":
                out.add(event[: len(event) // 2])
                out.flush()
            self.reset()
            return True
        if fault.name == "stall":
            return self._stall(fault, out, event, rest)
        if fault.name == "malformed":
            bad = _BAD_CHUNKS.get(fault.kind)
            out.add(_MALFORMED if bad is None else b"data: " + dumps(bad) + b"\n\n")
        elif fault.name == "error-frame":
            out.add(_ERROR_FRAME)
            out.finish()  # the body ends cleanly, but without `data: [DONE]`
            return True
        return False

    def _stall(self, fault: Fault, out: _Chunked, event: bytes, rest: Iterator[bytes]) -> bool:
        if fault.kind == "trickle":  # the rest of the body, a byte at a time
            for data in (event, *rest):
                for i in range(len(data)):
                    out.add(data[i : i + 1])
                    out.flush()
                    self._pause(fault.stall)
            out.finish()
            return True
        if fault.kind == "keepalive":  # alive, but no event
            for _ in _ticks(fault.stall):
                out.add(_KEEPALIVE)
                out.flush()
                self._pause(_tick(fault.stall))
        else:
            self._pause(fault.stall)
        return False

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) instead of a clean close."""
        handler = self._handler
        handler.close_connection = True
        connection: socket.socket = handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.rfile.close()  # the makefile holds a reference that would delay the close
        connection.close()

    def _pause(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise StoppingError

    def _start(
        self, status: int, content_type: str, headers: dict[str, str], chunked: bool = False
    ) -> None:
        handler = self._handler
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if "Msh-Request-Id" not in headers:
            handler.send_header("Msh-Request-Id", str(uuid.uuid4()))
        handler.send_header("X-Msh-Trace-Id", secrets.token_hex(16))
        for name, value in headers.items():
            handler.send_header(name, value)
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()


def _mangled(completion: dict[str, Any], fault: Fault | None) -> bytes:
    """The body of a non-streamed completion, broken as a `malformed:KIND` fault asks."""
    kind = fault.kind if fault and fault.name == "malformed" else None
    if kind == "null-choice":
        completion = {**completion, "choices": [None]}
    elif kind == "bad-content":
        choice = completion["choices"][0]
        message = {**choice["message"], "content": 42}
        completion = {**completion, "choices": [{**choice, "message": message}]}
    elif kind == "bad-usage":
        completion = {**completion, "usage": {"prompt_tokens": "many", "total_tokens": "x"}}
    elif kind == "odd-shape":
        completion = {**completion, "choices": completion["choices"][0]}
    body = dumps(completion)
    return body[: len(body) // 2] if kind == "json" else body


def _tick(stall: float) -> float:
    """How often a keep-alive fault shows it is alive: ten times in the stall, at most 1 s."""
    return min(1.0, stall / 10) or stall


def _ticks(stall: float) -> range:
    return range(max(1, round(stall / _tick(stall))) if stall else 0)
