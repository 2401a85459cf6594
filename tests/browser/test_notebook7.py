"""`%%kimi` in Jupyter Notebook 7: the live ipywidgets view, then the prebuilt turn renderer.

Notebook 7 is built from JupyterLab 4 components and loads the same prebuilt (federated)
extensions, so the kimi-jupyter labextension and ipywidgets' manager both run in it. The
notebook server's environment points its kernels at the session's simulator (conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pages import screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import ElementHandle, Error, Page

    from .conftest import BrowserLog, NotebookServer

pytestmark = pytest.mark.browser

PLUGIN_ID = "kimi-jupyter:plugin"
ACTIVATED = "kimi-jupyter: extension activated"
SIM_PREFIX = "[Kimi simulator]"
RUNNING = "[*]:"
PROMPT = "Stream this in Notebook 7. [[sim: chunks=300 reasoning_chunks=100 delay_ms=15]]"
# Kernel start, `%load_ext` and the first bytes of the answer.
FIRST_TEXT_TIMEOUT = 20_000
# Notebook 7.6's own bundle throws this while it loads settings, with every federated
# extension (kimi-jupyter, ipywidgets) disabled too: not ours, so it is let through.
UPSTREAM_ERROR = "Cannot read properties of undefined (reading 'schema')"
UPSTREAM_SCRIPT = "/static/notebook/notebook_core."

# One snapshot of the cell, taken in the page in one go (see test_live_kimi.py).
SNAPSHOT_JS = """cell => {
  const live = cell.querySelector('.jp-KimiLive');
  const details = live?.querySelector('.jp-KimiTurn-thinking');
  return {
    prompt: cell.querySelector('.jp-InputPrompt')?.textContent ?? '',
    live: live !== null,
    answer: live?.querySelector('.jp-KimiLive-answer')?.textContent ?? '',
    thinking: details?.querySelector('.jp-KimiTurn-reasoning')?.textContent ?? '',
    title: details?.querySelector('summary')?.textContent ?? '',
    status: live?.querySelector('.kimi-status')?.textContent ?? '',
    turn: cell.querySelector('.jp-KimiTurn') !== null,
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
  };
}"""


def _notebook(root: Path, name: str, prompt: str) -> str:
    return write_notebook(root, name, ["%load_ext kimi_jupyter", f"%%kimi\n{prompt}"])


def _wait(page: Page, cell: ElementHandle, predicate: str, timeout: float = 10_000) -> Any:
    """Wait until `predicate(snapshot)` holds for `cell`; return that snapshot."""
    handle = page.wait_for_function(
        f"cell => {{ const s = ({SNAPSHOT_JS})(cell); return ({predicate})(s) ? s : null; }}",
        arg=cell,
        timeout=timeout,
        polling=50,
    )
    return handle.json_value()


def test_kimi_cell_streams_live_then_renders_turn_in_notebook7(
    page: Page, notebook_server: NotebookServer, browser_log: BrowserLog
) -> None:
    upstream_errors: list[str] = []

    def on_error(error: Error) -> None:
        stack = error.stack or ""
        if str(error) == UPSTREAM_ERROR and UPSTREAM_SCRIPT in stack and "kimi" not in stack:
            upstream_errors.append(str(error))

    page.on("pageerror", on_error)
    name = _notebook(notebook_server.root_dir, "notebook7_live.ipynb", PROMPT)
    page.goto(notebook_server.notebook_url(name))
    # Notebook 7's own shell, not JupyterLab's: one notebook panel is the whole main area.
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.content?.widgets"
    )
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.nth(1).wait_for()
    page.wait_for_function(
        "() => { const kernel = window.jupyterapp.shell.currentWidget"
        ".sessionContext.session?.kernel;"
        " return kernel?.connectionStatus === 'connected' && kernel.status === 'idle'; }",
        timeout=FIRST_TEXT_TIMEOUT,
    )
    page.wait_for_function(
        "id => window.jupyterapp.isPluginActivated(id)", arg=PLUGIN_ID, timeout=10_000
    )
    assert ACTIVATED in browser_log.texts()

    cell = cells.nth(1).element_handle()
    # Not awaited: the command's promise resolves only when every cell has finished.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    running = f"s.prompt === '{RUNNING}' && s.live && !s.turn"
    thinking = _wait(page, cell, f"s => {running} && s.thinking.includes('The user sent')",
                     timeout=FIRST_TEXT_TIMEOUT)  # fmt: skip
    assert thinking["answer"] == "", thinking
    first = _wait(page, cell, f"s => {running} && s.answer.includes('{SIM_PREFIX}')")
    # More text arrives while the cell still runs: a stream, not one paint at the end.
    later = _wait(
        page,
        cell,
        f"s => {running} && s.answer.length > {len(first['answer'])}"
        " && s.title.startsWith('Thinking ·')",
    )
    assert later["answer"].startswith(SIM_PREFIX)
    assert later["status"].startswith("answering ·"), later["status"]
    assert re.fullmatch(r"Thinking · \d+\.\d s · \d+ tokens", later["title"]), later["title"]

    turn = cells.nth(1).locator(".jp-OutputArea-output.jp-KimiTurn")
    turn.locator(".jp-KimiTurn-footer").wait_for(timeout=20_000)
    answer_view = turn.locator(".jp-KimiTurn-answer.jp-RenderedMarkdown")
    expect(answer_view).to_contain_text("Estimated prompt tokens")
    final = _wait(page, cell, "s => /^\\[\\d+\\]:$/.test(s.prompt)", timeout=5_000)
    assert not final["live"], "the live widget view is still on screen"
    assert final["outputs"] == 1
    answer = answer_view.inner_text()
    assert answer.startswith(f"{SIM_PREFIX} Received 1 message (user)")
    assert "Stream this in Notebook 7." in answer
    assert len(answer) > len(later["answer"])
    assert turn.locator(".jp-KimiTurn-footer").inner_text().startswith("kimi-k2.6 · ")
    assert (
        turn.locator("details.jp-KimiTurn-thinking summary").inner_text().startswith("Thinking · ")
    )
    screenshot(page, "notebook7")

    kimi_errors = [t for kind, t in browser_log.console if kind == "error" and "kimi" in t.lower()]
    page_errors = list(browser_log.errors)
    for known in upstream_errors:
        page_errors.remove(known)
    assert kimi_errors + page_errors == []
