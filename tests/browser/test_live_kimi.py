"""`%%kimi` cells run in a real JupyterLab with a python3 kernel against the simulator.

The lab server's environment points every kernel at the session's simulator (see
conftest.py). Each test writes a notebook, opens it in a workspace of its own, runs it and
watches the live ipywidgets view, then the static output the turn renderer draws.
"""

from __future__ import annotations

import json
import re
import struct
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from pages import open_notebook, refuse_kernels, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import (
        ElementHandle,
        Error,
        Locator,
        Page,
        WebSocket,
    )

    from kimi_jupyter.simulator import Simulator

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

TURN_MIME = "application/vnd.kimi.turn+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SIM_PREFIX = "[Kimi simulator]"
STOPPED = "Stopped: partial answer"
RUNNING = "[*]:"
# Kernel start, `%load_ext` and the first bytes of the answer.
FIRST_TEXT_TIMEOUT = 20_000

# One snapshot of a cell, taken in the page in one go, so conditions on several parts of
# it (the prompt says `[*]` AND the answer has text) hold at the same instant.
SNAPSHOT_JS = """cell => {
  const live = cell.querySelector('.jp-KimiLive');
  const details = live?.querySelector('.jp-KimiTurn-thinking');
  const reasoning = details?.querySelector('.jp-KimiTurn-reasoning');
  return {
    prompt: cell.querySelector('.jp-InputPrompt')?.textContent ?? '',
    live: live !== null,
    answer: live?.querySelector('.jp-KimiLive-answer')?.textContent ?? '',
    thinking: reasoning?.textContent ?? '',
    thinkingShown: details ? !details.hidden && getComputedStyle(details).display !== 'none'
      : false,
    thinkingOpen: details?.open ?? false,
    // a closed <details> keeps its content laid out but not rendered (content-visibility)
    thinkingVisible: reasoning ? reasoning.checkVisibility() : false,
    title: details?.querySelector('summary')?.textContent ?? '',
    status: live?.querySelector('.kimi-status')?.textContent ?? '',
    turn: cell.querySelector('.jp-KimiTurn') !== null,
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
  };
}"""


def _notebook(root: Path, name: str, *prompts: str) -> str:
    return write_notebook(
        root, name, ["%load_ext kimi_jupyter", *(f"%%kimi\n{p}" for p in prompts)]
    )


def _open(page: Page, lab_server: LabServer, name: str, *, kernel: bool = True) -> Locator:
    return open_notebook(page, lab_server, name, kernel=kernel, timeout=FIRST_TEXT_TIMEOUT)


def _run_all(page: Page) -> None:
    # Not awaited: the command's promise resolves only when every cell has finished.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def _wait(page: Page, cell: ElementHandle, predicate: str, timeout: float = 10_000) -> Any:
    """Wait until `predicate(snapshot)` holds for `cell`; return that snapshot."""
    try:
        handle = page.wait_for_function(
            f"cell => {{ const s = ({SNAPSHOT_JS})(cell); return ({predicate})(s) ? s : null; }}",
            arg=cell,
            timeout=timeout,
            polling=50,
        )
    except Exception:
        print("last snapshot:", _snapshot(cell))  # for the failure report
        raise
    return handle.json_value()


def _snapshot(cell: ElementHandle) -> Any:
    return cell.evaluate(SNAPSHOT_JS)


def _save(page: Page) -> None:
    """Ctrl+S in the notebook, then wait until the document is clean on the server."""
    page.locator(".jp-Notebook").first.focus()
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => { const panel = window.jupyterapp.shell.currentWidget;"
        " return panel.context.model.dirty === false && !panel.title.className"
        ".includes('jp-mod-dirty'); }",
        timeout=10_000,
    )


def _read(root: Path, name: str) -> tuple[str, Any]:
    text = (root / name).read_text(encoding="utf-8")
    return text, nbformat.reads(text, as_version=4)


