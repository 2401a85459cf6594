"""The `Simulator`: an offline Kimi chat-completions endpoint served from a daemon thread."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from .directives import FLAVOURS
from .faults import FaultBook, make_fault
from .handler import SimHTTPServer
from .tokens import PromptCache


class Simulator:
    """A spec-faithful stand-in for `POST /v1/chat/completions` on Kimi-K2.6.

    Use it as a context manager (or `start()`/`stop()`)::

        with Simulator(api_key="sk-sim-test") as sim:
            client = OpenAI(base_url=sim.base_url, api_key=sim.api_key)

    Attributes:
        requests: every JSON object received on /v1/chat/completions, in order.
        faults: which fault hits which request (see `set_fault`).
        cache: the simulated prompt cache behind `cached_tokens`.
        stopping: set by `stop()`; stalled responses wake up on it and give up.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "sk-simulator",
        flavour: str = "moonshot",
        fault: str | None = None,
        fault_times: int | None = None,
        chunk_delay_ms: float = 0.0,
        latency_ms: float = 0.0,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {flavour!r}; expected one of {', '.join(FLAVOURS)}")
        self.host = host
        self.api_key = api_key
        self.flavour = flavour
        self.chunk_delay_ms = chunk_delay_ms
        self.latency_ms = latency_ms
        self.requests: list[dict[str, Any]] = []
        self.faults = FaultBook()
        self.cache = PromptCache()
        self.stopping = threading.Event()
        self._port = port
        self._lock = threading.Lock()
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.set_fault(fault, fault_times)

    @property
    def port(self) -> int:
        """The bound port (the free one picked when constructed with port=0 and started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. `http://127.0.0.1:PORT/v1`."""
        return f"http://{self.host}:{self._port}/v1"

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far (a client reusing its connection adds none)."""
        return self._server.accepted if self._server is not None else 0

    def set_fault(self, fault: str | None, times: int | None = None, **params: object) -> None:
        """Make `fault` hit the next `times` chat requests (None: all of them; fault None: off).

        `params` are the fault's knobs: `after`, `retry_after`, `stall`, `at` (see `Fault`).
        A `[[sim: fault=...]]` directive in a request takes precedence over this.
        """
        self.faults.set_global(None if fault is None else make_fault(fault, **params), times)

    def record(self, body: dict[str, Any]) -> None:
        """Remember a received request body (called from handler threads)."""
        with self._lock:
            self.requests.append(body)

    def start(self) -> Simulator:
        """Bind the port and serve in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self.stopping.clear()
        self._server = SimHTTPServer((self.host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll interval
            name=f"kimi-simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections, even streams that are stalled."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._server else "stopped"
        return f"<Simulator {self.base_url} flavour={self.flavour} {state}>"
