"""Helpers for the chat panel's browser tests: hand the panel a finished turn, read and
hover its styles, check its width and a disabled Stop, open a notebook in Notebook 7."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pages import KERNEL_IDLE_JS

if TYPE_CHECKING:
    from conftest import NotebookServer
    from playwright.sync_api import Locator, Page

PANEL_JS = "[...window.jupyterapp.shell.widgets('right')].find(w => w.id === 'kimi-jupyter-chat')"
PANEL_CODE = "import math\nprint(math.sqrt(2))  # the square root of two, printed"
STOP_SELECTOR = "#kimi-jupyter-chat .jp-KimiChat-stop"

# Hands the panel's model a finished turn (keeping the ones shown) until it is rendered:
# the kernel's own list of turns may arrive after the first hand-over and replace it.
SHOW_TURN_JS = f"""([prompt, record]) => {{
  const panel = {PANEL_JS};
  const model = panel.model;
  if (!model.turns.some(turn => turn.prompt === prompt)) {{
    const kept = model.turns.map(turn => ({{ prompt: turn.prompt, record: turn.record }}));
    const turns = [...kept, {{ prompt, record }}];
    model.apply({{ type: 'turns', session: model.session, turns }});
    return false;
  }}
  const last = [...panel.node.querySelectorAll('.jp-KimiChat-turn')].pop();
  return !!last?.querySelector('.jp-KimiTurn-footer');
}}"""

STOP_JS = """() => {
  const stop = document.querySelector('#kimi-jupyter-chat .jp-KimiChat-stop');
  const style = getComputedStyle(stop);
  return { disabled: stop.disabled, opacity: parseFloat(style.opacity),
           cursor: style.cursor, background: style.backgroundColor };
}"""


def turn_record(answer: str) -> dict[str, Any]:
    """A finished turn record with `answer`, as the kernel lists it."""
    return {
        "version": 1,
        "session": "default",
        "id": "f1n15hed0001",
        "model": "kimi-k2.6",
        "answer": answer,
        "reasoning": "",
        "tool_calls": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        "timings": {"first_token": 0.1, "reasoning": 0.0, "total": 0.5},
        "finish_reason": "stop",
        "status": "done",
        "error": None,
        "meta": {},
    }


def show_turn(page: Page, prompt: str, answer: str) -> None:
    """Show a finished turn `prompt` → `answer` at the end of the open panel."""
    page.wait_for_function(SHOW_TURN_JS, arg=[prompt, turn_record(answer)], polling=250)


def open_in_notebook7(page: Page, server: NotebookServer, name: str) -> None:
    """Open `name` in Notebook 7 and wait until its kernel is idle."""
    page.goto(server.notebook_url(name))
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.content?.widgets"
    )
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)


def hovered_style(page: Page, selector: str, style_js: str) -> Any:
    """`style_js()` while `selector` is held in :hover by DevTools (toasts cannot cover it)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        cdp.send("CSS.forcePseudoState", {"nodeId": node, "forcedPseudoClasses": ["hover"]})
        return page.evaluate(style_js)
    finally:
        cdp.detach()


def check_width(page: Page, panel: Locator) -> None:
    """At least 360 px wide, and all of it on screen (not clipped by the sidebar)."""
    box = panel.bounding_box()
    assert box is not None
    viewport = page.viewport_size
    assert viewport is not None
    assert box["width"] >= 360, box
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, box
    picker = panel.locator(".jp-KimiChat-session").bounding_box()  # its header's far end
    assert picker is not None
    assert picker["x"] + picker["width"] <= box["x"] + box["width"], (picker, box)


def check_stop_disabled(page: Page) -> None:
    """A disabled Stop is faded, has a not-allowed cursor and no hover colour."""
    before = page.evaluate(STOP_JS)
    assert before["disabled"], before
    assert before["opacity"] <= 0.5, before
    assert before["cursor"] == "not-allowed", before
    hovered = hovered_style(page, STOP_SELECTOR, STOP_JS)
    assert hovered == before, (before, hovered)
