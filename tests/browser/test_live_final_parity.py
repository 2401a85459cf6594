"""The live `%%kimi` view and the saved turn look the same, and the kernel says busy.

JupyterLab 4 and Notebook 7 (the session's servers and browser, conftest.py). The parity
cell drives the very `LiveView` that `%%kimi` uses with a Markdown answer the simulator
cannot write (headings, a table, a code fence), holds the last live frame on screen, then
leaves the static bundle as `display.show_turn` does; the test reads the computed styles of
the same elements in both. The status test samples `kernel.status` while a `%%kimi` cell
streams from the simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pages import open_notebook, run_all, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import LabServer, NotebookServer

pytestmark = pytest.mark.browser

ANSWER = (
    "## Results\n\nThe **mean** per group, then the code.\n\n"
    "| name | count |\n|---|---:|\n| north | 12 |\n| south | 7 |\n\n"
    "```python\nimport pandas as pd\ndf.groupby('name').mean()\n```\n\n"
    "A closing paragraph with `inline code`.\n\nLast line"
)
THINKING = "First line of thought.\nSecond line of thought.\nThird line of thought.\n"
PARITY_CELL = f"""
import time
from IPython.display import display
from kimi_jupyter.events import ContentDelta, ReasoningDelta
from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.render.widget import LiveView
from kimi_jupyter.turn import Turn

live = LiveView()
handle = display(live.widget, display_id=True)
live.add(ReasoningDelta({THINKING!r}))
live.repaint()
live.accordion.selected_index = 0  # keep the thinking open, as the final one is opened
live.add(ContentDelta({ANSWER!r}))
live.repaint(final=True)
time.sleep(6)  # the last live frame, held for the test
live.finish("done")
live.close()
handle.update(static_bundle(Turn(answer={ANSWER!r}, reasoning={THINKING!r},
                                 model="kimi-k2.6"), "default"), raw=True)
"""
# The computed styles compared, per element (a selector inside the answer).
STYLE_JS = """([root, selector]) => {
  const node = root.querySelector(selector);
  if (!node) return null;
  const s = getComputedStyle(node);
  const keys = ['font-size', 'line-height', 'font-family', 'font-weight', 'color',
    'border-top-width', 'border-top-style', 'border-collapse', 'background-color',
    'text-align', 'display'];
  return Object.fromEntries(keys.map(k => [k, s.getPropertyValue(k)]));
}"""
ELEMENTS = ("h2", "p", "strong", "table", "th", "td", "pre", "p code")
LIVE = ".kimi-live .kimi-answer"
FINAL = ".jp-KimiTurn .jp-KimiTurn-answer"


def _styles(page: Page, cell: Any, root: str) -> dict[str, Any]:
    handle = cell.query_selector(root)
    assert handle is not None, f"no {root}"
    return {sel: page.evaluate(STYLE_JS, [handle, sel]) for sel in ELEMENTS}


def _parity(page: Page, cells: Any) -> None:
    cell = cells.nth(0).element_handle()
    run_all(page)
    page.wait_for_function(
        "cell => cell.querySelector('.kimi-live .kimi-answer table')", arg=cell, timeout=30_000
    )
    page.wait_for_timeout(500)  # the tail's paint has settled: the last live frame
    live = _styles(page, cell, LIVE)
    thinking = page.evaluate(
        "cell => { const n = cell.querySelector('.kimi-live .kimi-thinking');"
        " const s = getComputedStyle(n); return [n.getBoundingClientRect().height,"
        " parseFloat(s.lineHeight), parseFloat(s.fontSize)]; }",
        cell,
    )
    page.wait_for_function(f"cell => cell.querySelector('{FINAL} table')", arg=cell, timeout=30_000)
    final = _styles(page, cell, FINAL)
    assert all(live.values()), live
    assert all(final.values()), final
    assert live == final, {k: (live[k], final[k]) for k in ELEMENTS if live[k] != final[k]}
    height, line_height, font_size = thinking
    assert line_height < 1.8 * font_size, thinking  # single-spaced
    assert height < 4.5 * line_height, thinking  # three lines, not six


def test_live_and_final_views_match_in_jupyterlab(page: Page, lab_server: LabServer) -> None:
    name = write_notebook(lab_server.root_dir, "parity.ipynb", [PARITY_CELL, "1"])
    cells = open_notebook(page, lab_server, name)
    _parity(page, cells)


def test_live_and_final_views_match_in_notebook7(
    page: Page, notebook_server: NotebookServer
) -> None:
    name = write_notebook(notebook_server.root_dir, "parity7.ipynb", [PARITY_CELL, "1"])
    page.goto(notebook_server.notebook_url(name))
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.sessionContext.session?.kernel?.status"
        " === 'idle'",
        timeout=30_000,
    )
    _parity(page, page.locator(".jp-Notebook .jp-Cell"))


SAMPLE_JS = """async ([ms, count]) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const prompt = () => document.querySelectorAll('.jp-Notebook .jp-Cell')[1]
    .querySelector('.jp-InputPrompt').textContent;
  const seen = [];
  for (let i = 0; i < count; i++) {
    if (prompt() === '[*]:' && document.querySelector('.kimi-live .widget-htmlmath-content'))
      seen.push(kernel.status);
    await new Promise(r => setTimeout(r, ms));
  }
  return seen;
}"""


def test_kernel_status_is_busy_while_a_kimi_cell_streams(page: Page, lab_server: LabServer) -> None:
    prompt = "Stream for a while. [[sim: chunks=400 reasoning_chunks=20 delay_ms=20]]"
    name = write_notebook(
        lab_server.root_dir, "busy.ipynb", ["%load_ext kimi_jupyter", f"%%kimi\n{prompt}"]
    )
    open_notebook(page, lab_server, name)
    run_all(page)
    page.wait_for_selector(".kimi-live .widget-htmlmath-content", timeout=30_000)
    seen = page.evaluate(SAMPLE_JS, [100, 80])
    assert len(seen) >= 30, seen
    busy = sum(status == "busy" for status in seen)
    assert busy >= 0.95 * len(seen), f"busy in {busy} of {len(seen)} samples: {seen}"
