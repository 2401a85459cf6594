"""The hostile-output corpus (`tests/fixtures/hostile/`) in a real JupyterLab and Chromium.

Every request, socket and script execution of the page is recorded (`pages.Tripwire`):
no vector may make the browser fetch anything (its URLs all carry the corpus marker, and
nothing may leave the Jupyter server's origin) or run anything. The corpus goes through
the lab renderer as saved `%%kimi` outputs (built by the Python `static_bundle`, so the
record and the Python HTML are both there), again after saving, closing and reopening the
notebook, through the chat panel as streamed answers (the live view after each partial
update, then the record), and as the Python HTML alone shown as trusted output.

Few notebooks with many vectors each: the whole file runs in about a minute.
"""

from __future__ import annotations

import json
import re
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
    ask_in_chat_panel,
    open_chat_panel,
    open_notebook,
    run_all,
    save_notebook,
    screenshot,
)
from playwright.sync_api import Error as PlaywrightError

from kimi_jupyter.events import ToolResult, Usage
from kimi_jupyter.render.bundle import TURN_MIME, static_bundle
from kimi_jupyter.turn import Timings, Turn

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

TESTS_DIR = Path(__file__).resolve().parents[1]
# MathJax typesets after the Markdown renders, and a fetch may come after that.
SETTLE_MS = 3000

# What a rendered answer may hold, checked in the page: no element that runs or loads, no
# handler, no URL but an inline image and links to other sites that open in a new tab.
OFFENCES_JS = r"""(root, strictLinks = true) => {
  const forbidden = 'script, style, link, meta, base, iframe, frame, object, embed, applet, '
    + 'svg, math:not(mjx-assistive-mml math), template, form, portal, noscript, '
    + '.jp-RenderedMermaid';
  const safeImage = /^data:image\/(png|jpeg|gif|webp)[;,]/i;
  const fetching = ['srcset', 'poster', 'background', 'data', 'action', 'formaction', 'ping',
    'xlink:href', 'lowsrc', 'dynsrc', 'srcdoc'];
  const found = [];
  for (const element of root.querySelectorAll(forbidden)) {
    found.push(`<${element.localName}>`);
  }
  const linkOk = (element, href) => {
    if (element.localName !== 'a') { return false; }
    if (href.startsWith('#')) { return true; }
    if (!strictLinks) {
      return !/^(javascript|vbscript|data):/i.test(href.replace(/[\s\u0000-\u001f]/g, ''));
    }
    const url = new URL(href, location.href);
    const remote = ['http:', 'https:'].includes(url.protocol) && url.origin !== location.origin;
    const rel = element.rel.split(' ');
    return (remote || url.protocol === 'mailto:') && element.target === '_blank'
      && rel.includes('noopener') && rel.includes('noreferrer');
  };
  for (const element of root.querySelectorAll('*')) {
    if (element.closest('mjx-assistive-mml')) { continue; }
    for (const { name, value } of element.attributes) {
      const lower = name.toLowerCase();
      if (lower.startsWith('on') || lower.startsWith('data-commandlinker')
        || fetching.includes(lower)
        || (lower === 'style' && /url|image-set|\\|@import/i.test(value))
        || (lower === 'src' && !(element.localName === 'img' && safeImage.test(value)))
        || (lower === 'href' && !linkOk(element, value))) {
        found.push(`${element.localName}[${name}=${value.slice(0, 80)}]`);
      }
    }
  }
  return found;
}"""

# Per rendered turn output: what the corpus's `expect` names, as found in the page.
SURVIVORS_JS = r"""root => ({
  image: !!root.querySelector('.jp-KimiTurn-answer img[src^="data:image/"]'),
  code: !!root.querySelector('.jp-KimiTurn-answer pre code'),
  mermaid: !!root.querySelector('.jp-KimiTurn-answer code.language-mermaid'),
  link: !!root.querySelector(
    '.jp-KimiTurn-answer a[href^="http"], .jp-KimiTurn-answer a[href^="mailto:"]'),
  bidi: !!root.querySelector('.jp-KimiTurn-bidiNotice'),
})"""


def _vectors() -> list[Vector]:
    return [vector for vector in load() if vector.kind != "size"]


