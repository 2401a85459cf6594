"""The kimi-jupyter extension loads in a real JupyterLab and renders turn records as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

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
