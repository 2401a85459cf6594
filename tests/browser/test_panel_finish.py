"""The Kimi panel finished (issue 12), in JupyterLab 4 and Notebook 7, against the simulator.

An empty panel says what it does (three starters, the kernel's name); it opens at least
360 px wide; it follows a streaming answer until the reader scrolls up, then offers "Jump to
latest"; a disabled Stop looks disabled; code blocks take the full width with Copy and
Insert as icons on hover. Code in panel answers comes from turn records handed to the
panel's model (the simulator never writes a code fence). The notebook actions' side is in
test_panel_finish_actions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pages import open_chat_panel, open_notebook, screenshot, write_notebook
from panelpages import (
    PANEL_CODE,
    STOP_JS,
    STOP_SELECTOR,
    check_stop_disabled,
    check_width,
    hovered_style,
    open_in_notebook7,
    show_turn,
)
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer, NotebookServer

pytestmark = pytest.mark.browser

SIM_PREFIX = "[Kimi simulator]"
STARTERS = [
    "What does the last output show? @last",
    "Explain the last error and how to fix it. @error",
    "Suggest a next step for this notebook.",
]
TRANSPARENT = "rgba(0, 0, 0, 0)"

CODE_BLOCK_JS = """() => {
  const block = document.querySelector('#kimi-jupyter-chat .jp-KimiTurn-codeBlock');
  const pre = block.querySelector('pre');
  const style = (node, pseudo) => getComputedStyle(node, pseudo);
  const button = node => ({
    label: node.getAttribute('aria-label'),
    opacity: style(node).opacity,
    width: node.getBoundingClientRect().width,
    fontSize: style(node).fontSize,
    icon: style(node, '::before').maskImage,
    iconWidth: style(node, '::before').width,
  });
  return {
    preWidth: pre.getBoundingClientRect().width,
    answerWidth: block.closest('.jp-KimiTurn-answer').getBoundingClientRect().width,
    turnWidth: block.closest('.jp-KimiChat-turn').getBoundingClientRect().width,
    prePadding: parseFloat(style(pre).paddingRight),
    preBorder: style(pre).borderTopWidth,
    preBackground: style(pre).backgroundColor,
    codeBackground: style(pre.querySelector('code')).backgroundColor,
    buttons: [...block.querySelectorAll(':scope > button')].map(button),
  };
}"""

SCROLL_JS = """() => {
  const list = document.querySelector('#kimi-jupyter-chat .jp-KimiChat-turns');
  return { top: list.scrollTop, height: list.scrollHeight, view: list.clientHeight,
           gap: list.scrollHeight - list.scrollTop - list.clientHeight,
           jump: !document.querySelector('#kimi-jupyter-chat .jp-KimiChat-jump').hidden,
           live: !!list.querySelector('.jp-KimiChat-live') };
}"""


def _check_empty_panel(page: Page, panel: Locator) -> None:
    """What an empty panel shows: a line, three starters, the kernel's display name."""
    empty = panel.locator(".jp-KimiChat-empty")
    expect(empty).to_be_visible()
    expect(panel.locator(".jp-KimiChat-turns")).to_be_hidden()
    expect(empty.locator(".jp-KimiChat-intro")).to_contain_text("Ask Kimi about this notebook")
    expect(empty.locator(".jp-KimiChat-starter")).to_have_text(STARTERS)
    kernel = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext"
                           ".kernelDisplayName")  # fmt: skip
    assert kernel.startswith("Python 3")
    expect(empty.locator(".jp-KimiChat-kernel")).to_have_text(f"Kernel: {kernel}")


def _check_code_blocks(page: Page, panel: Locator) -> dict[str, Any]:
    """The first code block: full width, one background, icon buttons shown on hover."""
    shown: dict[str, Any] = page.evaluate(CODE_BLOCK_JS)
    assert abs(shown["preWidth"] - shown["answerWidth"]) <= 1, shown
    assert shown["answerWidth"] >= shown["turnWidth"] - 1, shown
    assert shown["prePadding"] <= 12, shown  # no room kept for buttons beside the code
    assert shown["preBorder"] == "0px", shown
    assert shown["preBackground"] != TRANSPARENT, shown
    assert shown["codeBackground"] == TRANSPARENT, shown  # one background, not two
    labels = [button["label"] for button in shown["buttons"]]
    assert labels == ["Copy code", "Insert code below"], shown
    for button in shown["buttons"]:
        assert button["opacity"] == "0", shown
        assert button["width"] <= 28, shown
        assert button["fontSize"] == "0px", shown  # the label is for screen readers
        assert button["icon"].startswith('url("data:image/svg+xml'), shown
        assert button["iconWidth"] == "16px", shown
    panel.locator(".jp-KimiTurn-codeBlock").first.hover()
    expect(panel.locator(".jp-KimiTurn-copyCode").first).to_have_css("opacity", "1")
    expect(panel.locator(".jp-KimiTurn-insertCode").first).to_have_css("opacity", "1")
    return shown


