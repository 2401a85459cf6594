"""The notebook actions and the Kimi panel (issue 12), in JupyterLab 4 and Notebook 7.

"Insert code below" from the palette inserts the last code block of the last answer of the
notebook or the panel, whichever was used last (disabled when that answer has no code);
"Explain this error" and "Ask about this output" open the panel without taking the focus,
scroll the new cell to mid-view, and the panel shows the recorded answer at its end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nbformat.v4 import new_code_cell, new_output
from pages import KERNEL_IDLE_JS, open_chat_panel, open_notebook, screenshot, write_notebook
from panelpages import PANEL_CODE, check_width, open_in_notebook7, show_turn, turn_record
from playwright.sync_api import expect

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from playwright.sync_api import Page

    from .conftest import LabServer, NotebookServer

pytestmark = pytest.mark.browser

TURN_MIME = "application/vnd.kimi.turn+json"
NOTEBOOK_ANSWER = "Try:\n\n```python\nimport math\n```\n\nthen:\n\n```bash\necho hi\n```\n"
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
SOURCES_JS = (
    "() => window.jupyterapp.shell.currentWidget.content.widgets"
    ".map(cell => cell.model.sharedModel.getSource())"
)
INSERT = "kimi-jupyter:insert-code"
ENABLED_JS = f"() => window.jupyterapp.commands.isEnabled('{INSERT}')"
# Whether the top of `selector` in cell `index` is on screen and not covered.
IN_VIEW_JS = """([index, selector]) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index]?.node;
  const node = selector ? cell?.querySelector(selector) : cell;
  if (!node) { return false; }
  const box = node.getBoundingClientRect();
  const y = box.top + 8;
  return y > 0 && y < innerHeight - 8 && node.contains(document.elementFromPoint(box.left + 40, y));
}"""
FOCUS_IN_PANEL_JS = (
    "() => document.querySelector('#kimi-jupyter-chat').contains(document.activeElement)"
)


def _turn_cell(answer: str) -> NotebookNode:
    data = {"text/plain": answer, TURN_MIME: turn_record(answer)}
    output = new_output("execute_result", data=data, execution_count=9)
    return new_code_cell("%%kimi\nshow me code", outputs=[output], execution_count=9)


def _error_notebook(root: Path, name: str) -> str:
    error = new_code_cell("1/0")
    error.metadata["tags"] = ["raises-exception"]
    lines = new_code_cell("for i in range(80):\n    print(i)")
    return write_notebook(root, name, ["%load_ext kimi_jupyter", lines, error])


def _sources(page: Page) -> list[str]:
    result: list[str] = page.evaluate(SOURCES_JS)
    return result


def _palette_insert(page: Page) -> None:
    """Run "Insert code below" from the command palette."""
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:activate-command-palette')")
    palette = page.locator("#command-palette")
    palette.locator("input").fill("Insert code below")
    item = palette.locator(".lm-CommandPalette-item", has_text="Insert code below")
    expect(item).not_to_have_class("lm-CommandPalette-item lm-mod-disabled")
    palette.locator("input").press("Enter")


def test_insert_code_below_from_the_palette_takes_the_last_answer(
    page: Page, lab_server: LabServer
) -> None:
    name = write_notebook(
        lab_server.root_dir, "finish_insert.ipynb", ["x = 1", _turn_cell(NOTEBOOK_ANSWER)]
    )
    cells = open_notebook(page, lab_server, name)
    cells.nth(0).locator(".jp-InputPrompt").click()
    assert page.evaluate(ENABLED_JS)
    _palette_insert(page)  # the notebook was used last: its last answer's last block
    page.wait_for_function(f"() => ({SOURCES_JS})().length === 3")
    assert _sources(page)[1] == "echo hi"

    panel = open_chat_panel(page, name)
    show_turn(page, "Panel code?", f"Here:\n\n```python\n{PANEL_CODE}\n```\n")
    panel.locator(".jp-KimiChat-input").focus()  # the panel was used last (a toast covers it)
    _palette_insert(page)
    page.wait_for_function(f"() => ({SOURCES_JS})().length === 4")
    assert _sources(page) == ["x = 1", "echo hi", PANEL_CODE, "%%kimi\nshow me code"]

    # The panel's last answer has no code: nothing to insert while the panel is in use.
    show_turn(page, "No code?", "Nothing to run here.")
    panel.locator(".jp-KimiChat-input").focus()
    assert not page.evaluate(ENABLED_JS)
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:activate-command-palette')")
    palette = page.locator("#command-palette")
    palette.locator("input").fill("Insert code below")
    item = palette.locator(".lm-CommandPalette-item", has_text="Insert code below")
    expect(item).to_have_class("lm-CommandPalette-item lm-mod-disabled")
    page.keyboard.press("Escape")
    cells.nth(0).locator(".jp-InputPrompt").click()  # back in the notebook: its answer
    assert page.evaluate(ENABLED_JS)


def test_explain_error_and_ask_bring_the_panel_and_the_answer_into_view(
    page: Page, lab_server: LabServer
) -> None:
    name = _error_notebook(lab_server.root_dir, "finish_explain.ipynb")
    cells = open_notebook(page, lab_server, name)
    # A long turn in the panel, read from its top; then the sidebar is closed.
    panel = open_chat_panel(page, name)
    panel.locator(".jp-KimiChat-input").fill("A long one. [[sim: chunks=400]]")
    panel.locator(".jp-KimiChat-input").press("Enter")
    record = panel.locator(".jp-KimiChat-record .jp-KimiTurn-answer")
    expect(record).to_contain_text("Estimated prompt tokens", timeout=20_000)
    # the answer has ended and is laid out taller than the list (under load the rendering
    # lags the text: a list that does not scroll yet is "at the end" at its top)
    expect(panel.locator(".jp-KimiChat-stop")).to_be_disabled(timeout=30_000)
    page.wait_for_function(
        "() => { const list = document.querySelector('#kimi-jupyter-chat .jp-KimiChat-turns');"
        " return list.scrollHeight - list.clientHeight > 200; }"
    )
    page.evaluate(
        "() => { const list = document.querySelector('#kimi-jupyter-chat .jp-KimiChat-turns');"
        " list.scrollTop = 0; list.dispatchEvent(new Event('scroll')); }"
    )
    expect(panel.locator(".jp-KimiChat-jump")).to_be_visible()
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-right-area')")
    expect(panel).to_be_hidden()
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    error = cells.nth(2).locator(ERROR_OUTPUT)
    expect(error).to_contain_text("ZeroDivisionError", timeout=30_000)
    page.wait_for_function(KERNEL_IDLE_JS)

    error.click(button="right")
    page.locator(".lm-Menu .lm-Menu-item", has_text="Explain this error with Kimi").click()
    expect(panel).to_be_visible()
    page.wait_for_function(f"() => ({SOURCES_JS})()[3] === '%kimi fix'")
    assert not page.evaluate(FOCUS_IN_PANEL_JS)  # the notebook keeps the keyboard
    page.wait_for_function(IN_VIEW_JS, arg=[3, ""])  # the new cell, scrolled to mid-view
    # Its answer streams in the cell, in view; once recorded, the panel shows it at the end.
    page.wait_for_function(IN_VIEW_JS, arg=[3, ".jp-KimiTurn-answer"], timeout=30_000)
    expect(cells.nth(3).locator(".jp-KimiTurn-answer")).to_contain_text("ZeroDivisionError")
    turns = panel.locator(".jp-KimiChat-turn")
    expect(turns).to_have_count(2, timeout=20_000)
    expect(turns.nth(1).locator(".jp-KimiChat-prompt")).to_contain_text("raised an error")
    expect(panel.locator(".jp-KimiChat-jump")).to_be_hidden()
    page.wait_for_function(
        """() => {
          const list = document.querySelector('#kimi-jupyter-chat .jp-KimiChat-turns');
          const turn = [...list.querySelectorAll('.jp-KimiChat-turn')].pop();
          const a = list.getBoundingClientRect(), b = turn.getBoundingClientRect();
          return b.top >= a.top - 1 && b.top < a.bottom - 20
            && list.scrollHeight - list.scrollTop - list.clientHeight < 40;
        }"""
    )
    screenshot(page, "panel_finish_explain")

    # Ask about the printed lines: the panel stays, the new cell's editor has the focus.
    cells.nth(1).locator(".jp-OutputArea-output").first.click(button="right")
    page.locator(".lm-Menu .lm-Menu-item", has_text="Ask Kimi about this output").click()
    page.wait_for_function(f"() => ({SOURCES_JS})()[2].startsWith('%%kimi')")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[2].node"
        ".contains(document.activeElement)"
    )
    expect(panel).to_be_visible()
    assert not page.evaluate(FOCUS_IN_PANEL_JS)
    assert page.evaluate(IN_VIEW_JS, [2, ""])


def test_explain_error_and_insert_code_in_notebook7(
    page: Page, notebook_server: NotebookServer
) -> None:
    name = _error_notebook(notebook_server.root_dir, "finish_explain_nb7.ipynb")
    open_in_notebook7(page, notebook_server, name)
    assert not page.evaluate(ENABLED_JS)  # no answer in the notebook: nothing to insert
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    error = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(ERROR_OUTPUT)
    expect(error).to_contain_text("ZeroDivisionError", timeout=30_000)
    page.wait_for_function(KERNEL_IDLE_JS)

    error.click(button="right")
    page.locator(".lm-Menu .lm-Menu-item", has_text="Explain this error with Kimi").click()
    panel = page.locator("#kimi-jupyter-chat")
    expect(panel).to_be_visible()
    check_width(page, panel)
    assert not page.evaluate(FOCUS_IN_PANEL_JS)
    page.wait_for_function(IN_VIEW_JS, arg=[3, ".jp-KimiTurn-answer"], timeout=30_000)
    turns = panel.locator(".jp-KimiChat-turn")
    expect(turns).to_have_count(1, timeout=20_000)
    expect(turns.locator(".jp-KimiChat-prompt")).to_contain_text("raised an error")
    screenshot(page, "panel_finish_explain_notebook7")

    # The panel's answer with code: inserted below the active cell from there.
    show_turn(page, "Panel code?", f"Here:\n\n```python\n{PANEL_CODE}\n```\n")
    panel.locator(".jp-KimiChat-input").focus()
    assert page.evaluate(ENABLED_JS)
    page.evaluate(f"() => window.jupyterapp.commands.execute('{INSERT}')")
    page.wait_for_function(f"() => ({SOURCES_JS})().includes({PANEL_CODE!r})")
