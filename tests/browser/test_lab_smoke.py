"""The kimi-jupyter extension loads in a real JupyterLab and renders turn records as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

PLUGIN_ID = "kimi-jupyter:plugin"
RENDERER_ID = "kimi-jupyter:turn-renderer"
ACTIVATED = "kimi-jupyter: extension activated"
TURN_MIME = "application/vnd.kimi.turn+json"
HOSTILE = '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>'


def _open_lab(page: Page, lab_server: LabServer, path: str = "lab") -> None:
    page.goto(lab_server.lab_url(path))
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.evaluate("() => window.jupyterapp.restored")


def _kimi_errors(log: BrowserLog) -> list[str]:
    errors = [text for kind, text in log.console if kind == "error" and "kimi" in text.lower()]
    return errors + log.errors


def test_extension_activates(page: Page, lab_server: LabServer, browser_log: BrowserLog) -> None:
    _open_lab(page, lab_server)

    page.wait_for_function(
        "id => window.jupyterapp.isPluginActivated(id)", arg=PLUGIN_ID, timeout=15_000
    )
    assert ACTIVATED in browser_log.texts()
    registered = page.evaluate("() => window.jupyterapp.listPlugins()")
    assert {PLUGIN_ID, RENDERER_ID} <= set(registered)
    assert page.evaluate("id => window.jupyterapp.isPluginActivated(id)", RENDERER_ID)
    assert _kimi_errors(browser_log) == []


def test_turn_answer_renders_as_literal_text(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    turn = {"answer": HOSTILE, "reasoning": "r", "model": "kimi-k2.6", "usage": {"total_tokens": 9}}
    output = new_output("display_data", data={TURN_MIME: turn, "text/plain": "plain fallback"})
    notebook = new_notebook(cells=[new_code_cell("%%kimi\nhi", outputs=[output])])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, lab_server.root_dir / "turn.ipynb")

    _open_lab(page, lab_server, "lab/tree/turn.ipynb")

    answer = page.locator(".jp-OutputArea-output.jp-KimiTurn .jp-KimiTurn-answer")
    answer.wait_for()
    assert answer.inner_text() == HOSTILE
    assert page.locator(".jp-KimiTurn-footer").inner_text() == "kimi-k2.6 · 9 tokens"
    assert page.locator(".jp-OutputArea-output img").count() == 0
    assert page.locator(".jp-OutputArea-output script").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert _kimi_errors(browser_log) == []
