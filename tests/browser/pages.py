"""Page helpers the browser tests share: write a notebook, open it alone, run and save it,
take a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

if TYPE_CHECKING:
    from conftest import LabServer
    from playwright.sync_api import Locator, Page

ARTIFACTS = Path(__file__).parent / "artifacts"
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
KERNEL_IDLE_JS = (
    "() => { const kernel = window.jupyterapp.shell.currentWidget"
    ".sessionContext.session?.kernel;"
    " return kernel?.connectionStatus === 'connected' && kernel.status === 'idle'; }"
)


def write_notebook(root: Path, name: str, cells: list[str | NotebookNode]) -> str:
    """A python3 notebook `root/name` of code cells (sources, or ready-made cells)."""
    notebook = new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nbformat.write(notebook, root / name)
    return name


def open_notebook(
    page: Page, lab_server: LabServer, name: str, *, kernel: bool = True, timeout: float = 20_000
) -> Locator:
    """Open `name` alone in a fresh workspace; with `kernel`, wait until its kernel is idle."""
    workspace = Path(name).stem
    page.goto(
        f"{lab_server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={lab_server.token}"
    )
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets")
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.first.wait_for()
    if kernel:
        page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout)
    return cells


def run_all(page: Page) -> None:
    """Run every cell of the current notebook, without waiting for them to finish."""
    # Not awaited: the command's promise resolves only when every cell has finished.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def save_notebook(page: Page) -> None:
    """Ctrl+S in the current notebook, then wait until it is clean on the server."""
    page.locator(".jp-Notebook").first.focus()
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => { const panel = window.jupyterapp.shell.currentWidget;"
        " return panel.context.model.dirty === false && !panel.title.className"
        ".includes('jp-mod-dirty'); }",
        timeout=10_000,
    )


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