def _turn(vector: Vector) -> Turn:
    """A finished turn whose answer, thinking and tool call all are the vector's text."""
    result = ToolResult(
        call_id="call_1",
        name=vector.id,
        arguments=json.dumps({"text": vector.text}),
        status="ok",
        preview=vector.text,
        duration=0.1,
    )
    return Turn(
        answer=vector.text,
        reasoning=vector.text,
        tool_results=(result,),
        usage=Usage(prompt_tokens=10, completion_tokens=20, total_tokens=30),
        model="kimi-k2.6",
        timings=Timings(total=1.0),
        id=vector.id[:40],
    )


def _write_turns(root: Path, name: str, vectors: list[Vector]) -> str:
    """One cell per class, one display output per vector: the bundle `%%kimi` saves."""
    cells = []
    for kind in dict.fromkeys(vector.kind for vector in vectors):
        outputs = [
            new_output("display_data", data=static_bundle(_turn(vector), "hostile"))
            for vector in vectors
            if vector.kind == kind
        ]
        cells.append(new_code_cell(f"%%kimi\nhostile {kind}", outputs=outputs))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nbformat.write(notebook, root / name)
    return name


def _wait_turns(page: Page, count: int) -> None:
    """Wait until `count` turn outputs show their footer, then for MathJax and fetches."""
    page.add_style_tag(content=ALL_CELLS_CSS)
    page.wait_for_function(
        "n => document.querySelectorAll("
        "'.jp-OutputArea-output.jp-KimiTurn .jp-KimiTurn-footer').length === n",
        arg=count,
        timeout=60_000,
    )
    page.wait_for_timeout(SETTLE_MS)


def _assert_turns_inert(page: Page, wire: Tripwire, vectors: list[Vector]) -> None:
    outputs = page.locator(".jp-OutputArea-output.jp-KimiTurn")
    assert outputs.count() == len(vectors)
    offences = outputs.evaluate_all(f"nodes => nodes.map({OFFENCES_JS})")
    assert {v.id: found for v, found in zip(vectors, offences, strict=True) if found} == {}
    survivors = outputs.evaluate_all(f"nodes => nodes.map({SURVIVORS_JS})")
    missing = {
        vector.id: [want for want in vector.expect if not _survived(want, vector, found)]
        for vector, found in zip(vectors, survivors, strict=True)
    }
    assert {key: value for key, value in missing.items() if value} == {}
    wire.assert_inert()
    assert _server_errors(wire) == []


def _survived(want: str, vector: Vector, found: dict[str, bool]) -> bool:
    if want == "code-block" and vector.kind == "mermaid":
        return found["mermaid"]
    key = {"img-data": "image", "code-block": "code", "link": "link", "bidi-notice": "bidi"}
    return found[key[want]]


def _server_errors(wire: Tripwire) -> list[str]:
    """Failed requests for code or pages (MathJax's `\\require` fetched a missing file)."""
    return [failure for failure in wire.failures if "/static/" in failure or "/lab/" in failure]


def test_saved_turns_render_the_corpus_inert_also_after_reopening(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    vectors = _vectors()
    name = _write_turns(lab_server.root_dir, "hostile_turns.ipynb", vectors)
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name, kernel=False)
    _wait_turns(page, len(vectors))
    _assert_turns_inert(page, wire, vectors)
    screenshot(page, "hostile_turns")

    save_notebook(page)
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    page.wait_for_function("() => !document.querySelector('.jp-KimiTurn')")
    page.evaluate(
        "name => window.jupyterapp.commands.execute('docmanager:open', { path: name })",
        name,
    )
    _wait_turns(page, len(vectors))
    _assert_turns_inert(page, wire, vectors)

    saved = nbformat.read(lab_server.root_dir / name, as_version=4)
    records = [out["data"][TURN_MIME] for cell in saved.cells for out in cell.outputs]
    assert [record["answer"] for record in records] == [vector.text for vector in vectors]
    assert browser_log.errors == []


