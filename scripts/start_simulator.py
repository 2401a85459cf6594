"""Start the offline simulator for `make lab`, and prove that the server answering is ours.

    python scripts/start_simulator.py      # prints one line: PID BASE_URL API_KEY LOG

`KIMI_SIMULATOR_PORT` unset: the simulator binds a free port itself (`--port 0`) and this
script reads the URL it reports, so nothing else can be holding that port. Set and taken:
one line on stderr, exit status 1, nothing started. Before anything is printed, the server
at the URL must answer `/v1/models` with the key made for this run (and refuse any other
key) while the process started here is still alive, so JupyterLab is never pointed at
whatever else listens there. Every failure is one line on stderr and exit status 1; the
simulator started here is stopped first. Its output goes to LOG, which the caller removes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
_LISTENING = re.compile(r"listening on (http://\S+/v1)")


class StartError(Exception):
    """Why the simulator could not be started or trusted: one line for the user."""


def requested_port(environ: Mapping[str, str]) -> int:
    """`KIMI_SIMULATOR_PORT`, or 0 (a free port) when it is unset or empty."""
    raw = environ.get("KIMI_SIMULATOR_PORT", "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise StartError(f"KIMI_SIMULATOR_PORT must be a port number (0-65535), got {raw!r}")
    return int(raw)


def port_in_use(port: int) -> bool:
    """True when the simulator could not bind `port` (binding the way its server does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def spawn(port: int, key: str, log: Path) -> subprocess.Popen[bytes]:
    """The simulator in its own process, its output in `log` (never in our stdout)."""
    command = [sys.executable, "-m", "kimi_jupyter.simulator", "--host", HOST,
               "--port", str(port), "--api-key", key]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )


def wait_for_url(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """The base URL the simulator reports once it listens; StartError if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines()
            why = lines[-1] if lines else f"exit status {process.returncode}"
            raise StartError(f"the simulator exited at start: {why}")
        time.sleep(0.05)
    raise StartError(f"the simulator did not report its URL within {timeout:g} s")


def _get_models(base_url: str, key: str) -> tuple[int, str, object]:
    # `base_url` matched `http://…` in the simulator's own output: no file: or other scheme.
    url = f"{base_url}/models"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers.get("Server", ""), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Server", ""), None
    except (OSError, ValueError) as exc:
        return 0, "", str(exc)


def check_ours(base_url: str, key: str) -> str | None:
    """None if the server at `base_url` is a Kimi simulator holding `key`; else what is wrong."""
    status, server, body = _get_models(base_url, key)
    if status != 200 or not server.startswith("kimi-simulator"):
        return f"{base_url}/models answered {status or body} ({server or 'no Server header'})"
    if not isinstance(body, dict) or not body.get("data"):
        return f"{base_url}/models did not list any model"
    stranger, _, _ = _get_models(base_url, f"{key}-not-ours")
    if stranger != 401:
        return f"{base_url} accepts a key that is not the one this run made"
    return None


def start(environ: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], str, str, Path]:
    """Start and verify a simulator: its process, base URL, key and log file."""
    port = requested_port(environ)
    if port and port_in_use(port):
        raise StartError(
            f"port {port} (KIMI_SIMULATOR_PORT) is already in use: stop what holds it, "
            "choose another port, or unset KIMI_SIMULATOR_PORT to use a free one"
        )
    key = f"sk-simulator-{secrets.token_hex(8)}"
    fd, name = tempfile.mkstemp(prefix="kimi-simulator-", suffix=".log")
    os.close(fd)
    log = Path(name)
    process = spawn(port, key, log)
    try:
        url = wait_for_url(process, log, START_TIMEOUT)
        problem = check_ours(url, key)
        if problem is None and process.poll() is not None:
            problem = "the simulator exited after it started"
        if problem is not None:
            raise StartError(f"not starting JupyterLab against {url}: {problem}")
    except BaseException:
        process.terminate()
        process.wait(timeout=10)
        log.unlink(missing_ok=True)
        raise
    return process, url, key, log


def main() -> int:
    try:
        process, url, key, log = start(os.environ)
    except StartError as exc:
        sys.stderr.write(f"kimi-jupyter: {exc}\n")
        return 1
    sys.stdout.write(f"{process.pid} {url} {key} {log}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
