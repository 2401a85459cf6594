"""Test helpers: recorded wire samples, MockTransport responses split at awkward places, and
the lab panel's side of the chat comm for tests against a real kernel."""

from __future__ import annotations

import io
import json
import os
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from kimi_jupyter._comm import TARGET
from kimi_jupyter.client import KimiClient
from kimi_jupyter.config import Settings
from kimi_jupyter.conversation import MediaPart, Part, TextPart

WIRE = Path(__file__).parent / "fixtures" / "kimi-wire"
SECRET = "sk-test-0123456789abcdef-SECRET"


def sse(*chunks: object, done: bool = True, eol: str = "\n") -> bytes:
    """Frame JSON chunks (or raw strings) as an SSE body."""
    frames = [f"data: {c if isinstance(c, str) else json.dumps(c)}{eol}{eol}" for c in chunks]
    if done:
        frames.append(f"data: [DONE]{eol}{eol}")
    return "".join(frames).encode()


def pieces(body: bytes, size: int) -> Iterator[bytes]:
    """Split a body every `size` bytes: mid-line, mid-JSON and mid-UTF-8 sequence."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def stream_response(body: bytes, size: int = 7, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, headers={"content-type": "text/event-stream"}, content=pieces(body, size)
    )


class Recorder:
    """A MockTransport handler that replays scripted responses and records the requests."""

    def __init__(self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return item(request) if callable(item) else item

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.requests]


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: list[float] | None = None,
    **settings: object,
) -> KimiClient:
    values: dict[str, object] = {"api_key": SECRET, "base_url": "https://kimi.test/v1"}
    values.update(settings)
    record = sleeps if sleeps is not None else []
    return KimiClient(
        Settings(**values),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        sleep=record.append,
    )


def wire_chunks(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (WIRE / name).read_text().splitlines() if line.strip()]


def png(width: int, height: int) -> bytes:
    """A real, minimal RGB PNG of the given size (no Pillow needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def png_part(parts: list[Part], label: str | None = None) -> MediaPart:
    """The image of a converter's `[label, PNG]` answer (checking the label when given)."""
    assert len(parts) == 2
    first, image = parts
    assert isinstance(first, TextPart)
    if label is not None:
        assert first == TextPart(label)
    assert isinstance(image, MediaPart)
    assert image.mime == "image/png"
    return image


def pixels(part: MediaPart) -> tuple[int, int]:
    """The width and height of an image part, as Pillow reads them."""
    from PIL import Image

    size: tuple[int, int] = Image.open(io.BytesIO(part.data)).size
    return size


@contextmanager
def simulated_kernel(base_url: str, key: str, setup: str) -> Iterator[Any]:
    """A real python3 kernel whose Kimi is the simulator at `base_url`, after running
    `%load_ext kimi_jupyter` and `setup`; yields its `jupyter_client` client."""
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "KIMI_BASE_URL": base_url, "KIMI_API_KEY": key}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        reply = client.execute_interactive(f"%load_ext kimi_jupyter\n{setup}",
                                           store_history=False, timeout=60)  # fmt: skip
        assert reply["content"]["status"] == "ok"
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


class Panel:
    """A comm opened from the client side (a `jupyter_client` kernel client), as the lab
    panel opens it. `received` keeps this comm's messages in order."""

    def __init__(self, client: Any) -> None:
        self.client, self.comm_id = client, uuid.uuid4().hex
        self.received: list[dict[str, Any]] = []
        self._send("comm_open", {"comm_id": self.comm_id, "target_name": TARGET, "data": {}})

    def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        self.client.shell_channel.send(self.client.session.msg(msg_type, content))

    def send(self, data: dict[str, Any]) -> None:
        self._send("comm_msg", {"comm_id": self.comm_id, "data": data})

    def close(self) -> None:
        self._send("comm_close", {"comm_id": self.comm_id, "data": {}})

    def receive(self, timeout: float = 0.5) -> bool:
        """Read one iopub message; True when it was one of this comm's (now in `received`)."""
        try:
            msg = self.client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return False
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == self.comm_id:
            self.received.append(msg["content"]["data"])
            return True
        return False

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received:
                if predicate(message):
                    return message
            self.receive()
        raise AssertionError(f"no matching message; got {self.received[-5:]}")


def fresh_kernel_env(
    monkeypatch: Any, key: str, base_url: str, frontend: str | None = None
) -> None:
    """This process as a new kernel talking to the simulator: no other key or model in the
    environment, a fresh kernel context (sessions); `frontend` names the notebook a Jupyter
    server started it for (`JPY_SESSION_NAME`: a frontend that shows widgets)."""
    from kimi_jupyter.kernel import KernelContext

    for name in ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL", "KIMI_VIEW"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIMI_API_KEY", key)
    monkeypatch.setenv("KIMI_BASE_URL", base_url)
    if frontend is not None:
        monkeypatch.setenv("JPY_SESSION_NAME", frontend)
    monkeypatch.setattr(KernelContext, "_current", KernelContext())
