"""Real JupyterLab and Notebook 7 servers and Debian's Chromium, driven by Playwright's sync API."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

    from kimi_jupyter.simulator import Simulator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, its token and the directory it serves."""

    url: str
    token: str
    root_dir: Path

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}/{path}?token={self.token}"


@dataclass(frozen=True)
class NotebookServer(LabServer):
    """A running Jupyter Notebook 7 (`jupyter notebook`): its pages are /tree, /notebooks/…."""

    def notebook_url(self, name: str) -> str:
        return self.lab_url(f"notebooks/{name}")


@dataclass
class BrowserLog:
    """What the page said: console messages as (type, text), and uncaught page errors."""

    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [text for _, text in self.console]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _isolated_env(home: Path) -> dict[str, str]:
    """User-level Jupyter dirs in `home`; the venv's sys-prefix extensions stay visible."""
    env = dict(os.environ)
    for name, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    env.pop("JUPYTER_PATH", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _wait_until_up(
    proc: subprocess.Popen[bytes], url: str, token: str, log: Path, what: str = "jupyter lab"
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"{what} did not answer /api/status in {STARTUP_TIMEOUT}s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # SIGTERM: the server shuts its kernels down before exiting.
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def kimi_simulator() -> Iterator[Simulator]:
    """The offline Kimi stand-in that kernels started by `lab_server` talk to.

    The key is random per run, so tests can assert it never reaches a saved notebook.
    """
    from kimi_jupyter.simulator import Simulator

    with Simulator(api_key=f"sk-sim-browser-{secrets.token_hex(12)}") as sim:
        yield sim


def _server_env(home: Path, simulator: Simulator) -> dict[str, str]:
    """`_isolated_env` with no real Kimi credentials: kernels talk to `simulator` only."""
    env = _isolated_env(home)
    for name in ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL"):
        env.pop(name, None)
    # Kernels inherit the server's environment: every `%%kimi` goes to the simulator.
    env["KIMI_BASE_URL"] = simulator.base_url
    env["KIMI_API_KEY"] = simulator.api_key
    return env


@contextmanager
def _jupyter_server(
    tmp_path_factory: pytest.TempPathFactory,
    simulator: Simulator,
    app: str,
    app_args: list[str],
) -> Iterator[tuple[str, str, Path]]:
    """Run `jupyter <app>` on a free loopback port in an isolated home; yield url, token, root."""
    home = tmp_path_factory.mktemp(f"jupyter-{app}-home")
    root_dir = tmp_path_factory.mktemp(f"{app}-root")
    port, token = _free_port(), secrets.token_hex(16)
    log = home / "server.log"
    args = [
        sys.executable, "-m", "jupyter", app, "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.allow_root=True",
        *app_args,
    ]  # fmt: skip
    env = _server_env(home, simulator)
    with log.open("wb") as sink:
        proc = subprocess.Popen(args, cwd=root_dir, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(proc, url, token, log, what=f"jupyter {app}")
        yield url, token, root_dir
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, kimi_simulator: Simulator
) -> Iterator[LabServer]:
    lab_args = [
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with _jupyter_server(tmp_path_factory, kimi_simulator, "lab", lab_args) as (url, token, root):
        yield LabServer(url=url, token=token, root_dir=root)


@pytest.fixture(scope="session")
def notebook_server(
    tmp_path_factory: pytest.TempPathFactory, kimi_simulator: Simulator
) -> Iterator[NotebookServer]:
    """Jupyter Notebook 7 (the `notebook` package), with the lab server's isolated env."""
    try:
        pytest.importorskip("notebook", minversion="7")
    except pytest.skip.Exception:
        if os.environ.get("CI"):
            pytest.fail("Jupyter Notebook 7 is missing: pip install 'notebook>=7'")
        raise
    # Notebook 7 is a JupyterLab-based app: `window.jupyterapp` is its NotebookApp.
    notebook_args = ["--JupyterNotebookApp.expose_app_in_browser=True"]
    with _jupyter_server(tmp_path_factory, kimi_simulator, "notebook", notebook_args) as (
        url,
        token,
        root,
    ):
        yield NotebookServer(url=url, token=token, root_dir=root)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser: Browser, browser_log: BrowserLog) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        browser_log.console.append((message.type, message.text))

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser_log.errors.append(str(error)))
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
