"""`%%kimi` cell bodies are highlighted as Markdown in a real JupyterLab's cell editor.

JupyterLab's highlight style gives tokens generated class names, so the test reads what
the user sees: the computed styles of the `.cm-line` spans (headings and strong text bold,
strings in the string colour), plus the class the extension puts on the `.cm-editor`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pages import write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

KIMI_SOURCE = "%%kimi\n# Heading\nSome **bold** text"
PYTHON_SOURCE = 'x = "a"'
MARKDOWN_CLASS = "jp-mod-kimiMarkdown"

# For each line of cell `index`: its text and spans (text, weight, colour, custom property
# the colour matches); plus whether the editor is in Markdown mode.
TOKENS_JS = """(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const editor = cell.node.querySelector('.cm-editor');
  const root = getComputedStyle(document.body);
  const colour = name => {
    const probe = document.createElement('span');
    probe.style.color = root.getPropertyValue(name).trim();
    document.body.appendChild(probe);
    const value = getComputedStyle(probe).color;
    probe.remove();
    return value;
  };
  const colours = {
    header: colour('--jp-mirror-editor-header-color'),
    string: colour('--jp-mirror-editor-string-color'),
  };
  const lines = [...editor.querySelectorAll('.cm-line')].map(line => ({
    text: line.textContent,
    spans: [...line.querySelectorAll('span')].map(span => {
      const style = getComputedStyle(span);
      return {
        text: span.textContent,
        bold: Number(style.fontWeight) >= 600,
        colour: Object.keys(colours).find(k => colours[k] === style.color) ?? null,
      };
    }),
  }));
  return { markdown: editor.classList.contains('MARKDOWN_CLASS'), lines };
}""".replace("MARKDOWN_CLASS", MARKDOWN_CLASS)


def _write(root: Path, name: str) -> str:
    return write_notebook(root, name, [KIMI_SOURCE, PYTHON_SOURCE])


def _tokens(page: Page, index: int) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(TOKENS_JS, index)
    return result


def _spans(tokens: dict[str, Any], line: int) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = tokens["lines"][line]["spans"]
    return spans


def _heading_is_markdown(tokens: dict[str, Any]) -> bool:
    return any(
        "Heading" in s["text"] and s["bold"] and s["colour"] == "header" for s in _spans(tokens, 1)
    )


def _bold_is_strong(tokens: dict[str, Any]) -> bool:
    # `**` is bold as a Python operator too: the word between is what tells.
    return any(s["text"] == "bold" and s["bold"] for s in _spans(tokens, 2))


def test_kimi_cells_are_highlighted_as_markdown(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = _write(lab_server.root_dir, "highlighting.ipynb")
    page.goto(
        f"{lab_server.url}/lab/workspaces/highlighting/tree/{name}?reset&token={lab_server.token}"
    )
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets")
    page.locator(".jp-Notebook .jp-Cell .cm-line").first.wait_for()
    # Markdown may load after the editor: wait for the mode, then for the highlighting.
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook .jp-Cell .cm-editor')"
        f".classList.contains('{MARKDOWN_CLASS}')"
    )
    page.wait_for_function(f"() => ({TOKENS_JS})(0).lines[1].spans.length > 0")

    kimi = _tokens(page, 0)
    assert kimi["markdown"], kimi
    assert [line["text"] for line in kimi["lines"]] == KIMI_SOURCE.split("\n")
    assert _heading_is_markdown(kimi), kimi
    assert _bold_is_strong(kimi), kimi

    # The kernel language (IPython) comes with the kernel's info: wait for its tokens.
    page.wait_for_function(f"() => ({TOKENS_JS})(1).lines[0].spans.length > 0")
    python = _tokens(page, 1)
    assert not python["markdown"], python
    assert any(s["text"] == '"a"' and s["colour"] == "string" for s in _spans(python, 0)), python

    # `%%kimi` -> `%%time`: the kernel's language (IPython) comes back, the text stays.
    page.locator(".jp-Notebook .jp-Cell").first.locator(".cm-line").first.click()
    page.keyboard.press("End")
    for _ in range(4):
        page.keyboard.press("Backspace")
    page.keyboard.type("time")
    page.wait_for_function(
        "() => !document.querySelector('.jp-Notebook .jp-Cell .cm-editor')"
        f".classList.contains('{MARKDOWN_CLASS}')"
    )
    source = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[0]"
        ".model.sharedModel.getSource()"
    )
    assert source == KIMI_SOURCE.replace("%%kimi", "%%time", 1)
    page.wait_for_function(
        f"() => !({TOKENS_JS})(0).lines[2].spans.some(s => s.bold && s.text === 'bold')"
    )
    timed = _tokens(page, 0)
    assert not _heading_is_markdown(timed), timed
    assert not _bold_is_strong(timed), timed
    assert not _tokens(page, 1)["markdown"]

    errors = [t for k, t in browser_log.console if k == "error" and "kimi" in t.lower()]
    assert errors + browser_log.errors == []