def test_python_html_of_the_corpus_is_inert_even_as_trusted_output(
    page: Page, lab_server: LabServer
) -> None:
    """The fallback HTML, displayed live (so trusted: JupyterLab neither sanitizes it nor
    stops its scripts): only the Python sanitizer stands between the corpus and the page.
    Its links follow JupyterLab's rules for HTML output, so only their scheme is checked."""
    vectors = [v for v in _vectors() if v.id not in MATHJAX_LOADERS]
    wire = _show_python_html(page, lab_server, "hostile_python_html.ipynb", vectors)
    html = page.locator(".jp-OutputArea-output[data-mime-type='text/html']")
    assert html.first.evaluate("node => node.classList.contains('jp-mod-trusted')")
    offences = html.evaluate_all(f"nodes => nodes.map(node => ({OFFENCES_JS})(node, false))")
    # The Python HTML carries its own <style> (no url() in it): that one is expected.
    offences = [[item for item in found if item != "<style>"] for found in offences]
    assert {v.id: f for v, f in zip(vectors, offences, strict=True) if f} == {}
    wire.assert_inert()
    assert _server_errors(wire) == []


def test_python_html_disarms_mathjax_require(page: Page, lab_server: LabServer) -> None:
    vectors = [v for v in _vectors() if v.id in MATHJAX_LOADERS]
    wire = _show_python_html(page, lab_server, "hostile_python_require.ipynb", vectors)
    assert _server_errors(wire) == []


# Vectors whose TeX makes MathJax load code from the server.
MATHJAX_LOADERS = ("math-require", "math-require-entity", "math-require-split")


def _show_python_html(
    page: Page, lab_server: LabServer, name: str, vectors: list[Vector]
) -> Tripwire:
    """Run a notebook that displays the Python HTML of each of `vectors`; wait for it."""
    setup = (
        "import sys\n"
        f"sys.path.insert(0, {str(TESTS_DIR)!r})\n"
        "from hostile_corpus import load\n"
        "from kimi_jupyter.render.bundle import static_bundle\n"
        "from kimi_jupyter.turn import Turn\n"
        f"WANTED = {[v.id for v in vectors]!r}\n"
        "def show(kind):\n"
        "    for v in load(kind):\n"
        "        if v.id in WANTED:\n"
        "            turn = Turn(answer=v.text, reasoning=v.text)\n"
        "            html = static_bundle(turn, 's')['text/html']\n"
        "            display({'text/html': html, 'text/plain': v.id}, raw=True)\n"
    )
    # One cell per class: JupyterLab shows at most 50 outputs of a cell by default.
    kinds = dict.fromkeys(vector.kind for vector in vectors)
    _write_plain(lab_server.root_dir, name, setup, *(f"show({kind!r})" for kind in kinds))
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name)
    page.add_style_tag(content=ALL_CELLS_CSS)
    run_all(page)
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-OutputArea-output .kimi-turn').length === n",
        arg=len(vectors),
        timeout=60_000,
    )
    page.wait_for_timeout(SETTLE_MS)
    return wire


def _write_plain(root: Path, name: str, *sources: str) -> str:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nbformat.write(notebook, root / name)
    return name


# The kernel's HTTP seam answers every ask with the corpus class named in the prompt,
# streamed in pieces so the panel's live view renders it several times on the way.
PANEL_SETUP = """\
%load_ext kimi_jupyter
import json, re, sys, time
import httpx
sys.path.insert(0, {tests!r})
from hostile_corpus import load
from kimi_jupyter.kernel import KernelContext

def _answer(kind):
    # Vectors with fences last: an unclosed fence would swallow what follows it.
    vectors = sorted(load(kind), key=lambda v: '```' in v.text or '~~~' in v.text)
    return '\\n\\n'.join(v.text for v in vectors)

def _event(delta, finish=None, usage=None):
    chunk = {{'id': 'hostile', 'object': 'chat.completion.chunk', 'created': 0,
              'model': 'kimi-k2.6',
              'choices': [{{'index': 0, 'delta': delta, 'finish_reason': finish}}],
              'usage': usage}}
    return ('data: ' + json.dumps(chunk) + '\\n\\n').encode()

def _stream(text, pieces=24, pause=0.04):
    yield _event({{'role': 'assistant', 'content': ''}})
    step = max(1, len(text) // pieces + 1)
    for start in range(0, len(text), step):
        yield _event({{'content': text[start:start + step]}})
        time.sleep(pause)
    usage = {{'prompt_tokens': 1, 'completion_tokens': 1, 'total_tokens': 2}}
    yield _event({{}}, 'stop', usage)
    yield b'data: [DONE]\\n\\n'

def _handler(request):
    users = [m for m in json.loads(request.content)['messages'] if m['role'] == 'user']
    kind = re.findall(r'hostile:([a-z-]+)', json.dumps(users[-1]['content']))[-1]
    return httpx.Response(200, headers={{'content-type': 'text/event-stream'}},
                          content=_stream(_answer(kind)))

KernelContext.current().transport = httpx.MockTransport(_handler)
print('hostile transport ready')
"""


