"""The notebook ChatWidget, two items of issue 12, in JupyterLab 4 and Notebook 7: a tool
call waiting for Run / Skip shows the tool's docstring and its arguments, one a row (a value
pretty-printed, not one escaped line), and `@fig` with `@last` for one figure sends it once.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pytest
from pages import KERNEL_IDLE_JS, open_notebook, screenshot, write_notebook
from playwright.sync_api import expect

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Error, Locator, Page

    from kimi_jupyter.simulator import Simulator

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

APPS = ["lab_server", "notebook_server"]
UPSTREAM_ERROR = "Cannot read properties of undefined (reading 'schema')"
UPSTREAM_SCRIPT = "/static/notebook/notebook_core."
ANSWER = 60_000  # kernel start, %load_ext, model steps, on a busy 2-core machine
DOC_FIRST_LINE = "Move the chosen rows of a table to the archive."
TOOLS = f'''from kimi_jupyter import tool
archived = []

@tool(confirm=True)
def archive_rows(table: str, ids: list[int], limit: int = 10) -> str:
    """{DOC_FIRST_LINE}

    Args:
        table: the table's name.
        ids: the rows to move.
        limit: at most this many rows.
    """
    archived.append((table, ids))
    return f"archived {{len(ids)}} row(s) of {{table}}, call #{{len(archived)}}"
'''
# Drawn after the chat is shown, so it is the last cell that ran (`@last`) when asked.
FIGURE = """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 3))
ax.set_title("one figure")
ax.plot([1, 3, 2], color="tab:red")
plt.show()
"""


def _chat(session: str) -> str:
    return f"from kimi_jupyter import ChatWidget\nChatWidget({session!r})"


def _open(page: Page, server: LabServer, name: str) -> Locator:
    """Open `name` in JupyterLab or Notebook 7 (a `NotebookServer`), its kernel idle."""
    if hasattr(server, "notebook_url"):
        page.goto(server.notebook_url(name))
        page.wait_for_function(
            "() => window.jupyterapp?.name === 'Jupyter Notebook'"
            " && window.jupyterapp.shell.currentWidget?.content?.widgets"
        )
        page.wait_for_function(KERNEL_IDLE_JS, timeout=ANSWER)
        return page.locator(".jp-Notebook .jp-Cell")
    return open_notebook(page, server, name, timeout=ANSWER)


def _run_all(page: Page, cells: Locator) -> Locator:
    """Run every cell; once all have run, the chat's message box."""
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    box = page.locator(".kimi-chat .kimi-chat-input textarea")
    box.wait_for(timeout=ANSWER)
    expect(cells.last.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"),
                                                                timeout=ANSWER)  # fmt: skip
    page.wait_for_function(KERNEL_IDLE_JS, timeout=ANSWER)
    return box


def _send(page: Page, box: Locator, text: str) -> None:
    box.fill(text)
    page.locator(".kimi-chat button.kimi-chat-send").click()


def _watch_errors(page: Page, log: BrowserLog) -> Callable[[], list[str]]:
    """What went wrong in the page: console errors that mention kimi, and uncaught errors
    but Notebook 7's own (it throws one while loading its settings, with or without us)."""
    upstream: list[str] = []

    def on_error(error: Error) -> None:
        stack = error.stack or ""
        if str(error) == UPSTREAM_ERROR and UPSTREAM_SCRIPT in stack and "kimi" not in stack:
            upstream.append(str(error))

    page.on("pageerror", on_error)

    def errors() -> list[str]:
        found = [t for k, t in log.console if k == "error" and "kimi" in t.lower()]
        page_errors = list(log.errors)
        for known in upstream:
            page_errors.remove(known)
        return found + page_errors

    return errors


def _rows(table: Locator) -> list[dict[str, Any]]:
    """Each argument row: its name, its value's text, where it is drawn and how it wraps."""
    rows: list[dict[str, Any]] = table.evaluate(
        "t => [...t.querySelectorAll('tr')].map(tr => {"
        " const pre = tr.querySelector('td pre'), box = tr.getBoundingClientRect();"
        " return {name: tr.querySelector('th').innerText, value: pre.innerText,"
        " top: box.top, bottom: box.bottom, height: pre.getBoundingClientRect().height,"
        " whiteSpace: getComputedStyle(pre).whiteSpace}; })"
    )
    return rows


