"""`%%kimi --agent` in a real JupyterLab and Notebook 7 against the simulator's `code-loop`.

The cell asks before each step in its output (Run / Skip / Edit, core widgets in the lab
view's tool slot); the code runs in the notebook's kernel; each step's code, output and
figure stay in the saved turn, drawn by the extension from the record and the steps
payload; "Insert the 2 steps as cells below" puts the code that ran under the cell, one
step of the notebook's own undo.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from pages import open_notebook, run_all, save_notebook, write_notebook
from panelpages import open_in_notebook7
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer, NotebookServer

pytestmark = pytest.mark.browser

PROMPT = "Make the squares plot readable. [[sim: agent=code-loop]]"
EDITED = "print('edited by the user')\n"
STEPS_MIME = "application/vnd.kimi.steps+json"
TURN_MIME = "application/vnd.kimi.turn+json"
ANSWER_TIMEOUT = 60_000

SOURCES_JS = (
    "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
    ".map(cell => cell.getSource())"
)
FIGURES_JS = """turn => Array.from(turn.querySelectorAll('details.jp-KimiTool'))
  .map(panel => ({
    open: panel.open,
    code: panel.querySelector('.jp-KimiTool-code')?.textContent ?? null,
    text: Array.from(panel.querySelectorAll('.jp-KimiTool-preview'))
      .map(pre => pre.textContent).join('\\n'),
    figures: Array.from(panel.querySelectorAll('img.jp-KimiTool-figure'))
      .map(img => ({ width: img.naturalWidth, shown: img.getBoundingClientRect().width,
                     src: img.getAttribute('src').slice(0, 22) })),
  }))"""


def _button(scope: Locator, text: str) -> Locator:
    return scope.locator("button.jupyter-button", has_text=re.compile(rf"^\s*{text}\s*$"))


def _foreign_requests(page: Page, server_url: str) -> list[str]:
    """Every request the page makes to anywhere but the Jupyter server (none expected)."""
    host = urlparse(server_url).netloc
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlparse(request.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(request.url).netloc != host
            else None
        ),
    )
    return foreign


def _check_saved_turn(turn: Locator, *, edited: bool) -> list[dict[str, object]]:
    steps = turn.evaluate(FIGURES_JS)
    assert len(steps) == 2, steps
    for step in steps:
        assert step["open"] is True
        assert "import matplotlib.pyplot as plt" in str(step["code"])
        (figure,) = step["figures"]  # type: ignore[misc]
        assert figure["src"] == "data:image/png;base64,"
        assert figure["width"] > 100, figure
        assert figure["shown"] > 100, figure
    if edited:
        assert str(steps[1]["code"]).startswith(EDITED)
        assert "edited by the user" in str(steps[1]["text"])
    return steps


def test_agent_cell_asks_runs_edits_shows_figures_and_inserts_its_steps(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = write_notebook(
        lab_server.root_dir,
        "agent_cell.ipynb",
        ["%load_ext kimi_jupyter", f"%%kimi --agent\n{PROMPT}"],
    )
    foreign = _foreign_requests(page, lab_server.url)
    cells = open_notebook(page, lab_server, name)
    run_all(page)
    cell = cells.nth(1)

    # step 1: the code to run is shown before anything runs; Run
    live = cell.locator(".jp-KimiLive")
    expect(_button(live, "Run")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(live.locator(".kimi-tool")).to_contain_text("Squares, small labels")
    _button(live, "Run").click()

    # step 2: Edit, change the code, Run edited
    expect(live.locator(".kimi-tool")).to_have_count(2, timeout=ANSWER_TIMEOUT)
    step2 = live.locator(".kimi-tool").nth(1)
    expect(_button(step2, "Edit")).to_be_visible(timeout=ANSWER_TIMEOUT)
    # the first step's figure is on screen while the second asks
    expect(live.locator(".kimi-tool").first.locator("img")).to_have_count(1)
    _button(step2, "Edit").click()
    editor = step2.locator("textarea")
    expect(editor).to_be_visible()
    editor.fill(EDITED + editor.input_value())
    _button(step2, "Run edited").click()

    # the saved turn: each step's code, output and figure; the offer to insert the steps
    turn = cell.locator(".jp-KimiTurn")
    expect(turn).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(turn.locator(".jp-KimiTurn-answer")).to_contain_text("[Kimi simulator]")
    steps = _check_saved_turn(turn, edited=True)

    insert = turn.locator(".jp-KimiTurn-insertSteps")
    expect(insert).to_have_text("Insert the 2 steps as cells below")
    before = page.evaluate(SOURCES_JS)
    insert.click()
    expect(insert).to_have_text("Inserted 2 cells below")
    expect(insert).to_be_disabled()
    after = page.evaluate(SOURCES_JS)
    assert after[:2] == before
    assert after[2:] == [steps[0]["code"], steps[1]["code"]]
    assert len(after) == 4
    # the notebook's own undo (Z: undo cell action) takes the insertion back in one step
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:undo-cell-action')")
    page.wait_for_function(f"() => ({SOURCES_JS})().length === 2")
    assert page.evaluate(SOURCES_JS) == before

    # saved: the record keeps the steps (code as run, no media); the payload the figures
    save_notebook(page)
    saved = json.loads(Path(lab_server.root_dir, name).read_text())
    outputs = saved["cells"][1]["outputs"]
    (bundle,) = [o["data"] for o in outputs if TURN_MIME in o.get("data", {})]
    agent = bundle[TURN_MIME]["meta"]["agent"]
    assert agent["surface"] == "cell"
    assert [s["status"] for s in agent["steps"]] == ["done", "edited_and_done"]
    assert agent["steps"][1]["args"]["code"].startswith(EDITED)
    assert "iVBORw0KGgo" not in json.dumps(bundle[TURN_MIME])
    kept = bundle[STEPS_MIME]["outputs"]
    assert sum(i["kind"] == "image/png" for items in kept.values() for i in items) == 2
    assert "sk-" not in json.dumps(saved)

    # reopened: the same figures and the same offer, drawn from what was saved
    page.reload()
    cells = open_notebook(page, lab_server, name, kernel=False)
    turn = cells.nth(1).locator(".jp-KimiTurn")
    expect(turn).to_be_visible()
    _check_saved_turn(turn, edited=True)
    expect(turn.locator(".jp-KimiTurn-insertSteps")).to_be_enabled()
    assert foreign == []
    assert browser_log.errors == []


def test_agent_cell_in_notebook7_runs_unasked_with_auto(
    page: Page, notebook_server: NotebookServer, browser_log: BrowserLog
) -> None:
    name = write_notebook(
        notebook_server.root_dir,
        "agent_cell_nb7.ipynb",
        ["%load_ext kimi_jupyter", f"%%kimi --agent --auto\n{PROMPT}", "plt.gcf().number"],
    )
    foreign = _foreign_requests(page, notebook_server.url)
    open_in_notebook7(page, notebook_server, name)
    run_all(page)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    turn = cell.locator(".jp-KimiTurn")
    expect(turn).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(cell.locator("button.jupyter-button", has_text="Run")).to_have_count(0)
    _check_saved_turn(turn, edited=False)
    # the steps ran in this kernel: the next cell sees `plt` the step imported
    expect(page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea")).to_contain_text(
        re.compile(r"\d"), timeout=ANSWER_TIMEOUT
    )
    insert = turn.locator(".jp-KimiTurn-insertSteps")
    insert.click()
    expect(insert).to_have_text("Inserted 2 cells below")
    sources = page.evaluate(SOURCES_JS)
    assert len(sources) == 5
    assert "import matplotlib.pyplot as plt" in sources[2]
    assert sources[4] == "plt.gcf().number"
    assert foreign == []
    # Notebook 7.6's own bundle throws this while it loads settings (test_notebook7.py)
    upstream = "Cannot read properties of undefined (reading 'schema')"
    assert [e for e in browser_log.errors if e != upstream] == []
