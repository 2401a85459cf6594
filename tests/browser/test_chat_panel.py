"""The Kimi chat panel in JupyterLab's right sidebar, against the offline simulator.

The notebook's kernel has not loaded the extension: the panel loads it silently (no
execution count used), then talks to the kernel over the `kimi_jupyter.chat` comm.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pages import ask_in_chat_panel, open_chat_panel, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

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
    markdown: !!live?.querySelector('.jp-KimiChat-liveMarkdown.jp-RenderedMarkdown p'),
    reasoning: live?.querySelector('.jp-KimiChat-reasoning')?.textContent ?? '',
    thinkingOpen: thinking?.open ?? false,
    reasoningVisible: !!live?.querySelector('.jp-KimiChat-reasoning')?.offsetParent,
    status: panel.querySelector('.jp-KimiChat-status')?.textContent ?? '',
    stopEnabled: !panel.querySelector('.jp-KimiChat-stop').disabled,
  };
}"""


def _write(root: Path, name: str, sources: tuple[str, ...] | None = None) -> str:
    if sources is None:
        sources = ("1 + 1", "%%kimi -s shared\nFirst in shared.")
    return write_notebook(root, name, list(sources))


def _open(page: Page, lab_server: LabServer, name: str) -> None:
    """Open `name` alone in a workspace of its own and wait for its kernel to be idle."""
    workspace = Path(name).stem
    page.goto(
        f"{lab_server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={lab_server.token}"
    )
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    _wait_kernel(page, name)


def _wait_kernel(page: Page, name: str) -> str:
    """Wait until the kernel of the open notebook `name` is connected and idle; its id."""
    handle = page.wait_for_function(
        """name => {
          const widget = [...window.jupyterapp.shell.widgets('main')]
            .find(w => w.context?.path === name);
          const k = widget?.sessionContext.session?.kernel;
          return k?.connectionStatus === 'connected' && k.status === 'idle' ? k.id : null;
        }""",
        arg=name,
        timeout=20_000,
    )
    kernel_id: str = handle.json_value()
    return kernel_id


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
    assert later["markdown"], later  # rendered as Markdown while it streams
    assert later["status"] == "Answering…", later
    assert not later["thinkingOpen"], later  # folded once the answer starts
    # The reader's toggle works while the answer streams.
    summary = panel.locator(".jp-KimiChat-live .jp-KimiChat-thinkingSummary")
    summary.click()
    opened = _wait_live(page, "s => s.live && s.thinkingOpen && s.reasoningVisible")
    assert opened["reasoning"]
    screenshot(page, "chat_panel_streaming")

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
    screenshot(page, "chat_panel")

    # Still only the two cells' executions; nothing else ran visibly.
    count = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1)"
        ".sharedModel.execution_count"
    )
    assert count == 2
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []


