"""Notebook actions in a real JupyterLab: ask about an output, explain an error, insert code.

One notebook: `%load_ext kimi_jupyter`, `21 * 2` (Out[2]), `1/0` (tagged `raises-exception`)
and a `%%kimi` cell with a saved turn output whose answer has a fenced python block (the
simulator quotes prompts in escaped form, so its own answers never contain one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nbformat.v4 import new_code_cell, new_output
from pages import open_notebook, screenshot, write_notebook
from panelpages import turn_record
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

TURN_MIME = "application/vnd.kimi.turn+json"
PYTHON_CODE = 'import math\nprint(math.sqrt(2))  # "root"'
ANSWER = f"Try this:\n\n```python\n{PYTHON_CODE}\n```\n\nor this:\n\n```bash\necho hi\n```\n"
ASK = "Ask Kimi about this output"
EXPLAIN = "Explain this error with Kimi"
KERNEL_TIMEOUT = 30_000
# JupyterLab renders an error's traceback as stderr text; the output's model says "error".
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

SOURCES_JS = (
    "() => window.jupyterapp.shell.currentWidget.content.widgets"
    ".map(cell => cell.model.sharedModel.getSource())"
)


def _write(root: Path, name: str) -> str:
    error_cell = new_code_cell("1/0")
    error_cell.metadata["tags"] = ["raises-exception"]
    data = {"text/plain": ANSWER, TURN_MIME: turn_record(ANSWER)}
    turn_output = new_output("execute_result", data=data, execution_count=9)
    turn_cell = new_code_cell("%%kimi\nshow me code", outputs=[turn_output], execution_count=9)
    cells = [
        new_code_cell("%load_ext kimi_jupyter"),
        new_code_cell("21 * 2"),
        error_cell,
        turn_cell,
    ]
    return write_notebook(root, name, cells)


def _open(page: Page, lab_server: LabServer, name: str) -> Locator:
    return open_notebook(page, lab_server, name, timeout=KERNEL_TIMEOUT)


def _sources(page: Page) -> list[str]:
    result: list[str] = page.evaluate(SOURCES_JS)
    return result


def _menu_item(page: Page, label: str) -> Locator:
    return page.locator(".lm-Menu .lm-Menu-item", has_text=label)


def test_output_and_error_actions_and_insert_code(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = _write(lab_server.root_dir, "actions.ipynb")
    cells = _open(page, lab_server, name)
    # Run the first three cells only: the saved turn output of the last one stays.
    page.evaluate(
        "() => { const panel = window.jupyterapp.shell.currentWidget;"
        " panel.content.activeCellIndex = 3;"
        " void window.jupyterapp.commands.execute('notebook:run-all-above'); }"
    )
    result = cells.nth(1).locator(".jp-OutputArea-output")
    expect(result).to_have_text("42", timeout=KERNEL_TIMEOUT)
    error = cells.nth(2).locator(ERROR_OUTPUT)
    expect(error).to_contain_text("ZeroDivisionError", timeout=KERNEL_TIMEOUT)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
        " === 'idle'"
    )

    # 1. Ask about the `42` output: a `%%kimi` cell below mentioning @Out[2], in edit mode.
    result.click(button="right")
    _menu_item(page, ASK).wait_for()
    assert _menu_item(page, EXPLAIN).count() == 0, "Explain offered on a non-error output"
    _menu_item(page, ASK).click()
    expected = "%%kimi\nWhat does @Out[2] show? "
    page.wait_for_function(f"() => ({SOURCES_JS})()[2] === {expected!r}")
    state = page.evaluate(
        """() => {
          const nb = window.jupyterapp.shell.currentWidget.content;
          const cell = nb.activeCell;
          const editor = cell.editor;
          const end = editor.getPositionAt(editor.model.sharedModel.getSource().length);
          return {
            index: nb.activeCellIndex,
            mode: nb.mode,
            type: cell.model.type,
            focused: cell.node.contains(document.activeElement),
            cursor: editor.getCursorPosition(),
            end,
          };
        }"""
    )
    assert state["index"] == 2
    assert state["type"] == "code"
    assert state["mode"] == "edit"
    assert state["focused"], "the new cell's editor has no focus"
    assert state["cursor"] == state["end"], state
    page.keyboard.type("Please")
    page.wait_for_function(f"() => ({SOURCES_JS})()[2] === {expected + 'Please'!r}")
    page.keyboard.press("Escape")

    # 2. Explain the error: `%kimi fix` below the error cell (now index 3), run.
    cells.nth(3).locator(ERROR_OUTPUT).click(button="right")
    _menu_item(page, EXPLAIN).click()
    page.wait_for_function(f"() => ({SOURCES_JS})()[4] === '%kimi fix'")
    answer = cells.nth(4).locator(".jp-KimiTurn-answer")
    expect(answer).to_contain_text("ZeroDivisionError", timeout=KERNEL_TIMEOUT)

    # 3. Insert the python block of the saved answer (cell 5) as a new code cell below it.
    turn = cells.nth(5).locator(".jp-KimiTurn")
    insert = turn.get_by_role("button", name="Insert code below")
    expect(insert).to_have_count(2)
    expect(turn.get_by_role("button", name="Copy code")).to_have_count(2)
    insert.first.click()
    page.wait_for_function(f"() => ({SOURCES_JS})().length === 7")
    sources = _sources(page)
    assert sources[6] == PYTHON_CODE
    assert (
        page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[6].model.type")
        == "code"
    )
    assert sources[:6] == [
        "%load_ext kimi_jupyter",
        "21 * 2",
        expected + "Please",
        "1/0",
        "%kimi fix",
        "%%kimi\nshow me code",
    ]

    screenshot(page, "actions")
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []


def test_commands_are_in_the_palette(page: Page, lab_server: LabServer) -> None:
    name = _write(lab_server.root_dir, "actions_palette.ipynb")
    _open(page, lab_server, name)
    labels = page.evaluate(
        """() => {
          const app = window.jupyterapp;
          return ['kimi-jupyter:ask-about-output', 'kimi-jupyter:explain-error',
                  'kimi-jupyter:insert-code'].map(id => app.commands.hasCommand(id)
                  ? app.commands.label(id) : null);
        }"""
    )
    assert labels == [ASK, EXPLAIN, "Insert code below"]
    page.keyboard.press("Control+Shift+c")
    palette = page.locator("#command-palette")
    palette.locator("input").fill("Kimi")
    for label in (ASK, EXPLAIN, "Insert code below"):
        expect(palette.locator(".lm-CommandPalette-item", has_text=label)).to_have_count(1)