def _kernels(lab_server: LabServer) -> list[str]:
    request = urllib.request.Request(
        f"{lab_server.url}/api/kernels", headers={"Authorization": f"token {lab_server.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return [str(kernel["id"]) for kernel in json.load(response)]


def _page_errors(log: BrowserLog) -> list[str]:
    errors = [text for kind, text in log.console if kind == "error" and "kimi" in text.lower()]
    return errors + log.errors


def test_answer_streams_live_then_turn_renderer_takes_over(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = _notebook(
        lab_server.root_dir,
        "live_stream.ipynb",
        "Stream this slowly. [[sim: chunks=160 reasoning_chunks=20 delay_ms=15]]",
    )
    cells = _open(page, lab_server, name)
    cell = cells.nth(1).element_handle()
    # Shift+Enter twice: run the `%load_ext` cell, then the `%%kimi` cell.
    cells.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")

    running = f"s => s.prompt === '{RUNNING}' && s.live"
    first = _wait(page, cell, f"s => ({running})(s) && s.answer.includes('{SIM_PREFIX}')",
                  timeout=FIRST_TEXT_TIMEOUT)  # fmt: skip
    # More text arrives while the cell is still executing: this is a stream, not one paint.
    later = _wait(page, cell, f"s => ({running})(s) && s.answer.length > {len(first['answer'])}")
    assert later["answer"].startswith(SIM_PREFIX)
    assert later["status"].startswith("answering ·"), later["status"]
    screenshot(page, "live_stream")

    turn = cells.nth(1).locator(".jp-OutputArea-output.jp-KimiTurn")
    turn.locator(".jp-KimiTurn-footer").wait_for(timeout=20_000)
    answer_view = turn.locator(".jp-KimiTurn-answer.jp-RenderedMarkdown")
    expect(answer_view).to_contain_text("Estimated prompt tokens")  # rendered after the footer
    final = _snapshot(cell)
    assert re.fullmatch(r"\[\d+\]:", final["prompt"]), final["prompt"]
    assert not final["live"], "the live widget view is still on screen"
    assert final["outputs"] == 1
    answer = answer_view.inner_text()
    assert answer.startswith(f"{SIM_PREFIX} Received 1 message (user)")
    assert "Stream this slowly." in answer
    assert len(answer) > len(later["answer"])
    assert turn.locator(".jp-KimiTurn-footer").inner_text().startswith("kimi-k2.6 · ")
    assert _page_errors(browser_log) == []


def test_thinking_pane_opens_folds_and_toggles_while_streaming(
    page: Page, lab_server: LabServer
) -> None:
    name = _notebook(
        lab_server.root_dir,
        "live_thinking.ipynb",
        "Think first. [[sim: chunks=180 reasoning_chunks=80 delay_ms=15]]",
    )
    cells = _open(page, lab_server, name)
    cell = cells.nth(1).element_handle()
    _run_all(page)
    running = f"s.prompt === '{RUNNING}' && s.live"

    thinking = _wait(
        page,
        cell,
        f"s => {running} && s.thinkingShown && s.thinkingOpen && s.thinkingVisible"
        " && s.thinking.includes('The user sent') && s.answer === ''",
        timeout=FIRST_TEXT_TIMEOUT,
    )
    assert thinking["status"].startswith("thinking"), thinking["status"]

    folded = _wait(
        page,
        cell,
        f"s => {running} && s.answer.includes('{SIM_PREFIX}') && !s.thinkingOpen"
        " && !s.thinkingVisible && s.title.startsWith('Thinking ·')",
    )
    assert re.fullmatch(r"Thinking · \d+\.\d s · \d+ tokens", folded["title"]), folded["title"]
    accordion = cells.nth(1).locator(".jp-KimiLive .jp-KimiTurn-thinking")
    box = accordion.bounding_box()
    assert box is not None
    assert box["height"] < 60, f"the folded pane is {box['height']}px high, not one line"

    header = accordion.locator("summary")
    header.click()
    opened = _wait(page, cell, f"s => {running} && s.thinkingOpen && s.thinkingVisible")
    assert "The user sent" in opened["thinking"]
    screenshot(page, "live_thinking")
    header.click()
    _wait(page, cell, f"s => {running} && !s.thinkingOpen && !s.thinkingVisible")

    turn = cells.nth(1).locator(".jp-KimiTurn")
    turn.locator(".jp-KimiTurn-footer").wait_for(timeout=20_000)
    details = turn.locator("details.jp-KimiTurn-thinking")
    assert details.get_attribute("open") is None
    assert details.locator("summary").inner_text().startswith("Thinking · ")


def test_saved_output_survives_kernel_shutdown_and_reopen(
    page: Page, lab_server: LabServer, kimi_simulator: Simulator, browser_log: BrowserLog
) -> None:
    name = _notebook(
        lab_server.root_dir,
        "live_saved.ipynb",
        "Remember this answer. [[sim: chunks=30 reasoning_chunks=10]]",
    )
    cells = _open(page, lab_server, name)
    _run_all(page)
    cells.nth(1).locator(".jp-KimiTurn .jp-KimiTurn-footer").wait_for(timeout=FIRST_TEXT_TIMEOUT)
    _save(page)

    kernel_id = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id"
    )
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    assert kernel_id not in _kernels(lab_server)
    page.evaluate("() => window.jupyterapp.commands.execute('application:close')")
    page.locator(".jp-Notebook").wait_for(state="detached")

    text, notebook = _read(lab_server.root_dir, name)
    assert WIDGET_MIME not in text
    assert kimi_simulator.api_key not in text
    assert "widget-state" not in text
    outputs = notebook.cells[1].outputs
    assert [sorted(output.data) for output in outputs] == [
        sorted(["text/html", "text/plain", TURN_MIME])
    ]
    record = outputs[0].data[TURN_MIME]
    assert record["status"] == "done"
    assert record["answer"].startswith(SIM_PREFIX)
    assert record["reasoning"]

    # Reopen with kernels unavailable: the saved output renders from the file alone.
    blocked = refuse_kernels(page)
    widget_manager_errors: list[str] = []  # ipywidgets' manager throws without a session

    def on_error(error: Error) -> None:
        if "@jupyter-widgets/jupyterlab-manager" in (error.stack or ""):
            widget_manager_errors.append(str(error))

    page.on("pageerror", on_error)
    cells = _open(page, lab_server, name, kernel=False)
    turn = cells.nth(1).locator(".jp-KimiTurn")
    expect(turn.locator(".jp-KimiTurn-answer")).to_contain_text("Remember this answer.")
    assert turn.locator(".jp-KimiTurn-answer").inner_text().startswith(SIM_PREFIX)
    summary = turn.locator("details.jp-KimiTurn-thinking summary")
    # JupyterLab says it could not start a kernel, then offers others: the user picks none.
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Error Starting Kernel")
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_contain_text("Select Kernel")
    dialog.get_by_role("button", name="No Kernel").click()
    dialog.wait_for(state="detached")
    assert blocked, "no kernel start was attempted (and refused)"
    reasoning = turn.locator(".jp-KimiTurn-reasoning")
    assert summary.inner_text().startswith("Thinking · ")
    assert not reasoning.is_visible()
    summary.click()
    reasoning.wait_for(state="visible")
    assert reasoning.inner_text() == record["reasoning"]
    screenshot(page, "live_saved_reopened")
    summary.click()
    reasoning.wait_for(state="hidden")
    assert (
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel ?? null"
        )
        is None
    )
    unexpected = [e for e in _page_errors(browser_log) if e not in widget_manager_errors]
    assert unexpected == []


# The simulator quotes the prompt (first 200 chars) into its answer, escaping `"` as `\"`;
# so the first img uses single quotes, which survive quoting and would run if unsanitized.
HOSTILE_PROMPT = (
    "<img src=x onerror='window.__xss1=1'> <script>window.__xss2=1</script> "
    "[c](javascript:window.__xss3=1) ![t](http://remote.invalid/t.png) "
    '<img src=y onerror="window.__xss1=1"> '
    "[[sim: chunks=150 reasoning_chunks=10 delay_ms=15]]"
)
XSS_FLAGS_JS = "() => [1, 2, 3].map(n => window[`__xss${n}`] ?? null)"


def _click_links(area: Locator) -> int:
    """Click every link named `c` in `area` (the javascript: link, if it is one)."""
    links = area.locator("a", has_text=re.compile(r"^c$"))
    for index in range(links.count()):
        links.nth(index).click()
    return links.count()


def test_hostile_answer_is_inert_live_and_after_reopen(page: Page, lab_server: LabServer) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    name = _notebook(lab_server.root_dir, "live_hostile.ipynb", HOSTILE_PROMPT)
    cells = _open(page, lab_server, name)
    cell = cells.nth(1).element_handle()
    _run_all(page)

    # The whole quoted prompt has been painted while the answer still streams.
    live = _wait(
        page,
        cell,
        f"s => s.prompt === '{RUNNING}' && s.live && s.answer.includes('Text in the last')",
        timeout=FIRST_TEXT_TIMEOUT,
    )
    assert "window.__xss2=1" in live["answer"]  # the script's text is shown, not run
    live_answer = cells.nth(1).locator(".kimi-live")
    assert live_answer.locator("script, img[onerror], [href^='javascript' i]").count() == 0
    _click_links(live_answer)
    assert _snapshot(cell)["prompt"] == RUNNING
    screenshot(page, "live_hostile_streaming")
    assert page.evaluate(XSS_FLAGS_JS) == [None, None, None]

    turn = cells.nth(1).locator(".jp-KimiTurn")
    expect(turn.locator(".jp-KimiTurn-answer")).to_contain_text("Text in the last", timeout=20_000)
    assert turn.locator("script").count() == 0
    _click_links(turn)
    assert page.evaluate(XSS_FLAGS_JS) == [None, None, None]
    _save(page)

    cells = _open(page, lab_server, name)  # a reload: fresh window, output from the file
    turn = cells.nth(1).locator(".jp-KimiTurn")
    answer = turn.locator(".jp-KimiTurn-answer")
    expect(answer).to_contain_text("Text in the last")
    # Raw HTML shows as literal text (like the Python renderer): no img, no /files/x fetch.
    assert answer.locator("img").count() == 0
    assert "<img src=x onerror='window.__xss1=1'>" in answer.inner_text()
    assert "<img src=y onerror=" in answer.inner_text()
    assert answer.locator("script, img[onerror], [href^='javascript' i]").count() == 0
    _click_links(turn)
    screenshot(page, "live_hostile_reopened")
    assert page.evaluate(XSS_FLAGS_JS) == [None, None, None]
    assert [url for url in requests if "remote.invalid" in url] == []
    assert [url for url in requests if re.search(r"/files/[xy](\?|$)", url)] == []


STOP_PROMPT = "Stop me. [[sim: chunks=3000 reasoning_chunks=20 delay_ms=10]]"  # ~30 s in full
STOPS_WITHIN = 4_000
INTERRUPT_BUTTON = ".jp-NotebookPanel-toolbar [data-jp-item-name='interrupt'] button"


def _start_slow_answer(page: Page, lab_server: LabServer, name: str) -> Locator:
    cells = _open(page, lab_server, _notebook(lab_server.root_dir, name, STOP_PROMPT))
    _run_all(page)
    _wait(page, cells.nth(1).element_handle(),
          f"s => s.prompt === '{RUNNING}' && s.answer.includes('Estimated prompt tokens')",
          timeout=FIRST_TEXT_TIMEOUT)  # fmt: skip
    return cells.nth(1)


def _assert_stopped(cell: Locator, page: Page, clicked: float) -> None:
    """The cell ends soon with the stop notice and a partial answer, and nothing else."""
    turn = cell.locator(".jp-OutputArea-output.jp-KimiTurn")
    expect(turn.locator(".jp-KimiTurn-notice")).to_have_text(STOPPED, timeout=STOPS_WITHIN)
    elapsed = time.monotonic() - clicked
    answer = turn.locator(".jp-KimiTurn-answer")
    expect(answer).to_contain_text("Estimated prompt tokens")
    assert answer.inner_text().startswith(SIM_PREFIX)
    page.wait_for_function(
        "node => /^\\[\\d+\\]:$/.test(node.textContent)",
        arg=cell.locator(".jp-InputPrompt").element_handle(),
    )
    outputs = cell.locator(".jp-OutputArea-output")
    assert outputs.count() == 1, outputs.all_inner_texts()
    text = cell.locator(".jp-OutputArea").inner_text()
    assert "Traceback" not in text
    assert "KeyboardInterrupt" not in text
    assert cell.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert elapsed < STOPS_WITHIN / 1000  # the full answer takes ~30 s


def _click_subshell(frame: bytes | str) -> str | None:
    """For a widget click in a v1 binary kernel-websocket frame: its subshell id, or ""."""
    if isinstance(frame, str):
        return None
    count = struct.unpack_from("<Q", frame)[0]
    offsets = [*struct.unpack_from(f"<{count}Q", frame, 8), len(frame)]
    parts = [frame[offsets[i] : offsets[i + 1]] for i in range(count)]
    header, content = json.loads(parts[1]), json.loads(parts[4] or b"{}")
    data = content.get("data") if isinstance(content.get("data"), dict) else {}
    clicks = ({"event": "click"}, {"stop": True})  # a core Button's, the lab live view's
    if header.get("msg_type") != "comm_msg" or data.get("content") not in clicks:
        return None
    return header.get("subshell_id") or ""


def test_stop_button_keeps_partial_answer(page: Page, lab_server: LabServer) -> None:
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    cell = _start_slow_answer(page, lab_server, "live_stop.ipynb")
    kernel_socket = next(ws for ws in sockets if "/api/kernels/" in ws.url and not ws.is_closed())
    try:
        with kernel_socket.expect_event(
            "framesent", lambda frame: _click_subshell(frame) is not None, timeout=5_000
        ) as sent:
            cell.locator(".kimi-live button", has_text="Stop").click()
        clicked = time.monotonic()
        # JupyterLab sends the click on a subshell, so a kernel could handle it mid-cell.
        assert _click_subshell(sent.value), "the click was sent on the main shell"
        _assert_stopped(cell, page, clicked)
    finally:
        screenshot(page, "live_stop_button")
        if cell.locator(".kimi-live").count():  # not stopped: end the ~30 s answer now
            page.locator(INTERRUPT_BUTTON).click()
            cell.locator(".jp-KimiTurn").wait_for(timeout=STOPS_WITHIN)


def test_kernel_interrupt_keeps_partial_answer(page: Page, lab_server: LabServer) -> None:
    cell = _start_slow_answer(page, lab_server, "live_interrupt.ipynb")
    page.locator(INTERRUPT_BUTTON).click()  # the toolbar's ■
    _assert_stopped(cell, page, time.monotonic())
    screenshot(page, "live_interrupt")
