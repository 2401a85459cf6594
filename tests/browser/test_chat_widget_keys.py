"""The notebook ChatWidget's keys: Enter sends, Shift+Enter adds a line, in JupyterLab and in
Notebook 7 (both load the kimi-jupyter extension, which handles the keys); "Enter sends"
stays on screen there, and unticked, Enter adds a line and Ctrl+Enter sends."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from pages import KERNEL_IDLE_JS, open_notebook, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from kimi_jupyter.simulator import Simulator

    from .conftest import LabServer, NotebookServer

pytestmark = pytest.mark.browser

SIM_PREFIX = "[Kimi simulator]"


def _cells(session: str) -> list[str]:
    widget = f"from kimi_jupyter import ChatWidget\nChatWidget({session!r})"
    return ["%load_ext kimi_jupyter", widget]


def _sent_texts(simulator: Simulator, marker: str) -> list[Any]:
    """The last user message of every request that mentions `marker`."""
    found = []
    for body in list(simulator.requests):
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        if users and marker in str(users[-1].get("content")):
            found.append(users[-1]["content"])
    return found


def _wait_sent(simulator: Simulator, marker: str, count: int) -> list[Any]:
    """The messages with `marker` once there are `count` of them (10 s at most)."""
    deadline = time.monotonic() + 10
    while len(sent := _sent_texts(simulator, marker)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return sent


def _type_and_send(page: Page, marker: str) -> None:
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    box = page.locator(".kimi-chat .kimi-chat-input textarea")
    box.wait_for(timeout=30_000)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    box.click()
    box.press_sequentially(f"first line {marker}")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value(f"first line {marker}\nsecond line")
    box.press("Enter")


def _check(page: Page, simulator: Simulator, marker: str) -> None:
    chat = page.locator(".kimi-chat")
    expect(chat.locator(".kimi-chat-input textarea")).to_have_value("", timeout=10_000)
    expect(chat).to_contain_text(SIM_PREFIX, timeout=20_000)
    prompt = chat.locator(".kimi-chat-user").last
    expect(prompt).to_contain_text(f"first line {marker}")
    expect(prompt).to_contain_text("second line")
    # One message with both lines reached the model: Shift+Enter did not send.
    assert _sent_texts(simulator, marker) == [f"first line {marker}\nsecond line"]
    # "Enter sends" stays on screen, ticked; the hidden box tells the kernel that the
    # extension handles the keys (so the trailing-newline fallback is off).
    enter = chat.locator(".kimi-chat-enter")
    expect(enter).to_be_visible()
    expect(enter).to_contain_text("Enter sends")
    expect(enter.locator("input")).to_be_checked()
    expect(chat.locator(".kimi-chat-keys input")).to_be_checked()
    expect(chat.locator(".kimi-chat-keys")).to_be_hidden()

    # Unticked, Enter adds a line (nothing is sent); Ctrl+Enter sends.
    enter.locator("input").click()
    expect(enter.locator("input")).not_to_be_checked()
    expect(chat.locator("button.kimi-chat-send")).to_be_enabled(timeout=20_000)
    box = chat.locator(".kimi-chat-input textarea")
    box.click()
    box.press_sequentially(f"third {marker}")
    box.press("Enter")
    box.press_sequentially("fourth")
    expect(box).to_have_value(f"third {marker}\nfourth")
    time.sleep(0.5)  # what the kernel would have sent by now
    assert _sent_texts(simulator, marker) == [f"first line {marker}\nsecond line"]
    box.press("Control+Enter")
    expect(box).to_have_value("", timeout=10_000)
    sent = _wait_sent(simulator, marker, 2)
    assert sent == [f"first line {marker}\nsecond line", f"third {marker}\nfourth"]
    expect(chat.locator(".kimi-chat-user").last).to_contain_text("fourth", timeout=10_000)


def test_enter_sends_and_shift_enter_adds_a_line_in_lab(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator
) -> None:
    name = write_notebook(lab_server.root_dir, "chat_keys_lab.ipynb", _cells("keys-lab"))
    open_notebook(page, lab_server, name)
    _type_and_send(page, "lab-7f3a")
    _check(page, kimi_simulator, "lab-7f3a")
    screenshot(page, "chat_widget_keys_lab")


def test_enter_sends_and_shift_enter_adds_a_line_in_notebook7(
    page: Page, notebook_server: NotebookServer, kimi_simulator: Simulator
) -> None:
    name = write_notebook(notebook_server.root_dir, "chat_keys_nb7.ipynb", _cells("keys-nb7"))
    page.goto(notebook_server.notebook_url(name))
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.content?.widgets"
    )
    page.wait_for_function(KERNEL_IDLE_JS, timeout=30_000)
    _type_and_send(page, "nb7-52c1")
    _check(page, kimi_simulator, "nb7-52c1")
    screenshot(page, "chat_widget_keys_notebook7")