def test_chat_panel_follows_the_focused_notebooks_kernel(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    root = lab_server.root_dir
    name_a = _write(root, "follow_a.ipynb", ("%%kimi -s a-only\nSeeded in A.",))
    name_b = _write(root, "follow_b.ipynb", ("2 + 2",))
    _open(page, lab_server, name_a)
    kernel_a = _wait_kernel(page, name_a)

    # The panel loads the magic; seed `a-only` in A's kernel, then ask in it from the panel.
    panel = open_chat_panel(page, name_a)
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    page.locator(".jp-OutputArea-output.jp-KimiTurn .jp-KimiTurn-footer").wait_for(timeout=20_000)
    session = panel.locator(".jp-KimiChat-session")
    turns = panel.locator(".jp-KimiChat-turn")
    expect(session.locator("option[value='a-only']")).to_have_count(1, timeout=10_000)
    session.select_option("a-only")
    expect(turns).to_have_count(1, timeout=10_000)
    ask_in_chat_panel(panel, "Asked in a-only from A.")
    answer_a = turns.nth(1).locator(".jp-KimiTurn-answer")
    expect(answer_a).to_contain_text("Received 3 messages", timeout=20_000)

    # Focus B (its own kernel): the panel shows B and B's kernel's sessions only.
    page.evaluate(
        "name => window.jupyterapp.commands.execute('docmanager:open', {path: name})", name_b
    )
    kernel_b = _wait_kernel(page, name_b)
    assert kernel_b != kernel_a
    expect(panel.locator(".jp-KimiChat-notebook")).to_have_text(name_b)
    expect(session).to_be_enabled(timeout=20_000)
    expect(session).to_have_value("default")
    expect(session.locator("option[value='a-only']")).to_have_count(0)
    expect(turns).to_have_count(0)
    ask_in_chat_panel(panel, "Asked from B.")
    expect(turns).to_have_count(1)
    answer_b = turns.first.locator(".jp-KimiTurn-answer")
    expect(answer_b).to_contain_text("Received 1 message (user)", timeout=20_000)
    expect(panel.locator(".jp-KimiChat-prompt")).to_have_text(["Asked from B."])

    # Back to A: its kernel's `a-only`, with the turn asked from the panel, is there again.
    page.locator(".jp-MainAreaWidget-tab, .lm-DockPanel-tabBar .lm-TabBar-tab").filter(
        has_text=name_a
    ).first.click()
    expect(panel.locator(".jp-KimiChat-notebook")).to_have_text(name_a)
    expect(session.locator("option[value='a-only']")).to_have_count(1, timeout=20_000)
    expect(session).to_be_enabled()
    session.select_option("a-only")
    expect(panel.locator(".jp-KimiChat-prompt")).to_have_text(
        ["Seeded in A.", "Asked in a-only from A."], timeout=10_000
    )
    expect(turns.nth(1).locator(".jp-KimiTurn-answer")).to_contain_text("Received 3 messages")
    assert _wait_kernel(page, name_a) == kernel_a
    screenshot(page, "chat_panel_follow")
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []


RAW_IMG = "<img src=x onerror='window.__p1=1'>"
RAW_SCRIPT = "<script>window.__p2=1</script>"
HOSTILE_PROMPT = (
    f"{RAW_IMG} {RAW_SCRIPT} [c](javascript:window.__p3=1) ![t](http://remote.invalid/t.png) {SLOW}"
)
INERT_JS = """() => {
  const panel = document.querySelector('#kimi-jupyter-chat');
  return {
    flags: [1, 2, 3].map(n => window[`__p${n}`] ?? null),
    scripts: panel.querySelectorAll('script').length,
    onerror: panel.querySelectorAll('img[onerror]').length,
    images: [...panel.querySelectorAll('img')].map(img => img.getAttribute('src')),
    jsLinks: [...panel.querySelectorAll('[href]')]
      .filter(a => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
  };
}"""
INERT = {"flags": [None, None, None], "scripts": 0, "onerror": 0, "images": [], "jsLinks": 0}


def test_chat_panel_keeps_hostile_answers_inert(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    name = _write(lab_server.root_dir, "chat_hostile.ipynb", ("1 + 1",))
    _open(page, lab_server, name)
    panel = open_chat_panel(page, name)
    ask_in_chat_panel(panel, HOSTILE_PROMPT)
    expect(panel.locator(".jp-KimiChat-prompt")).to_have_text(HOSTILE_PROMPT)

    # While streaming, rendered as Markdown: the raw HTML is text, the image a plain link.
    live = _wait_live(
        page,
        "s => s.live && s.markdown && s.answer.includes('</script>')"
        " && s.answer.includes('Remote image: t')",
    )
    assert RAW_IMG in live["answer"], live
    assert RAW_SCRIPT in live["answer"], live
    assert page.evaluate(INERT_JS) == INERT

    # Done: the rendered turn shows the raw HTML as literal text, and nothing acts.
    record = panel.locator(".jp-KimiChat-turn").last.locator(".jp-KimiChat-record")
    answer = record.locator(".jp-KimiTurn-answer.jp-RenderedMarkdown")
    expect(answer).to_contain_text("Estimated prompt tokens", timeout=20_000)
    text = answer.inner_text()
    assert RAW_IMG in text, text
    assert RAW_SCRIPT in text, text
    expect(answer.locator(".jp-KimiTurn-remoteImage")).to_have_text("Remote image: t")
    answer.get_by_text("c", exact=True).click()
    page.wait_for_timeout(300)
    assert page.evaluate(INERT_JS) == INERT
    screenshot(page, "chat_panel_hostile")
    assert [url for url in requests if "remote.invalid" in url] == []
    assert [url for url in requests if re.search(r"/files/x(\?|$)", url)] == []
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []
