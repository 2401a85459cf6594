"""HTTP plumbing: the threaded server, routing, auth and the chat-completions flow."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .answer import build_plan
from .directives import parse_directives
from .errors import ApiError, invalid, unauthorized
from .faults import HTTP_FAULTS, http_fault
from .respond import JSON, Responder, StoppingError
from .stream import Shaper, dumps
from .tokens import CONTEXT_WINDOW
from .validate import MODEL, validate

if TYPE_CHECKING:
    from .server import Simulator

MAX_BODY = 100 * 1024 * 1024  # Kimi's documented request body limit (§2.3)
_CHAT = "/v1/chat/completions"
_MODELS = {
    "object": "list",
    "data": [
        {
            "id": MODEL,
            "object": "model",
            "created": 1776384000,
            "owned_by": "moonshot",
            "context_length": CONTEXT_WINDOW,
            "supports_image_in": True,
            "supports_video_in": True,
            "supports_reasoning": True,
        }
    ],
}


class SimHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that knows its open connections, so stop() can cut them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # socketserver's 5 overflows when many clients connect at once

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        super().__init__(address, _Handler)
        self.sim = sim
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.accepted = 0  # connections ever accepted: clients that reuse them keep it low

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(request, socket.socket):
            with self._lock:
                self._connections.add(request)
                self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # Clients hanging up mid-response are routine here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every open connection, waking handler threads blocked on them."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes on a reused connection: no 40 ms waits
    server_version = "kimi-simulator"
    sys_version = ""
    server: SimHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and notebooks do not want an access log on stderr."""

    def do_GET(self) -> None:
        """Serve `GET /v1/models`."""
        if self._read_body() is not None:  # a stray body must not poison keep-alive
            self._serve(None)

    def do_POST(self) -> None:
        """Serve `POST /v1/chat/completions`."""
        raw = self._read_body()
        if raw is not None:
            self._serve(raw)

    def do_PUT(self) -> None:
        """Answer 404 (after reading the body, to keep the connection usable)."""
        self.do_POST()

    def do_DELETE(self) -> None:
        """Answer 404."""
        self.do_POST()

    def do_PATCH(self) -> None:
        """Answer 404."""
        self.do_POST()

    def _serve(self, raw: bytes | None) -> None:
        out = Responder(self, self.server.sim.stopping)
        path = self.path.split("?", 1)[0]
        try:
            if (self.command, path) == ("GET", "/v1/models"):
                self._check_auth()
                out.raw(200, JSON, dumps(_MODELS))
            elif (self.command, path) == ("POST", _CHAT) and raw is not None:
                self._check_auth()
                self._chat(out, raw)
            else:
                raise ApiError(404, "resource_not_found_error", f"Not found: {self.command} {path}")
        except ApiError as exc:
            out.error(exc)
        except (StoppingError, OSError):
            self.close_connection = True

    def _check_auth(self) -> None:
        expected = f"Bearer {self.server.sim.api_key}"
        if self.headers.get("Authorization") != expected:
            raise unauthorized()

    def _chat(self, out: Responder, raw: bytes) -> None:
        sim = self.server.sim
        body = _parse_json(raw)
        sim.record(body)
        wanted = parse_directives(body)
        latency = sim.latency_ms if wanted.latency_ms is None else wanted.latency_ms
        if latency and sim.stopping.wait(latency / 1000):
            raise StoppingError
        req = validate(body, wanted.flavour or sim.flavour)
        fault = sim.faults.take(wanted.key, wanted.fault, wanted.times)
        if fault and fault.name in HTTP_FAULTS:
            raise http_fault(fault, sim.api_key)
        if fault and fault.name == "reset-before-headers":
            out.reset()
            return
        cached = sim.cache.lookup_and_store(req.messages, req.message_costs)
        shaper = Shaper(req, wanted, build_plan(req, wanted, cached))
        if not req.stream:
            out.completion(shaper.completion(), fault)
            return
        delay = sim.chunk_delay_ms if wanted.delay_ms is None else wanted.delay_ms
        out.stream(shaper.iter_events(), fault, delay / 1000)

    def _read_body(self) -> bytes | None:
        """Read the request body (Content-Length or chunked); None if it is refused."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._refuse_body()
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            try:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            except ValueError:
                size = MAX_BODY + 1
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_BODY:
                self._refuse_body()
                return None
            body += self.rfile.read(size)
            self.rfile.readline()

    def _refuse_body(self) -> None:
        # [UNVERIFIED] message: Kimi documents the 100 MB limit, not its error text.
        self.close_connection = True  # the unread body would be taken for the next request
        error = invalid("Invalid request: the request body must be at most 100 MB")
        Responder(self, self.server.sim.stopping).error(error)


def _parse_json(raw: bytes) -> dict[str, Any]:
    # [UNVERIFIED] messages for an unparseable body.
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid(f"Invalid request: the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise invalid("Invalid request: the body must be a JSON object")
    return body
