"""Tool calls in a real JupyterLab: the live view's panels and Run / Skip, the saved output,
and the chat panel, against the simulator (which calls the tool named by `[[sim: tool=…]]`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import nbformat
import pytest
from pages import open_notebook, run_all, save_notebook, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

TURN_MIME = "application/vnd.kimi.turn+json"
FIRST_ANSWER = 30_000  # kernel start, %load_ext, two model steps
TOOLS = '''from kimi_jupyter import tool
sent = []

@tool
def lookup_population(city: str) -> int:
    """The population of a city."""
    return 2148000

@tool(confirm=True)
def send_report(to: str) -> str:
    """Email the report (asks first)."""
    sent.append(to)
    return "<img src=x onerror='window.__tool=1'> sent to " + to
'''
# Slow enough that the live view is seen before the saved output replaces it.
SLOW = "chunks=60 reasoning_chunks=10 delay_ms=15"


def _errors(log: BrowserLog) -> list[str]:
    return [t for k, t in log.console if k == "error" and "kimi" in t.lower()] + log.errors


def _saved_panel(cell: Locator) -> Locator:
    return cell.locator(".jp-OutputArea-output.jp-KimiTurn .jp-KimiTurn-tools details.jp-KimiTool")


def test_a_tool_call_shows_live_then_in_the_saved_output(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    prompt = f"How many people live in Paris? [[sim: tool=lookup_population {SLOW}]]"
    cells_src = ["%load_ext kimi_jupyter", TOOLS, f"%%kimi --tools lookup_population\n{prompt}"]
    name = write_notebook(lab_server.root_dir, "tools_live.ipynb", cells_src)
    cells = open_notebook(page, lab_server, name, timeout=FIRST_ANSWER)
    run_all(page)
    cell = cells.nth(2)

    live = cell.locator(".kimi-live .kimi-tools .kimi-tool")
    title = live.locator(".jupyter-widget-Collapse-header")
    expect(title).to_have_text(re.compile(r"🔧 lookup_population · ok · \d+\.\d\d s"),
                               timeout=FIRST_ANSWER)  # fmt: skip
    expect(cell.locator(".jp-InputPrompt")).to_have_text("[*]:")  # seen while it runs
    title.click()  # open it: the arguments and the result, as text
    expect(live).to_contain_text('"city": "Paris"')
    expect(live).to_contain_text("2148000")
    screenshot(page, "tools_live")

    panel = _saved_panel(cell)
    expect(panel.locator("summary")).to_have_text(
        re.compile(r"🔧 lookup_population · ok · \d+\.\d\d s"), timeout=FIRST_ANSWER
    )
    answer = cell.locator(".jp-KimiTurn-answer")
    expect(answer).to_contain_text("Tool lookup_population returned: 2148000")
    expect(cell.locator(".kimi-live")).to_have_count(0)
    assert panel.get_attribute("open") is None
    save_notebook(page)

    notebook = nbformat.read(lab_server.root_dir / name, as_version=4)
    record = notebook.cells[2].outputs[0].data[TURN_MIME]
    assert [(r["name"], r["status"], r["preview"]) for r in record["tool_results"]] == [
        ("lookup_population", "ok", "2148000")
    ]

    cells = open_notebook(page, lab_server, name, timeout=FIRST_ANSWER)  # a reload
    panel = _saved_panel(cells.nth(2))
    expect(panel.locator("summary")).to_contain_text("🔧 lookup_population · ok")
    panel.locator("summary").click()
    expect(panel.locator(".jp-KimiTool-arguments")).to_have_text('{\n  "city": "Paris"\n}')
    expect(panel.locator(".jp-KimiTool-preview")).to_have_text("2148000")
    screenshot(page, "tools_saved")
    assert _errors(browser_log) == []


@pytest.mark.parametrize(("button", "status"), [("Run", "ok"), ("Skip", "skipped")])
def test_confirm_in_the_live_view(
    page: Page, lab_server: LabServer, browser_log: BrowserLog, button: str, status: str
) -> None:
    prompt = f"Send the report. [[sim: tool=send_report {SLOW}]]"
    cells_src = ["%load_ext kimi_jupyter", TOOLS, f"%%kimi --tools send_report\n{prompt}",
                 "print('sent:', sent)"]  # fmt: skip
    name = write_notebook(lab_server.root_dir, f"tools_confirm_{status}.ipynb", cells_src)
    cells = open_notebook(page, lab_server, name, timeout=FIRST_ANSWER)
    run_all(page)
    cell = cells.nth(2)

    live = cell.locator(".kimi-live .kimi-tool")
    title = live.locator(".jupyter-widget-Collapse-header")
    expect(title).to_have_text("🔧 send_report · waiting for you", timeout=FIRST_ANSWER)
    expect(live.locator(".kimi-tool-confirm")).to_be_visible()  # opened to ask
    expect(live).to_contain_text('"to": "Paris"')
    expect(cell.locator(".kimi-live .kimi-status")).to_contain_text("waiting for you")
    screenshot(page, f"tools_confirm_asking_{status}")
    live.locator(".kimi-tool-confirm button", has_text=button).click()

    panel = _saved_panel(cell)
    expect(panel.locator("summary")).to_contain_text(f"🔧 send_report · {status}",
                                                     timeout=FIRST_ANSWER)  # fmt: skip
    answer = cell.locator(".jp-KimiTurn-answer")
    printed = cells.nth(3).locator(".jp-OutputArea-output")
    if status == "ok":
        expect(answer).to_contain_text("Tool send_report returned:")
        expect(answer).to_contain_text("sent to Paris")
        expect(printed).to_have_text("sent: ['Paris']")
        panel.locator("summary").click()
        expect(panel.locator(".jp-KimiTool-preview")).to_contain_text("<img src=x onerror=")
    else:
        expect(answer).to_contain_text("the user chose not to run this call")
        expect(printed).to_have_text("sent: []")
    assert cell.locator("img[onerror]").count() == 0
    assert page.evaluate("() => window.__tool ?? null") is None
    assert _errors(browser_log) == []


PANEL_LIVE_TOOL = "#kimi-jupyter-chat .jp-KimiChat-live .jp-KimiTool"


def test_chat_panel_shows_tool_calls_and_asks_to_confirm(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = write_notebook(lab_server.root_dir, "tools_panel.ipynb", [TOOLS])
    cells = open_notebook(page, lab_server, name, timeout=FIRST_ANSWER)
    page.evaluate("() => window.jupyterapp.commands.execute('kimi-jupyter:open-chat')")
    panel = page.locator("#kimi-jupyter-chat")
    expect(panel.locator(".jp-KimiChat-session")).to_be_enabled(timeout=20_000)
    cells.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")  # define the tools (the panel loaded the extension)
    expect(cells.nth(0).locator(".jp-InputPrompt")).to_have_text("[1]:", timeout=20_000)

    ask = panel.locator(".jp-KimiChat-input")
    ask.fill(f"How many live in Paris? [[sim: tool=lookup_population {SLOW}]]")
    ask.press("Enter")
    record = panel.locator(".jp-KimiChat-turn").nth(0).locator(".jp-KimiChat-record")
    tool = record.locator(".jp-KimiTurn-tools details.jp-KimiTool")
    expect(tool.locator("summary")).to_have_text(
        re.compile(r"🔧 lookup_population · ok · \d+\.\d\d s"), timeout=FIRST_ANSWER
    )
    expect(record.locator(".jp-KimiTurn-answer")).to_contain_text(
        "Tool lookup_population returned: 2148000"
    )
    tool.locator("summary").click()
    expect(tool.locator(".jp-KimiTool-preview")).to_have_text("2148000")

    ask.fill(f"Send the report. [[sim: tool=send_report {SLOW}]]")
    ask.press("Enter")
    live = page.locator(PANEL_LIVE_TOOL)
    expect(live.locator("summary")).to_have_text("🔧 send_report · waiting for you",
                                                 timeout=FIRST_ANSWER)  # fmt: skip
    expect(panel.locator(".jp-KimiChat-status")).to_have_text("Waiting for you: run send_report?")
    assert live.evaluate("node => node.open")
    expect(live.locator(".jp-KimiTool-arguments")).to_have_text('{\n  "to": "Paris"\n}')
    screenshot(page, "tools_panel_confirm")
    live.locator(".jp-KimiTool-run").click()

    second = panel.locator(".jp-KimiChat-turn").nth(1).locator(".jp-KimiChat-record")
    sent = second.locator(".jp-KimiTurn-tools details.jp-KimiTool")
    expect(sent.locator("summary")).to_contain_text("🔧 send_report · ok", timeout=FIRST_ANSWER)
    expect(second.locator(".jp-KimiTurn-answer")).to_contain_text("sent to Paris")
    sent.locator("summary").click()
    expect(sent.locator(".jp-KimiTool-preview")).to_contain_text("<img src=x onerror=")
    assert panel.locator("img[onerror]").count() == 0
    assert page.evaluate("() => window.__tool ?? null") is None
    screenshot(page, "tools_panel")
    assert _errors(browser_log) == []