def test_empty_panel_width_stop_and_starters_in_lab(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = write_notebook(lab_server.root_dir, "finish_empty.ipynb", ["1 + 1"])
    open_notebook(page, lab_server, name)
    panel = open_chat_panel(page, name)
    _check_empty_panel(page, panel)
    check_width(page, panel)
    check_stop_disabled(page)
    screenshot(page, "panel_finish_empty")

    panel.locator(".jp-KimiChat-starter").nth(2).click()
    turn = panel.locator(".jp-KimiChat-turn")
    expect(turn).to_have_count(1)
    expect(turn.locator(".jp-KimiChat-prompt")).to_have_text(STARTERS[2])
    expect(turn.locator(".jp-KimiTurn-answer")).to_contain_text(SIM_PREFIX, timeout=20_000)
    expect(panel.locator(".jp-KimiChat-empty")).to_be_hidden()
    expect(panel.locator(".jp-KimiChat-input")).to_have_value("")
    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []


def test_empty_panel_width_and_code_blocks_in_notebook7(
    page: Page, notebook_server: NotebookServer
) -> None:
    name = write_notebook(notebook_server.root_dir, "finish_nb7.ipynb", ["1 + 1"])
    open_in_notebook7(page, notebook_server, name)
    panel = open_chat_panel(page, name)
    _check_empty_panel(page, panel)
    check_width(page, panel)
    check_stop_disabled(page)
    show_turn(page, "Some code?", f"Here:\n\n```python\n{PANEL_CODE}\n```\n")
    _check_code_blocks(page, panel)
    screenshot(page, "panel_finish_notebook7")


def test_code_blocks_use_the_full_width_with_icons_in_lab(
    page: Page, lab_server: LabServer
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab_server.url)
    name = write_notebook(lab_server.root_dir, "finish_code.ipynb", ["1 + 1"])
    cells = open_notebook(page, lab_server, name)
    panel = open_chat_panel(page, name)
    show_turn(page, "Some code?", f"Here:\n\n```python\n{PANEL_CODE}\n```\n\nor `inline`.\n")
    shown = _check_code_blocks(page, panel)
    screenshot(page, "panel_finish_code")

    copy = panel.locator(".jp-KimiTurn-copyCode").first
    copy.click()
    expect(copy).to_have_attribute("data-feedback", "copied")
    ticked = page.evaluate(
        "() => getComputedStyle(document.querySelector('#kimi-jupyter-chat"
        " .jp-KimiTurn-copyCode'), '::before').maskImage"
    )
    assert ticked.startswith('url("data:image/svg+xml')
    assert ticked != shown["buttons"][0]["icon"]  # a tick in place of the copy icon
    # Reading the clipboard needs a focused document: retried, a rejection read as "not yet".
    page.bring_to_front()
    page.wait_for_function(
        "code => navigator.clipboard.readText().then(text => text === code, () => false)",
        arg=PANEL_CODE,
        timeout=10_000,
    )
    panel.locator(".jp-KimiTurn-insertCode").first.click()
    expect(cells).to_have_count(2)
    sources = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map(cell => cell.model.sharedModel.getSource())"
    )
    assert sources == ["1 + 1", PANEL_CODE]


@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_panel_follows_a_streaming_answer_until_the_reader_scrolls_up(
    page: Page, app: str, request: pytest.FixtureRequest
) -> None:
    if app == "lab":
        lab_server: LabServer = request.getfixturevalue("lab_server")
        name = write_notebook(lab_server.root_dir, "finish_follow.ipynb", ["1 + 1"])
        open_notebook(page, lab_server, name)
    else:
        server: NotebookServer = request.getfixturevalue("notebook_server")
        name = write_notebook(server.root_dir, "finish_follow_nb7.ipynb", ["1 + 1"])
        open_in_notebook7(page, server, name)
    panel = open_chat_panel(page, name)
    panel.locator(".jp-KimiChat-input").fill(
        "Stream a long answer. [[sim: chunks=900 reasoning_chunks=20 delay_ms=12]]"
    )
    panel.locator(".jp-KimiChat-input").press("Enter")

    def wait_scroll(predicate: str, timeout: float = 20_000) -> dict[str, Any]:
        handle = page.wait_for_function(
            f"() => {{ const s = ({SCROLL_JS})(); return ({predicate})(s) ? s : null; }}",
            timeout=timeout,
            polling=50,
        )
        result: dict[str, Any] = handle.json_value()
        return result

    # Followed: the answer outgrows the list and its end comes into view after each
    # render (a sample may fall between a render and the scroll that follows it).
    first = wait_scroll("s => s.live && s.height > s.view + 300 && s.gap < 40")
    assert not first["jump"], first
    stop = page.evaluate(STOP_JS)
    assert not stop["disabled"], stop
    assert stop["opacity"] == 1, stop
    assert stop["cursor"] != "not-allowed", stop
    hovered = hovered_style(page, STOP_SELECTOR, STOP_JS)
    assert hovered["background"] != stop["background"], (stop, hovered)  # enabled: it reacts
    later = wait_scroll(f"s => s.live && s.height > {first['height'] + 200} && s.gap < 40")
    assert not later["jump"], later

    # The reader scrolls up: the list stays put while the answer grows; "Jump to latest".
    box = panel.locator(".jp-KimiChat-turns").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -500)
    paused = wait_scroll("s => s.jump && s.gap > 200")
    jump = panel.locator(".jp-KimiChat-jump")
    expect(jump).to_be_visible()
    expect(jump).to_have_text("Jump to latest")
    grown = wait_scroll(f"s => s.live && s.height > {paused['height'] + 200}")
    assert abs(grown["top"] - paused["top"]) <= 1, (paused, grown)
    assert grown["jump"], grown
    screenshot(page, f"panel_finish_paused_{app}")

    # Jump: back at the end, and following again while it streams.
    jump.click()
    jumped = wait_scroll("s => s.gap < 40 && !s.jump")
    if jumped["live"]:
        wait_scroll(f"s => !s.live || (s.height > {jumped['height'] + 100} && s.gap < 40)")
    done = wait_scroll("s => !s.live && s.gap < 40", timeout=30_000)
    assert not done["jump"], done
    check_stop_disabled(page)