@pytest.mark.parametrize("app", APPS)
def test_the_tool_question_shows_the_docstring_and_the_arguments_readably(
    page: Page, request: pytest.FixtureRequest, browser_log: BrowserLog, app: str
) -> None:
    errors = _watch_errors(page, browser_log)
    server: LabServer = request.getfixturevalue(app)
    cells_src = ["%load_ext kimi_jupyter", TOOLS, _chat(f"tool-doc-{app}")]
    name = write_notebook(server.root_dir, f"chat_tool_doc_{app}.ipynb", cells_src)
    box = _run_all(page, _open(page, server, name))
    _send(page, box, "Archive the old rows. [[sim: tool=archive_rows]]")

    chat = page.locator(".kimi-chat.widget-box")
    tool = chat.locator(".kimi-live .kimi-tool")
    expect(tool.locator(".jupyter-widget-Collapse-header")).to_have_text(
        "🔧 archive_rows · waiting for you", timeout=ANSWER
    )
    doc = tool.locator(".kimi-tool-doc")
    expect(doc).to_be_visible(timeout=20_000)  # the question replaces the plain arguments
    assert doc.inner_text().splitlines()[0] == DOC_FIRST_LINE
    expect(doc).to_contain_text("ids: the rows to move.")  # the whole docstring, as written
    assert doc.evaluate("d => getComputedStyle(d).whiteSpace") == "pre-wrap"
    assert len(doc.inner_text().splitlines()) >= 5  # its line breaks are kept

    rows = _rows(tool.locator("table"))
    assert [(r["name"], r["value"]) for r in rows] == [
        ("table", "Paris"),
        ("ids", "[\n  3\n]"),  # a list: indented JSON, one item a line
        ("limit", "3"),
    ]
    # One row each, top to bottom, and the indented value drawn on several lines.
    assert all(a["bottom"] <= b["top"] + 0.5 for a, b in pairwise(rows))
    assert {r["whiteSpace"] for r in rows} <= {"pre", "pre-wrap"}
    assert rows[1]["height"] > 2 * rows[0]["height"]
    shown = tool.inner_text()
    assert [bad for bad in ("\\n", '\\"', '{"table"') if bad in shown] == []  # no raw JSON
    buttons = tool.locator(".kimi-tool-confirm button")
    expect(buttons).to_have_text(["Run", "Skip"])
    expect(buttons.first).to_be_visible()
    expect(buttons.last).to_be_visible()
    screenshot(page, f"chat_widget_tool_question_{app}")

    buttons.filter(has_text="Run").click()
    record = chat.locator(".kimi-chat-answer .jp-KimiTurn").last
    answer = record.locator(".jp-KimiTurn-answer")
    expect(answer).to_contain_text("Tool archive_rows returned:", timeout=ANSWER)
    expect(answer).to_contain_text("archived 1 row(s) of Paris, call #1")  # it ran, once
    ran = record.locator(".jp-KimiTurn-tools details.jp-KimiTool")
    expect(ran.locator("summary")).to_contain_text("🔧 archive_rows · ok")
    expect(chat.locator(".kimi-live")).to_have_count(0)
    assert errors() == []


def _last_user_content(simulator: Simulator, marker: str) -> list[Any]:
    """The content parts of the last request whose last user message mentions `marker`."""
    for body in reversed(list(simulator.requests)):
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        if isinstance(content, list) and marker in str(content):
            return content
    raise AssertionError(f"no request mentions {marker!r}")


@pytest.mark.parametrize("app", APPS)
def test_fig_and_last_for_the_same_figure_send_it_once(
    page: Page,
    request: pytest.FixtureRequest,
    kimi_simulator: Simulator,
    browser_log: BrowserLog,
    app: str,
) -> None:
    errors = _watch_errors(page, browser_log)
    server: LabServer = request.getfixturevalue(app)
    cells_src = ["%load_ext kimi_jupyter", _chat(f"fig-last-{app}"), FIGURE]
    name = write_notebook(server.root_dir, f"chat_fig_last_{app}.ipynb", cells_src)
    cells = _open(page, server, name)
    box = _run_all(page, cells)
    expect(cells.nth(2).locator(".jp-OutputArea-output img")).to_have_count(1)  # shown once

    marker = f"[{app}]"
    _send(page, box, f"Compare @fig and @last {marker}")
    chat = page.locator(".kimi-chat.widget-box")
    answer = chat.locator(".kimi-chat-answer .jp-KimiTurn-answer").last
    expect(answer).to_contain_text("[Kimi simulator]", timeout=ANSWER)
    said = answer.inner_text()
    # The simulator counts what arrived in the last user message, and lists each image.
    assert re.search(r"text parts?, 1 image, 0 videos\.", said), said
    assert "Image 1: PNG" in said
    assert "Image 2:" not in said
    content = _last_user_content(kimi_simulator, marker)
    assert [p["type"] for p in content].count("image_url") == 1
    asked = chat.locator(".kimi-chat-user").last
    expect(asked).to_contain_text("@fig")
    expect(asked).to_contain_text("@last")
    screenshot(page, f"chat_widget_fig_last_{app}")
    assert errors() == []
