"""The Kimi chat panel in JupyterLab's right sidebar, against the offline simulator.

The notebook's kernel has not loaded the extension: the panel loads it silently (no
execution count used), then talks to the kernel over the `kimi_jupyter.chat` comm.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
SIM_PREFIX = "[Kimi simulator]"
SLOW = "[[sim: chunks=160 reasoning_chunks=40 delay_ms=15]]"

LIVE_JS = """() => {
  const panel = document.querySelector('#kimi-jupyter-chat');
  const turns = [...panel.querySelectorAll('.jp-KimiChat-turn')];
  const last = turns[turns.length - 1];
  const live = last?.querySelector('.jp-KimiChat-live');
  const thinking = live?.querySelector('.jp-KimiChat-thinking');
  return {
    turns: turns.length,
    live: !!live,
    answer: live?.querySelector('.jp-KimiChat-liveAnswer')?.textContent ?? '',
    reasoning: live?.querySelector('.jp-KimiChat-reasoning')?.textContent ?? '',
    thinkingOpen: thinking?.open ?? false,
    reasoningVisible: !!live?.querySelector('.jp-KimiChat-reasoning')?.offsetParent,
    status: panel.querySelector('.jp-KimiChat-status')?.textContent ?? '',
    stopEnabled: !panel.querySelector('.jp-KimiChat-stop').disabled,
  };
}"""


def _write(root: Path, name: str) -> str:
    cells = [new_code_cell("1 + 1"), new_code_cell("%%kimi -s shared\nFirst in shared.")]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, root / name)
    return name


def _wait_live(page: Page, predicate: str, timeout: float = 20_000) -> dict:
    handle = page.wait_for_function(
        f"() => {{ const s = ({LIVE_JS})(); return ({predicate})(s) ? s : null; }}",
        timeout=timeout,
        polling=30,
    )
    return handle.json_value()


def test_chat_panel_streams_renders_and_shares_sessions(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = _write(lab_server.root_dir, "chat_panel.ipynb")
    page.goto(
        f"{lab_server.url}/lab/workspaces/chat_panel/tree/{name}?reset&token={lab_server.token}"
    )
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets")
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.first.wait_for()
    page.wait_for_function(
        "() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;"
        " return k?.connectionStatus === 'connected' && k.status === 'idle'; }",
        timeout=20_000,
    )

    # The command is in the palette; running it opens the panel, which loads the extension.
    assert page.evaluate("() => window.jupyterapp.commands.hasCommand('kimi-jupyter:open-chat')")
    expect(page.locator(".jp-SideBar.jp-mod-right [data-id='kimi-jupyter-chat']")).to_be_visible()
    page.evaluate("() => window.jupyterapp.commands.execute('kimi-jupyter:open-chat')")
    panel = page.locator("#kimi-jupyter-chat")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-KimiChat-notebook")).to_have_text(name)
    session = panel.locator(".jp-KimiChat-session")
    expect(session).to_be_enabled(timeout=20_000)
    expect(session).to_have_value("default")

    # The news toast sits over the panel's bottom corner: use the keyboard.
    panel.locator(".jp-KimiChat-input").fill(f"Stream this slowly. {SLOW}")
    panel.locator(".jp-KimiChat-input").press("Enter")

    thinking = _wait_live(page, "s => s.live && s.reasoning.length > 0 && s.stopEnabled")
    assert thinking["thinkingOpen"], thinking  # open while the model thinks
    first = _wait_live(page, f"s => s.live && s.answer.includes('{SIM_PREFIX}')")
    later = _wait_live(page, f"s => s.live && s.answer.length > {len(first['answer'])}")
    assert later["answer"].startswith(SIM_PREFIX)
    assert later["status"] == "Answering…", later
    assert not later["thinkingOpen"], later  # folded once the answer starts
    # The reader's toggle works while the answer streams.
    summary = panel.locator(".jp-KimiChat-live .jp-KimiChat-thinkingSummary")
    summary.click()
    opened = _wait_live(page, "s => s.live && s.thinkingOpen && s.reasoningVisible")
    assert opened["reasoning"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_panel_streaming.png"))

    record = panel.locator(".jp-KimiChat-turn").last.locator(".jp-KimiChat-record")
    answer = record.locator(".jp-KimiTurn-answer.jp-RenderedMarkdown")
    expect(answer).to_contain_text("Estimated prompt tokens", timeout=20_000)
    assert answer.inner_text().startswith(f"{SIM_PREFIX} Received 1 message (user)")
    expect(record.locator(".jp-KimiTurn-footer")).to_contain_text("kimi-k2.6")
    expect(panel.locator(".jp-KimiChat-live")).to_have_count(0)
    expect(panel.locator(".jp-KimiChat-stop")).to_be_disabled()
    record.locator(".jp-KimiTurn-thinking summary").click()
    expect(record.locator(".jp-KimiTurn-reasoning")).to_be_visible()

    # The silent load used no execution count: the first cell run is [1].
    cells.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")  # `%%kimi -s shared` works: the magic is loaded
    expect(cells.nth(0).locator(".jp-InputPrompt")).to_have_text("[1]:", timeout=20_000)
    shared_turn = cells.nth(1).locator(".jp-OutputArea-output.jp-KimiTurn .jp-KimiTurn-footer")
    shared_turn.wait_for(timeout=20_000)
    expect(cells.nth(1).locator(".jp-InputPrompt")).to_have_text("[2]:")

    # The panel refreshed its sessions after the cell ran; pick `shared` and follow up.
    expect(session.locator("option[value='shared']")).to_have_count(1, timeout=10_000)
    session.select_option("shared")
    expect(panel.locator(".jp-KimiChat-turn")).to_have_count(1, timeout=10_000)
    expect(panel.locator(".jp-KimiChat-prompt").first).to_have_text("First in shared.")
    panel.locator(".jp-KimiChat-input").fill("A follow-up from the panel.")
    panel.locator(".jp-KimiChat-input").press("Enter")
    follow = panel.locator(".jp-KimiChat-turn").nth(1).locator(".jp-KimiTurn-answer")
    expect(follow).to_contain_text("Received 3 messages", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "chat_panel.png"))

    # Still only the two cells' executions; nothing else ran visibly.
    count = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1)"
        ".sharedModel.execution_count"
    )
    assert count == 2
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []
