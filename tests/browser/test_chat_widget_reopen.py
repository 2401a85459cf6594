"""The notebook ChatWidget, finished (issue 12): each answer has Copy (the lab extension
renders its turn record), the thinking is folded above the answer, and a notebook reopened
without a kernel shows the saved conversation, not a widget-manager error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pages import (
    KERNEL_IDLE_JS,
    open_notebook,
    refuse_kernels,
    save_notebook,
    screenshot,
    write_notebook,
)
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from kimi_jupyter.simulator import Simulator

    from .conftest import LabServer, NotebookServer

pytestmark = pytest.mark.browser

SIM_PREFIX = "[Kimi simulator]"


def _cells(session: str) -> list[str]:
    return [
        "%load_ext kimi_jupyter",
        f"from kimi_jupyter import ChatWidget\nChatWidget({session!r})",
    ]


# A turn with a code block, recorded before the chat is shown (the simulator writes prose).
_CODE_TURN = (
    "from kimi_jupyter.conversation import Exchange, Message\n"
    "from kimi_jupyter.kernel import KernelContext\n"
    "from kimi_jupyter.turn import Turn\n"
    "KernelContext.current().sessions.get({session!r}).record(Exchange(Message('user', 'code?'),"
    " Turn(answer='Here:\\n\\n```python\\nprint(42)\\n```\\n', model='kimi-k2.6')))\n"
)


def _ask(page: Page, text: str) -> None:
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    box = page.locator(".kimi-chat .kimi-chat-input textarea")
    box.wait_for(timeout=30_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    box.fill(text)
    page.locator(".kimi-chat .kimi-chat-send").click()


def _thinking_first(host: Locator, thinking: str, answer: str) -> bool:
    """Whether the thinking comes before the answer in the page."""
    return bool(
        host.evaluate(
            "(node, [t, a]) => { const x = node.querySelector(t), y = node.querySelector(a);"
            " return !!x && !!y && !!(x.compareDocumentPosition(y) & 4); }",
            [thinking, answer],
        )
    )


def test_copy_thinking_above_and_reopening_without_a_kernel_in_lab(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator
) -> None:
    load, show = _cells("finish-lab")
    cells = [load, _CODE_TURN.format(session="finish-lab") + show]
    name = write_notebook(lab_server.root_dir, "chat_finish_lab.ipynb", cells)
    open_notebook(page, lab_server, name)
    _ask(page, "Answer me, marker f1n1sh.")
    chat = page.locator(".kimi-chat.widget-box")
    answer = chat.locator(".kimi-chat-answer .jp-KimiTurn").last
    expect(answer).to_contain_text(SIM_PREFIX, timeout=20_000)
    code = chat.locator(".kimi-chat-answer .jp-KimiTurn").first
    expect(code.locator(".jp-KimiTurn-copyCode")).to_have_count(1)  # Copy on the code block
    expect(answer.locator(".jp-KimiTurn-copyAnswer")).to_be_visible()  # Copy on the answer
    expect(page.locator(".kimi-chat-saved")).to_be_hidden()  # the widget is live: no copy
    assert _thinking_first(answer, ".jp-KimiTurn-thinking", ".jp-KimiTurn-answer")
    screenshot(page, "chat_widget_finish_live")

    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    save_notebook(page)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    page.locator(".jp-Notebook").wait_for(state="detached")
    blocked = refuse_kernels(page)
    page.evaluate(
        "name => window.jupyterapp.commands.execute('docmanager:open', { path: name })", name
    )
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Error Starting Kernel", timeout=20_000)
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_contain_text("Select Kernel")
    dialog.get_by_role("button", name="No Kernel").click()
    dialog.wait_for(state="detached")
    assert blocked
    saved = page.locator(".kimi-chat-saved")
    expect(saved).to_be_visible(timeout=20_000)
    expect(saved).to_contain_text("Answer me, marker f1n1sh.")
    turn = saved.locator(".kimi-turn").last
    assert _thinking_first(turn, "details.kimi-chat-thinking", ":scope > p")
    assert saved.locator("details.kimi-chat-thinking").get_attribute("open") is None  # folded
    expect(saved).to_contain_text(SIM_PREFIX)
    page.wait_for_timeout(3_000)  # the widget manager gives up on the missing model by then
    area = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea")
    shown = area.inner_text()
    assert "Error displaying widget" not in shown
    assert "Loading widget" not in shown
    screenshot(page, "chat_widget_finish_reopened")


def _check_saved(page: Page) -> None:
    saved = page.locator(".kimi-chat-saved")
    expect(saved).to_be_visible(timeout=20_000)
    expect(saved).to_contain_text("Answer me, marker")
    expect(saved).to_contain_text(SIM_PREFIX)
    page.wait_for_timeout(3_000)  # the widget manager gives up on the missing model by then
    area = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea").first
    shown = area.inner_text()
    assert "Error displaying widget" not in shown
    assert "Loading widget" not in shown


def test_copy_and_reopening_without_a_kernel_in_notebook7(
    page: Page, notebook_server: NotebookServer, kimi_simulator: Simulator
) -> None:
    name = write_notebook(notebook_server.root_dir, "chat_finish_nb7.ipynb", _cells("finish-7"))
    page.goto(notebook_server.notebook_url(name))
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.content?.widgets"
    )
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    _ask(page, "Answer me, marker nb7f1n.")
    answer = page.locator(".kimi-chat.widget-box .kimi-chat-answer .jp-KimiTurn")
    expect(answer).to_contain_text(SIM_PREFIX, timeout=20_000)
    expect(answer.locator(".jp-KimiTurn-copyAnswer")).to_be_visible()
    expect(page.locator(".kimi-chat-saved")).to_be_hidden()
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    save_notebook(page)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    blocked = refuse_kernels(page)
    page.goto(notebook_server.notebook_url(name))
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets")
    _check_saved(page)
    assert blocked
    screenshot(page, "chat_widget_finish_reopened_nb7")
