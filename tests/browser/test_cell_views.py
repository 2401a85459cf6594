"""The in-cell views a user reads, in JupyterLab 4 and Notebook 7 (issue 12).

`%%kimi --dry-run` shows a left-aligned table of parts (thumbnails, folded JSON, a line for
what was not sent); `%kimi map` shows one progress header and the `<column>_error` column
only when a row failed; the kernel says busy while a `%%kimi` cell streams in Notebook 7
(the JupyterLab twin is in test_live_final_parity.py). Each test reads the DOM and computed
styles of the session's servers (conftest.py), whose kernels talk to the simulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pages import KERNEL_IDLE_JS, open_notebook, run_all, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import ElementHandle, Locator, Page

    from .conftest import LabServer, NotebookServer

pytestmark = pytest.mark.browser

# Kernel start, `%load_ext`, pandas and matplotlib imports on a busy 2-core machine.
KERNEL_TIMEOUT = 60_000
DONE_PROMPT = r"/^\[\d+\]:$/"
THUMBNAIL_PX = 96
NOTEBOOK7_READY_JS = (
    "() => window.jupyterapp?.name === 'Jupyter Notebook'"
    " && window.jupyterapp.shell.currentWidget?.content?.widgets"
)


@dataclass(frozen=True)
class App:
    """One of the two frontends: its name (part of notebook names) and its server."""

    name: str
    server: LabServer

    def open(self, page: Page, notebook: str) -> Locator:
        """Open `notebook`, wait until its kernel is idle; return its cells."""
        if self.name == "lab":
            return open_notebook(page, self.server, notebook, timeout=KERNEL_TIMEOUT)
        page.goto(self.server.lab_url(f"notebooks/{notebook}"))
        page.wait_for_function(NOTEBOOK7_READY_JS, timeout=KERNEL_TIMEOUT)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=KERNEL_TIMEOUT)
        return page.locator(".jp-Notebook .jp-Cell")

    def write(self, notebook: str, cells: list[str]) -> str:
        """Write `notebook` (a name per frontend) into this server's root; return its name."""
        name = f"{Path(notebook).stem}_{self.name}.ipynb"
        return write_notebook(self.server.root_dir, name, cells)


@pytest.fixture(params=["lab", "notebook7"])
def app(request: pytest.FixtureRequest) -> App:
    server = request.getfixturevalue("lab_server" if request.param == "lab" else "notebook_server")
    return App(request.param, server)


def _wait_done(page: Page, cell: ElementHandle, selector: str) -> None:
    """Until `cell` has finished (a numbered prompt) and shows `selector`."""
    page.wait_for_function(
        "([cell, sel]) => cell.querySelector(sel) && "
        f"{DONE_PROMPT}.test(cell.querySelector('.jp-InputPrompt')?.textContent ?? '')",
        arg=[cell, selector],
        timeout=KERNEL_TIMEOUT,
        polling=100,
    )


DATA_CELL = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [4.5, 19.0, 31.2]})
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([1, 2, 3], [3, 1, 2])
plt.close(fig)
"""
DRY_PROMPT = "Compare @df with the plot in @fig, and with @nowhere."
# Everything the dry-run checks read, in one go, from the output of the `--dry-run` cell.
DRY_RUN_JS = """cell => {
  const view = cell.querySelector('.jp-OutputArea-output .kimi-dry');
  const table = view.querySelector('table.kimi-dry-run');
  const lineOf = node => {
    const s = getComputedStyle(node);
    return parseFloat(s.lineHeight) || 1.2 * parseFloat(s.fontSize);  // `normal`: about 1.2
  };
  const textHeight = node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getBoundingClientRect().height;
  };
  const label = node => ({
    text: node.textContent,
    align: getComputedStyle(node).textAlign,
    whiteSpace: getComputedStyle(node).whiteSpace,
    lines: textHeight(node) / lineOf(node),
  });
  const rows = [...table.querySelectorAll('tbody tr')].map(row => [...row.cells]);
  const img = table.querySelector('img');
  const details = [...table.querySelectorAll('details')];
  const rect = img?.getBoundingClientRect();
  return {
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
    headers: [...table.querySelectorAll('thead th')].map(label),
    labels: rows.flatMap(cells => cells.slice(0, -1).map(label)),
    content: rows.map(cells => getComputedStyle(cells.at(-1)).textAlign),
    kinds: rows.map(cells => cells[2].textContent),
    roles: rows.map(cells => cells[1].textContent),
    tokens: rows.map(cells => cells[4].textContent),
    texts: [...table.querySelectorAll('.kimi-dry-text')].map(n => [n.textContent,
                                                                    n.checkVisibility()]),
    image: img && {src: img.getAttribute('src').slice(0, 22), loaded: img.complete,
                   natural: [img.naturalWidth, img.naturalHeight],
                   shown: [rect.width, rect.height], visible: img.checkVisibility()},
    folded: details.map(d => ({open: d.open, summary: d.querySelector('summary').textContent,
                               kind: d.closest('tr').cells[2].textContent,
                               summaryVisible: d.querySelector('summary').checkVisibility(),
                               bodyVisible: d.querySelector('pre')?.checkVisibility() ?? null})),
    note: [...view.querySelectorAll('.kimi-dry-note')].map(n => [n.textContent,
                                                                  n.checkVisibility()]),
  };
}"""


def test_dry_run_shows_a_table_of_parts_that_reads_at_a_glance(page: Page, app: App) -> None:
    name = app.write(
        "dry_run", ["%load_ext kimi_jupyter", DATA_CELL, f"%%kimi --dry-run\n{DRY_PROMPT}"]
    )
    cells = app.open(page, name)
    run_all(page)
    cell = cells.nth(2).element_handle()
    _wait_done(page, cell, ".kimi-dry table.kimi-dry-run")
    # the figure was closed: it is sent, not displayed
    assert cells.nth(1).locator(".jp-OutputArea-output").count() == 0
    seen: dict[str, Any] = cell.evaluate(DRY_RUN_JS)
    assert seen["outputs"] == 1, seen

    headers = [h["text"] for h in seen["headers"]]
    assert headers[1:5] == ["role", "kind", "size", "tokens"], headers
    assert seen["kinds"] == ["text", "JSON", "text", "image/png"], seen["kinds"]
    assert set(seen["roles"]) == {"user"}, seen["roles"]
    assert all(t.startswith("≈ ") for t in seen["tokens"]), seen["tokens"]
    # no label wraps: nowrap, and each one line tall
    wrapping = [x for x in seen["headers"] + seen["labels"] if x["whiteSpace"] != "nowrap"]
    assert wrapping == [], wrapping
    tall = [x for x in seen["headers"] + seen["labels"] if not 0.5 < x["lines"] < 1.5]
    assert tall == [], tall

    # the prompt is text, open, with the unknown mention left in it
    assert seen["texts"][0] == [DRY_PROMPT, True], seen["texts"]
    image = seen["image"]  # a thumbnail of the 400×300 figure, loaded and shown
    assert image is not None, seen
    assert (image["src"][:11], image["loaded"], image["visible"]) == ("data:image/", True, True)
    assert 0 < max(image["natural"]) <= THUMBNAIL_PX, image
    assert 0 < max(image["shown"]) <= THUMBNAIL_PX, image
    # the DataFrame's JSON: folded under its one-line summary
    assert len(seen["folded"]) == 1, seen["folded"]
    (json_part,) = seen["folded"]
    summary = json_part.pop("summary")
    assert re.fullmatch(r"JSON [\d,]+ chars", summary), summary
    assert json_part == {"open": False, "kind": "JSON", "summaryVisible": True,
                         "bodyVisible": False}  # fmt: skip
    # and one line says what was not sent as asked
    note = "Not sent as asked: @nowhere: not defined here, sent as plain text"
    assert seen["note"] == [[note, True]], seen["note"]
    # left-aligned, not by JupyterLab 4.6's `:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon
    # td` (right-aligned), which outranks a plain `table.kimi-dry-run td`
    aligns = sorted({(x["text"], x["align"]) for x in seen["headers"] + seen["labels"]})
    assert {align for _, align in aligns} == {"left"}, aligns
    assert set(seen["content"]) == {"left"}, seen["content"]


FAILING_ROW = "gamma [[sim: fault=quota]]"
# `--concurrency 1` and a slow answer per row: the progress widget stays up for seconds.
MAP_CELL = (
    "%%kimi map df --column summary --concurrency 1 --no-thinking\n"
    "Summarize {text} [[sim: chunks=25 delay_ms=40]]"
)
# The map cell's outputs: the visible texts that name the map (headers), and the widget.
PROGRESS_JS = """cell => {
  const headers = [];
  for (const node of cell.querySelectorAll('.jp-OutputArea-output *')) {
    const own = [...node.childNodes].filter(n => n.nodeType === Node.TEXT_NODE)
      .map(n => n.textContent).join('').trim();
    if (/kimi map/i.test(own) && node.checkVisibility()) headers.push(own);
  }
  const bar = cell.querySelector('.widget-hprogress');
  return {
    prompt: cell.querySelector('.jp-InputPrompt')?.textContent ?? '',
    headers,
    bar: bar !== null,
    outputs: cell.querySelectorAll('.jp-OutputArea-output').length,
  };
}"""
FRAME_JS = """cell => {
  const table = cell.querySelector('.jp-OutputArea-output table.dataframe');
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => [...tr.cells]
    .map(c => c.textContent.trim()));
  return {columns: [...table.querySelectorAll('thead th')].map(th => th.textContent.trim()),
          rows};
}"""


def _progress(page: Page, cell: ElementHandle, predicate: str) -> Any:
    handle = page.wait_for_function(
        f"cell => {{ const s = ({PROGRESS_JS})(cell); return ({predicate})(s) ? s : null; }}",
        arg=cell,
        timeout=KERNEL_TIMEOUT,
        polling=50,
    )
    return handle.json_value()


@pytest.mark.parametrize("fails", [False, True], ids=["all-done", "one-fails"])
def test_map_progress_has_one_header_and_an_error_column_only_after_errors(
    page: Page, app: App, fails: bool
) -> None:
    texts = ["alpha", "beta", FAILING_ROW if fails else "gamma"]
    frame = f"import pandas as pd\ndf = pd.DataFrame({{'text': {texts!r}}})"
    name = app.write(f"map_{'fails' if fails else 'done'}",
                     ["%load_ext kimi_jupyter", frame, MAP_CELL, "df"])  # fmt: skip
    cells = app.open(page, name)
    run_all(page)
    cell = cells.nth(2).element_handle()

    running = _progress(
        page, cell, "s => s.prompt === '[*]:' && s.bar && s.headers.some(h => /^kimi map:/.test(h))"
    )
    assert len(running["headers"]) == 1, running  # the bar has no second "kimi map" title
    ended = _progress(page, cell, f"s => {DONE_PROMPT}.test(s.prompt) && !s.bar")
    assert ended["outputs"] == 1, ended
    assert len(ended["headers"]) == 1, ended  # the summary replaced the progress
    (summary,) = ended["headers"]
    counts = "2 done, 1 failed" if fails else "3 done, 0 failed"
    assert summary.startswith(f"kimi map → 'summary': {counts}"), summary

    shown = cells.nth(3).element_handle()
    _wait_done(page, shown, "table.dataframe")
    table = shown.evaluate(FRAME_JS)
    error_column = ["summary_error"] if fails else []
    assert table["columns"][1:] == ["text", "summary", *error_column], table
    answers = [row[2] for row in table["rows"]]
    assert all(a.startswith("[Kimi simulator]") for a in answers[:2]), table
    if fails:
        assert [row[3] for row in table["rows"][:2]] == ["None", "None"], table
        assert "quota" in table["rows"][2][3].lower(), table


# From the moment cell 1 shows `[*]` until it ends, every `ms`: the kernel's status, the
# favicon Notebook 7 turns busy from it, the toolbar's execution indicator, and whether the
# live view is on screen. Started before the cell runs; resolves when it has ended.
STATUS_SAMPLER_JS = """([ms, most]) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[1];
  window.__kimiStatus = new Promise(resolve => {
    const seen = [];
    const tick = () => {
      if (cell.querySelector('.jp-InputPrompt').textContent === '[*]:') {
        const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
        seen.push({
          kernel: kernel.status,
          favicon: document.querySelector("link[rel*='icon']").href.includes('favicon-busy'),
          indicator: indicator?.getAttribute('data-status') ?? null,
          live: cell.querySelector('.jp-KimiLive .jp-KimiTurn-answer') !== null,
        });
      } else if (seen.length) {
        return resolve(seen);
      }
      seen.length < most ? setTimeout(tick, ms) : resolve(seen);
    };
    tick();
  });
}"""
RUN_CELL_JS = """index => {
  window.jupyterapp.shell.currentWidget.content.activeCellIndex = index;
  void window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def _busy_share(seen: list[dict[str, Any]], key: str, busy: object) -> float:
    return sum(sample[key] == busy for sample in seen) / len(seen)


def test_kernel_status_is_busy_while_a_kimi_cell_streams_in_notebook7(
    page: Page, notebook_server: NotebookServer
) -> None:
    app = App("notebook7", notebook_server)
    prompt = "Stream for a while. [[sim: chunks=400 reasoning_chunks=20 delay_ms=20]]"
    name = app.write("busy", ["%load_ext kimi_jupyter", f"%%kimi\n{prompt}"])
    cells = app.open(page, name)
    page.evaluate(RUN_CELL_JS, 0)  # alone: `[*]` on cell 1 then means running, not queued
    _wait_done(page, cells.nth(0).element_handle(), ".jp-InputPrompt")
    # from `[*]`, not from the first live text: the status went idle as the widget opened
    page.evaluate(STATUS_SAMPLER_JS, [50, 2400])
    page.evaluate(RUN_CELL_JS, 1)
    seen: list[dict[str, Any]] = page.evaluate("() => window.__kimiStatus")
    assert len(seen) >= 60, seen  # about 8 s of streaming
    # Notebook 7 loads the extension: `%%kimi` streams into its live view
    assert sum(sample["live"] for sample in seen) >= len(seen) / 2, seen
    shares = {
        "kernel.status": _busy_share(seen, "kernel", "busy"),
        "favicon": _busy_share(seen, "favicon", True),
        "toolbar indicator": _busy_share(seen, "indicator", "busy"),
    }
    timeline = "".join("B" if sample["kernel"] == "busy" else "i" for sample in seen)
    assert min(shares.values()) >= 0.95, f"busy shares {shares}; kernel.status: {timeline}"
