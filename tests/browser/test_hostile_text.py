"""Hostile answers that need more than "nothing loads, nothing runs" (issue 11, section A):
mermaid blocks stay code, pathological sizes render fast without freezing the tab, and
invisible direction-changing characters are shown, then left out of Copy and Insert."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest
from hostile_corpus import Vector, load
from nbformat.v4 import new_code_cell, new_notebook, new_output
from pages import (
    ALL_CELLS_CSS,
    KERNEL_SPEC,
    Tripwire,
    open_notebook,
    run_all,
    screenshot,
    write_notebook,
)

from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.turn import Timings, Turn

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import LabServer

pytestmark = pytest.mark.browser

TESTS_DIR = Path(__file__).resolve().parents[1]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TURNS = ".jp-OutputArea-output.jp-KimiTurn"


def _vector(vector_id: str) -> Vector:
    return next(vector for vector in load() if vector.id == vector_id)


def _write_turns(root: Path, name: str, answers: list[str]) -> str:
    outputs = [
        new_output(
            "display_data",
            data=static_bundle(
                Turn(answer=answer, model="kimi-k2.6", timings=Timings(total=1.0)), "s"
            ),
        )
        for answer in answers
    ]
    notebook = new_notebook(cells=[new_code_cell("%%kimi\nquestion", outputs=outputs)])
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nbformat.write(notebook, root / name)
    return name


def test_mermaid_blocks_stay_code_and_fetch_nothing(page: Page, lab_server: LabServer) -> None:
    ids = ["mermaid-label-img", "mermaid-theme-css", "mermaid-fa-icon", "mermaid-list"]
    name = _write_turns(
        lab_server.root_dir, "hostile_mermaid.ipynb", [_vector(i).text for i in ids]
    )
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name, kernel=False)
    turns = page.locator(TURNS)
    turns.nth(len(ids) - 1).locator(".jp-KimiTurn-footer").wait_for()
    page.wait_for_timeout(2000)  # mermaid would draw asynchronously

    for index in range(len(ids)):
        code = turns.nth(index).locator("pre code.language-mermaid")
        assert code.count() == 1, ids[index]
        assert "graph TD" in code.inner_text() or "flowchart TD" in code.inner_text()
    assert page.locator(".jp-RenderedMermaid, .jp-KimiTurn svg, .jp-KimiTurn img").count() == 0
    screenshot(page, "hostile_mermaid")
    wire.assert_inert()


# In the kernel: display each pathological answer as a turn record (no Python HTML: its
# own cost is measured elsewhere), so they render after the page has settled.
SIZES_SOURCE = """\
import sys
sys.path.insert(0, {tests!r})
from hostile_corpus import load
from kimi_jupyter.render.bundle import TURN_MIME, turn_record
from kimi_jupyter.turn import Turn
for v in load('size'):
    display({{TURN_MIME: turn_record(Turn(answer=v.text, model=v.id), 's'),
              'text/plain': v.id}}, raw=True)
"""


def test_pathological_sizes_render_fast_and_the_tab_stays_responsive(
    page: Page, lab_server: LabServer
) -> None:
    sizes = load("size")
    source = SIZES_SOURCE.format(tests=str(TESTS_DIR))
    name = write_notebook(lab_server.root_dir, "hostile_sizes.ipynb", [source])
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name)
    page.add_style_tag(content=ALL_CELLS_CSS)
    page.evaluate("() => { window.__kimiLongTasks.length = 0; }")

    start = time.monotonic()
    run_all(page)
    page.wait_for_function(
        "n => [...document.querySelectorAll('.jp-OutputArea-output.jp-KimiTurn')]"
        ".filter(turn => turn.querySelector('.jp-KimiTurn-answer')?.textContent).length === n",
        arg=len(sizes),
        timeout=60_000,
        polling=100,
    )
    elapsed = time.monotonic() - start
    probe = time.monotonic()
    page.evaluate("() => 1")
    round_trip = time.monotonic() - probe

    # Before: 8,000 backticks alone froze the tab for 85 s.
    assert elapsed < 20, f"{len(sizes)} answers (3.6 MB) took {elapsed:.1f} s"
    assert round_trip < 1
    assert wire.longest_task_ms() < 3000
    plain = page.locator(f"{TURNS} .jp-KimiTurn-plainNotice")
    assert plain.count() >= len(sizes) - 2  # the few cheap shapes render as Markdown
    backticks = page.locator(TURNS).nth([v.id for v in sizes].index("size-backticks-8000"))
    assert backticks.locator(".jp-KimiTurn-answer").inner_text().count("`") == 8000
    screenshot(page, "hostile_sizes")
    wire.assert_inert()


def test_bidi_controls_are_shown_and_left_out_of_copy_and_insert(
    page: Page, lab_server: LabServer
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab_server.url)
    vector = _vector("bidi-trojan-comment")
    name = _write_turns(lab_server.root_dir, "hostile_bidi.ipynb", [vector.text])
    open_notebook(page, lab_server, name, kernel=False)
    turn = page.locator(TURNS).first
    block = turn.locator(".jp-KimiTurn-codeBlock")
    block.wait_for()
    code = vector.text.split("\n", 1)[1].rsplit("\n```", 1)[0]
    clean = "".join(char for char in code if char not in BIDI)
    removed = len(code) - len(clean)

    marks = block.locator(".jp-KimiTurn-bidi")
    assert marks.count() == removed == 4
    assert marks.first.evaluate("m => getComputedStyle(m, '::before').content").count("RLO")
    notice = f"Removed {removed} invisible direction-changing characters"
    assert block.locator(".jp-KimiTurn-bidiNotice").inner_text() == notice
    copy = block.locator(".jp-KimiTurn-copyCode")
    insert = block.locator(".jp-KimiTurn-insertCode")
    assert copy.get_attribute("title") == f"Copy code ({notice})"
    assert insert.get_attribute("title") == f"Insert code below ({notice})"
    screenshot(page, "hostile_bidi")

    copy.click()
    page.wait_for_function(
        "code => navigator.clipboard.readText().then(text => text === code)", arg=clean
    )
    turn.locator(".jp-KimiTurn-copyAnswer").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == "".join(char for char in vector.text if char not in BIDI)

    page.locator(".jp-Notebook .jp-Cell").first.click()  # the active cell: insert below it
    insert.click()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.length === 2"
    )
    inserted = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.cells.get(1)"
        ".sharedModel.getSource()"
    )
    assert inserted == clean
    assert not any(char in BIDI for char in inserted)
    # The record rendered, not the Python HTML fallback.
    assert page.locator(".jp-RenderedHTMLCommon .kimi-turn").count() == 0
