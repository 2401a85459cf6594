"""`@cell:N` and `@notebook` in JupyterLab: what reaches the model is the notebook's cells.

The panel sends the cells as the page has them (an unsaved edit included); a `%%kimi` cell
reads them from its execute request when the page adds them (`cellliveplugin.ts`), else
from the saved file the kernel was started for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pages import ask_in_chat_panel, open_chat_panel, open_notebook, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from kimi_jupyter.simulator import Simulator

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser


def _request_asking(simulator: Simulator, question: str) -> list[dict[str, Any]]:
    """The content parts of the newest request whose question is `question`."""
    for request in reversed(simulator.requests):
        content = request["messages"][-1]["content"]
        if isinstance(content, list) and content and content[0].get("text") == question:
            return content
    raise AssertionError(f"no request asked {question!r}")


def _text(parts: list[dict[str, Any]]) -> str:
    return "\n".join(p["text"] for p in parts if p.get("type") == "text")


def test_a_kimi_cell_sends_the_cell_it_mentions(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator, browser_log: BrowserLog
) -> None:
    question = "what does @cell:2 compute?"
    name = write_notebook(
        lab_server.root_dir,
        "cell_mention.ipynb",
        ["%load_ext kimi_jupyter", "total = 40 + 2  # the answer", f"%%kimi\n{question}"],
    )
    cells = open_notebook(page, lab_server, name)
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    turn = cells.nth(2).locator(".jp-OutputArea-output.jp-KimiTurn")
    turn.locator(".jp-KimiTurn-footer").wait_for(timeout=30_000)
    text = _text(_request_asking(kimi_simulator, question))
    assert "## Cell 2 (code" in text
    assert "total = 40 + 2  # the answer" in text
    assert browser_log.errors == []


def test_the_panel_sends_the_notebook_as_the_page_has_it(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator, browser_log: BrowserLog
) -> None:
    name = write_notebook(
        lab_server.root_dir, "panel_mention.ipynb", ["x = 'as saved'", "y = x * 2"]
    )
    open_notebook(page, lab_server, name)
    # An edit the file does not have yet: only the page knows it.
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
        ".cells[0].setSource(\"x = 'edited on the page'\")"
    )
    panel = open_chat_panel(page, name)
    question = "what is in @cell:1, and what does @notebook do?"
    ask_in_chat_panel(panel, question)
    record = panel.locator(".jp-KimiChat-turn").last.locator(".jp-KimiChat-record")
    expect(record.locator(".jp-KimiTurn-footer")).to_contain_text("kimi-k2.6", timeout=30_000)
    text = _text(_request_asking(kimi_simulator, question))
    assert text.count("x = 'edited on the page'") >= 2  # the listing, and in full
    assert "as saved" not in text
    assert "@notebook: Notebook panel_mention.ipynb: 2 cells\n" in text
    assert "## Cell 1 (code; @cell:1" in text
    assert browser_log.errors == []


def test_a_kimi_cell_sees_an_unsaved_edit(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator
) -> None:
    question = "what does @cell:2 hold?"
    name = write_notebook(
        lab_server.root_dir,
        "cell_unsaved.ipynb",
        ["%load_ext kimi_jupyter", "total = 'as saved'", f"%%kimi\n{question}"],
    )
    cells = open_notebook(page, lab_server, name)
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
        ".cells[1].setSource(\"total = 'edited on the page'\")"
    )
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    turn = cells.nth(2).locator(".jp-OutputArea-output.jp-KimiTurn")
    turn.locator(".jp-KimiTurn-footer").wait_for(timeout=30_000)
    text = _text(_request_asking(kimi_simulator, question))
    assert "total = 'edited on the page'" in text
    assert "as last saved" not in text