def test_chat_panel_streams_the_corpus_inert(page: Page, lab_server: LabServer) -> None:
    kinds = list(dict.fromkeys(v.kind for v in _vectors()))
    name = _write_plain(
        lab_server.root_dir, "hostile_panel.ipynb", PANEL_SETUP.format(tests=str(TESTS_DIR))
    )
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name)
    page.add_style_tag(content=ALL_CELLS_CSS)
    run_all(page)
    page.get_by_text("hostile transport ready").wait_for(timeout=30_000)
    panel = open_chat_panel(page, name)
    for number, kind in enumerate(kinds, start=1):
        ask_in_chat_panel(panel, f"Answer with hostile:{kind}")
        turn = panel.locator(".jp-KimiChat-turn").nth(number - 1)
        # The live view renders the answer so far several times before the record comes.
        turn.locator(".jp-KimiChat-liveMarkdown").wait_for(timeout=20_000)
        assert wire.executions() == [], kind
        turn.locator(".jp-KimiChat-record .jp-KimiTurn-footer").wait_for(timeout=30_000)
    page.wait_for_timeout(SETTLE_MS)
    screenshot(page, "hostile_panel")

    records = panel.locator(".jp-KimiChat-record")
    assert records.count() == len(kinds)
    offences = records.evaluate_all(f"nodes => nodes.map({OFFENCES_JS})")
    assert {kind: found for kind, found in zip(kinds, offences, strict=True) if found} == {}
    texts = records.locator(".jp-KimiTurn-answer").all_inner_texts()
    assert all(re.search(r"\S", text) for text in texts)
    wire.assert_inert()
    assert _server_errors(wire) == []


def test_kimi_cells_stream_the_corpus_inert_in_the_live_view(
    page: Page, lab_server: LabServer
) -> None:
    """`%%kimi` cells in JupyterLab stream into the extension's live view (one model, the
    Markdown path of the saved turn): every class of the corpus, rendered several times on
    the way, then saved, runs nothing and loads nothing."""
    kinds = list(dict.fromkeys(v.kind for v in _vectors()))
    cells = [PANEL_SETUP.format(tests=str(TESTS_DIR))]
    cells += [f"%%kimi\nAnswer with hostile:{kind}" for kind in kinds]
    name = _write_plain(lab_server.root_dir, "hostile_cells.ipynb", *cells)
    wire = Tripwire(page, lab_server.url)
    open_notebook(page, lab_server, name)
    page.add_style_tag(content=ALL_CELLS_CSS)
    run_all(page)
    live_seen = []
    for number, kind in enumerate(kinds, start=1):
        cell = page.locator(".jp-Notebook .jp-Cell").nth(number)
        live = cell.locator(".jp-KimiLive .jp-KimiTurn-answer")
        try:
            live.wait_for(timeout=30_000)
            offences = live.evaluate(OFFENCES_JS)
            live_seen.append(kind)
        except PlaywrightError:  # the answer ended (and was replaced) before we looked
            offences = None
        assert not offences, (kind, offences)
        assert wire.executions() == [], kind
        cell.locator(".jp-KimiTurn-footer").wait_for(timeout=60_000)
    print("live views checked:", len(live_seen), "of", len(kinds))
    assert len(live_seen) * 2 >= len(kinds), live_seen  # most answers were checked live
    page.wait_for_timeout(SETTLE_MS)
    screenshot(page, "hostile_cells")
    turns = page.locator(".jp-Notebook .jp-OutputArea-output.jp-KimiTurn")
    assert turns.count() == len(kinds)
    offences = turns.evaluate_all(f"nodes => nodes.map({OFFENCES_JS})")
    assert {kind: found for kind, found in zip(kinds, offences, strict=True) if found} == {}
    wire.assert_inert()
    assert _server_errors(wire) == []
