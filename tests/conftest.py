"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import Toolbox

from helpers import fresh_kernel_env


@pytest.fixture
def no_kimi_env(monkeypatch: pytest.MonkeyPatch) -> Iterable[None]:
    for name in (
        "KIMI_API_KEY",
        "MOONSHOT_API_KEY",
        "ANYFAST_API_KEY",
        "KIMI_BASE_URL",
        "KIMI_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return


@pytest.fixture
def toolbox(monkeypatch: pytest.MonkeyPatch) -> Toolbox:
    """A fresh kernel's worth of registered tools: `@tool` fills this one, then it is gone."""
    fresh = Toolbox()
    monkeypatch.setattr(Toolbox, "_default", fresh)
    return fresh


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    """An HTTP client for the module's `sim`, sending its key."""
    headers = {"Authorization": f"Bearer {sim.api_key}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def ip(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """IPython's test shell with the extension loaded, talking to the module's `sim`, with a
    fresh kernel context (sessions) for each test."""
    fresh_kernel_env(monkeypatch, sim.api_key, sim.base_url)
    start_ipython()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    shell.run_line_magic("config", "KimiMagics.model = None")
    yield shell
    shell.run_line_magic("unload_ext", "kimi_jupyter")


class FakeKernel:
    """What the views read of ipykernel's kernel: the execute request being run."""

    def __init__(self, cell_id: str | None) -> None:
        self.cell_id = cell_id

    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        metadata = {"cellId": self.cell_id} if self.cell_id else {}
        return {"header": {"msg_type": "execute_request"}, "metadata": metadata}


@pytest.fixture
def running_cell(monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """Make the running IPython shell a kernel's, executing a request with this cell id (None:
    as nbclient and papermill send it), started without a Jupyter server (no JPY_SESSION_NAME).
    """
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)

    def run(cell_id: str | None) -> None:
        monkeypatch.setattr(get_ipython(), "kernel", FakeKernel(cell_id), raising=False)

    return run
