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
# The last live frame is held on screen for the test, then the static bundle replaces it.
PARITY_CELL = f"""
import time
from IPython.display import display
from kimi_jupyter.events import ContentDelta, ReasoningDelta
from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.render.lab_live import LabLiveView
from kimi_jupyter.render.widget import LiveView
from kimi_jupyter.turn import Turn

live = {{view}}()
handle = display(live.widget, display_id=True)
for line in {THINKING!r}.splitlines(keepends=True):
    live.add(ReasoningDelta(line))
live.repaint()
{{open_thinking}}
for word in {ANSWER!r}.split(" "):
    live.add(ContentDelta(word + " "))
live.repaint(final=True)
time.sleep(6)  # the last live frame, held for the test
live.finish("done")
live.close()
handle.update(static_bundle(Turn(answer={ANSWER!r} + " ", reasoning={THINKING!r},
                                 model="kimi-k2.6"), "default"), raw=True)
"""
# The core-widget view opens its thinking pane, as the saved turn's is shown for the test.
VIEWS = {
    "lab": (
        "LabLiveView",
        "",
        ".jp-KimiLive .jp-KimiTurn-answer",
        ".jp-KimiLive .jp-KimiTurn-reasoning",
    ),
    "core": (
        "LiveView",
        "live.accordion.selected_index = 0",
        ".kimi-live .kimi-answer",
        ".kimi-live .kimi-thinking",
    ),
}
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
FINAL = ".jp-KimiTurn .jp-KimiTurn-answer"
# Where the answer's parts sit in the output area, live and saved (x, y, width, height).
PLACES_JS = """([root, selectors]) => {
  const area = root.closest('.jp-OutputArea-output').getBoundingClientRect();
  return selectors.map(sel => {
    const r = root.querySelector(sel)?.getBoundingClientRect();
    return r ? [r.x - area.x, r.y - area.y, r.width, r.height].map(Math.round) : null;
  });
}"""
PLACED = ("h2", "table", "pre")


def _styles(page: Page, cell: Any, root: str) -> dict[str, Any]:
    handle = cell.query_selector(root)
    assert handle is not None, f"no {root}"
    return {sel: page.evaluate(STYLE_JS, [handle, sel]) for sel in ELEMENTS}


def _places(page: Page, cell: Any, root: str) -> list[Any]:
    return page.evaluate(PLACES_JS, [cell.query_selector(root), list(PLACED)])


def _parity(page: Page, cells: Any, view: str) -> None:
    _, _, live_root, thinking_root = VIEWS[view]
    cell = cells.nth(0).element_handle()
    run_all(page)
    page.wait_for_function(
        f"cell => cell.querySelector('{live_root} table')", arg=cell, timeout=30_000
    )
    page.wait_for_timeout(800)  # the last paint (throttled to 4 Hz) has settled
    live = _styles(page, cell, live_root)
    live_places = _places(page, cell, live_root)
    thinking = page.evaluate(
        f"cell => {{ const n = cell.querySelector('{thinking_root}');"
        " n.closest('details')?.setAttribute('open', '');"
        " const s = getComputedStyle(n); return [n.getBoundingClientRect().height,"
        " parseFloat(s.lineHeight) || 1.2 * parseFloat(s.fontSize),"  # `normal`: about 1.2
        " parseFloat(s.fontSize)]; }",
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
    if view == "lab":  # the same place too: the switch moves nothing
        final_places = _places(page, cell, FINAL)
        assert all(live_places), live_places
        assert live_places == final_places, (live_places, final_places)


def _cell(view: str) -> str:
    name, open_thinking, _, _ = VIEWS[view]
    return PARITY_CELL.format(view=name, open_thinking=open_thinking)


@pytest.mark.parametrize("view", VIEWS)
def test_live_and_final_views_match_in_jupyterlab(
    page: Page, lab_server: LabServer, view: str
) -> None:
    name = write_notebook(lab_server.root_dir, f"parity_{view}.ipynb", [_cell(view), "1"])
    cells = open_notebook(page, lab_server, name)
    _parity(page, cells, view)


@pytest.mark.parametrize("view", VIEWS)
def test_live_and_final_views_match_in_notebook7(
    page: Page, notebook_server: NotebookServer, view: str
) -> None:
    name = write_notebook(notebook_server.root_dir, f"parity7_{view}.ipynb", [_cell(view), "1"])
    page.goto(notebook_server.notebook_url(name))
    page.wait_for_function(
        "() => window.jupyterapp?.name === 'Jupyter Notebook'"
        " && window.jupyterapp.shell.currentWidget?.sessionContext.session?.kernel?.status"
        " === 'idle'",
        timeout=30_000,
    )
    _parity(page, page.locator(".jp-Notebook .jp-Cell"), view)


SAMPLE_JS = """async ([ms, count]) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const prompt = () => document.querySelectorAll('.jp-Notebook .jp-Cell')[1]
    .querySelector('.jp-InputPrompt').textContent;
  const seen = [];
  for (let i = 0; i < count; i++) {
    if (prompt() === '[*]:' && document.querySelector('.jp-KimiLive .jp-KimiTurn-answer'))
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
    # in JupyterLab with the extension, `%%kimi` streams into the extension's live view
    page.wait_for_selector(".jp-KimiLive .jp-KimiTurn-answer", timeout=30_000)
    seen = page.evaluate(SAMPLE_JS, [100, 80])
    assert len(seen) >= 30, seen
    busy = sum(status == "busy" for status in seen)
    assert busy >= 0.95 * len(seen), f"busy in {busy} of {len(seen)} samples: {seen}"
