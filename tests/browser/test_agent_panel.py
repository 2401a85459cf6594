"""Agent mode in the Kimi panel (issue 13), in JupyterLab 4, against the simulator.

The Agent switch on in "ask before every change", the simulator's plot-loop policy asks to
insert a plot cell, run it, edit it and run it again; every card is approved; the loop ends
with an answer, the notebook holds the new cell with its image; "Undo this turn" puts the
cells back byte for byte (their nbformat JSON).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest
from pages import ask_in_chat_panel, open_chat_panel, open_notebook, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

SIM_PREFIX = "[Kimi simulator]"
CELLS_JS = (
    "() => JSON.stringify(window.jupyterapp.shell.currentWidget.content.model.toJSON().cells)"
)
LOOP_SECONDS = 120


def _cells(page: Page) -> str:
    return str(page.evaluate(CELLS_JS))


def _approve_until_answered(page: Page, turn: Locator) -> int:
    """Approve each card as it comes until the turn's answer is recorded; the count."""
    answer = turn.locator(".jp-KimiChat-record .jp-KimiTurn-answer")
    pending = turn.locator(".jp-KimiAgentCard:not(.jp-mod-decided) .jp-KimiAgentCard-approve")
    approved = 0
    deadline = time.monotonic() + LOOP_SECONDS
    while answer.count() == 0:
        assert time.monotonic() < deadline, f"no answer after {approved} approvals"
        if pending.count():
            pending.first.click()
            approved += 1
        else:
            page.wait_for_timeout(100)
    return approved


def test_agent_panel_plot_loop_with_approvals_and_undo(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = write_notebook(
        lab_server.root_dir, "agent_panel.ipynb", ["xs = list(range(10))", "print(len(xs))"]
    )
    open_notebook(page, lab_server, name)
    before = _cells(page)
    panel = open_chat_panel(page, name)
    mode = panel.locator(".jp-KimiAgent-mode")
    expect(mode).to_be_disabled()
    panel.locator(".jp-KimiAgent-enabled").check()
    expect(mode).to_be_enabled()
    expect(mode).to_have_value("ask")

    ask_in_chat_panel(panel, "Plot it [[sim: agent=plot-loop]]")
    turn = panel.locator(".jp-KimiChat-turn").last
    expect(turn.locator(".jp-KimiAgentCard").first).to_be_visible(timeout=30_000)
    # Nothing changed while the first card waits.
    assert _cells(page) == before
    screenshot(page, "agent_panel_card")

    approved = _approve_until_answered(page, turn)
    assert approved >= 4, approved  # insert, run, edit, run
    answer = turn.locator(".jp-KimiChat-record .jp-KimiTurn-answer")
    expect(answer).to_contain_text(SIM_PREFIX)
    expect(turn.locator(".jp-KimiAgent-steps-step[data-status='failed']")).to_have_count(0)

    after = json.loads(_cells(page))
    assert len(after) == 3, [cell["source"] for cell in after]
    plot = after[1]
    assert "plt" in "".join(plot["source"])
    assert any("image/png" in output.get("data", {}) for output in plot["outputs"]), plot
    # The marks go with the turn's end.
    expect(page.locator(".jp-Notebook .jp-KimiAgent-touched")).to_have_count(0)
    screenshot(page, "agent_panel_done")

    undo = turn.locator(".jp-KimiAgent-undo")
    expect(undo).to_be_enabled()
    undo.click()
    expect(undo).to_be_disabled()
    page.wait_for_function(f"() => ({CELLS_JS})() === {json.dumps(before)}", timeout=10_000)
    assert _cells(page) == before

    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []
