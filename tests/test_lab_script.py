"""`make lab` without a key: its own simulator on a free port, or one line and no JupyterLab.

`scripts/lab.sh` runs from a copy of `scripts/` whose `.venv/bin/jupyter` is a stand-in
that records what JupyterLab would have been given (and asks the simulator it was pointed
at for `/v1/models`), so no JupyterLab starts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_JUPYTER = """#!{python}
import json, os, sys, urllib.request
url, key = os.environ["KIMI_BASE_URL"], os.environ["KIMI_API_KEY"]
request = urllib.request.Request(url + "/models", headers={{"Authorization": "Bearer " + key}})
with urllib.request.urlopen(request, timeout=5) as response:
    status, server = response.status, response.headers.get("Server", "")
record = {{"argv": sys.argv[1:], "url": url, "key": key, "status": status, "server": server}}
(__import__("pathlib").Path(__file__).parents[2] / "lab-record.json").write_text(json.dumps(record))
"""


def _load_helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "start_simulator", ROOT / "scripts" / "start_simulator.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helper = _load_helper()


class _Impostor(BaseHTTPRequestHandler):
    """Whatever else holds a port: answers every request with 200 and a model list."""

    server_version = "kimi-simulator"
    sys_version = ""

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "kimi-k2.6"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def impostor() -> Iterator[ThreadingHTTPServer]:
    """An HTTP server that accepts any key, on the simulator's old fixed port if it is free."""
    try:
        server = ThreadingHTTPServer(("127.0.0.1", 8765), _Impostor)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port held by a plain listening socket that never answers."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def lab_root(tmp_path: Path) -> Path:
    """A copy of the scripts, with the real Python and a stand-in `jupyter` in .venv/bin."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "jupyter").write_text(FAKE_JUPYTER.format(python=sys.executable))
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return tmp_path


def run_lab(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_PORT"))}
    environ.pop("KIMI_BASE_URL", None)
    return subprocess.run(
        ["bash", str(root / "scripts" / "lab.sh"), "--no-browser"],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def lab_record(root: Path) -> dict[str, Any] | None:
    path = root / "lab-record.json"
    return json.loads(path.read_text()) if path.exists() else None


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _refused(url: str) -> bool:
    """True once nothing listens at `url` any more (the script stopped its simulator)."""
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
        except urllib.error.HTTPError:
            pass
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_lab_starts_its_own_simulator_when_the_old_port_is_taken(
    lab_root: Path, impostor: ThreadingHTTPServer
) -> None:
    done = run_lab(lab_root)
    assert done.returncode == 0, done.stderr
    record = lab_record(lab_root)
    assert record is not None
    assert record["argv"][:2] == ["lab", "--notebook-dir=example_notebooks"]
    assert record["argv"][-1] == "--no-browser"
    assert _port(record["url"]) != impostor.server_address[1]
    assert (record["status"], record["server"].strip()) == (200, "kimi-simulator")
    assert record["key"].startswith("sk-simulator-")
    assert f"offline simulator at {record['url']}" in done.stdout
    assert done.stderr == ""
    assert _refused(record["url"])  # stopped when Lab ended


def test_an_explicit_free_port_is_used(lab_root: Path) -> None:
    port = _free_port()
    done = run_lab(lab_root, KIMI_SIMULATOR_PORT=str(port))
    assert done.returncode == 0, done.stderr
    record = lab_record(lab_root)
    assert record is not None
    assert record["url"] == f"http://127.0.0.1:{port}/v1"
    assert record["status"] == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_taken_explicit_port_stops_with_one_line_and_no_lab(
    lab_root: Path, taken_port: int
) -> None:
    done = run_lab(lab_root, KIMI_SIMULATOR_PORT=str(taken_port))
    assert done.returncode == 1
    assert lab_record(lab_root) is None
    assert "offline simulator" not in done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith("kimi-jupyter: port ")
    assert f"{taken_port} (KIMI_SIMULATOR_PORT) is already in use" in line


def test_a_bad_port_value_is_one_line(lab_root: Path) -> None:
    done = run_lab(lab_root, KIMI_SIMULATOR_PORT="eighty")
    assert done.returncode == 1
    assert lab_record(lab_root) is None
    assert done.stderr == (
        "kimi-jupyter: KIMI_SIMULATOR_PORT must be a port number (0-65535), got 'eighty'\n"
    )


def test_with_a_key_lab_talks_to_kimi_and_starts_no_simulator(lab_root: Path) -> None:
    jupyter = lab_root / ".venv" / "bin" / "jupyter"
    jupyter.write_text(f'#!/bin/sh\necho "$KIMI_BASE_URL" > {lab_root / "url.txt"}\n')
    done = run_lab(lab_root, KIMI_API_KEY="sk-real", KIMI_BASE_URL="https://api.moonshot.ai/v1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "kimi-jupyter: using Kimi at https://api.moonshot.ai/v1\n"
    assert (lab_root / "url.txt").read_text() == "https://api.moonshot.ai/v1\n"


def test_a_server_that_takes_any_key_is_not_taken_for_ours(
    impostor: ThreadingHTTPServer,
) -> None:
    url = f"http://127.0.0.1:{impostor.server_address[1]}/v1"
    problem = helper.check_ours(url, "sk-simulator-0123")
    assert problem == f"{url} accepts a key that is not the one this run made"


def test_a_port_where_nothing_listens_is_not_ours() -> None:
    problem = helper.check_ours(f"http://127.0.0.1:{_free_port()}/v1", "sk-simulator-0123")
    assert problem is not None
    assert "answered" in problem


def test_a_simulator_that_dies_at_start_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "sim.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "raise OSError(98, 'Address already in use')"],
            stdout=out,
            stderr=out,
        )
    with pytest.raises(helper.StartError) as caught:
        helper.wait_for_url(process, log, timeout=30)
    assert str(caught.value) == (
        "the simulator exited at start: OSError: [Errno 98] Address already in use"
    )


def test_start_verifies_and_returns_a_running_simulator() -> None:
    process, url, key, log = helper.start({})
    try:
        assert process.poll() is None
        assert helper.check_ours(url, key) is None
        assert helper.check_ours(url, "sk-simulator-someone-else") is not None
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.unlink()
