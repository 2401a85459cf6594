"""The turn renderer in a real JupyterLab: saved `%%kimi` outputs, no kernel execution."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from pages import screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import BrowserLog, LabServer

pytestmark = pytest.mark.browser

TURN_MIME = "application/vnd.kimi.turn+json"
HTML_FALLBACK = "<p>HTML FALLBACK</p>"

PYTHON_CODE = 'import pandas as pd\nprint("hello")'
SHELL_CODE = "pip install kimi-jupyter"
ANSWER = f"""# Result heading

Some **bold** text and math: $e^{{i\\pi}} + 1 = 0$.

| name | value |
|------|-------|
| a    | 1     |
| b    | 2     |

```python
{PYTHON_CODE}
```

```bash
{SHELL_CODE}
```
"""
REASONING = "First I look at the table.\nThen I write the code."
FOOTER = "kimi-k2.6 · 200 tokens (100 cached) · 15.1 s"
SUMMARY = "Thinking · 12.4 s · 1,532 tokens"

RAW_IMG = '<img src=x onerror="window.__xss1=1">'
RAW_SCRIPT = "<script>window.__xss2=1</script>"
HTML_CODE = '<b class="x">bold</b>'
HOSTILE_ANSWER = f"""Hostile answer.

{RAW_IMG}

{RAW_SCRIPT}

Inline `<i>code</i>` and math $a<b$.

```html
{HTML_CODE}
```

[click](javascript:window.__xss3=1)

![t](http://remote.invalid/track.png)

![probe](probe.png)
"""
HOSTILE_REASONING = '<img src=y onerror="window.__xss4=1"> thinking'


def _turn(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "version": 1,
        "session": "default",
        "id": "3f2a9c1b0d4e",
        "model": "kimi-k2.6",
        "answer": ANSWER,
        "reasoning": REASONING,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"table": "sales"}'},
            }
        ],
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 80,
            "total_tokens": 200,
            "cached_tokens": 100,
            "reasoning_tokens": 1532,
        },
        "timings": {"first_token": 0.8, "reasoning": 12.4, "total": 15.1},
        "finish_reason": "stop",
        "status": "done",
        "error": None,
        "meta": {},
    }
    record.update(fields)
    return record


def _write_notebook(root: Path, name: str, turns: list[dict[str, Any]]) -> str:
    cells = []
    for count, turn in enumerate(turns, start=1):
        data = {"text/html": HTML_FALLBACK, "text/plain": turn["answer"], TURN_MIME: turn}
        output = new_output("execute_result", data=data, execution_count=count)
        cells.append(new_code_cell("%%kimi\nquestion", outputs=[output], execution_count=count))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, root / name)
    return name


def _open_turns(page: Page, lab_server: LabServer, name: str, count: int = 1) -> Locator:
    """Open `name` alone, in a workspace of its own (no notebooks restored from other tests)."""
    workspace = Path(name).stem
    page.goto(
        f"{lab_server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={lab_server.token}"
    )
    turns = page.locator(".jp-OutputArea-output.jp-KimiTurn")
    turns.nth(count - 1).locator(".jp-KimiTurn-footer").wait_for()
    return turns


def _is_probe(url: str) -> bool:
    """The fetch `![probe](probe.png)` would make if the answer could load images."""
    return re.search(r"/probe\.png(\?|$)", url) is not None


def _is_raw_img(url: str) -> bool:
    """The fetch `<img src=x>` would make if the answer's raw HTML were rendered."""
    return re.search(r"/files/x(\?|$)", url) is not None


def _kimi_errors(log: BrowserLog) -> list[str]:
    errors = [text for kind, text in log.console if kind == "error" and "kimi" in text.lower()]
    return errors + log.errors


def test_answer_renders_as_markdown_with_thinking_and_footer(
    page: Page, lab_server: LabServer, browser_log: BrowserLog
) -> None:
    name = _write_notebook(lab_server.root_dir, "turn_render.ipynb", [_turn()])
    turn = _open_turns(page, lab_server, name).first

    answer = turn.locator(".jp-KimiTurn-answer.jp-RenderedMarkdown")
    answer.locator("table").wait_for()
    assert answer.locator("h1").inner_text() == "Result heading"
    assert answer.locator("strong").inner_text() == "bold"
    assert answer.locator("table td").all_inner_texts() == ["a", "1", "b", "2"]
    python_block = answer.locator("pre").first
    assert python_block.inner_text().strip() == PYTHON_CODE
    assert answer.locator("pre span[class]").count() > 0, "code blocks are not highlighted"
    assert page.get_by_text("HTML FALLBACK").count() == 0
    answer.locator("mjx-container").wait_for()  # typeset by the registry's MathJax

    assert turn.locator(".jp-KimiTurn-toolCall").inner_text() == 'Called lookup({"table": "sales"})'
    assert turn.locator(".jp-KimiTurn-footer").inner_text() == FOOTER

    thinking = turn.locator("details.jp-KimiTurn-thinking")
    summary = thinking.locator("summary")
    reasoning = thinking.locator(".jp-KimiTurn-reasoning")
    assert summary.inner_text() == SUMMARY
    assert thinking.get_attribute("open") is None
    assert not reasoning.is_visible()
    summary.click()
    reasoning.wait_for(state="visible")
    assert reasoning.inner_text() == REASONING
    screenshot(page, "turn_render")
    summary.click()
    reasoning.wait_for(state="hidden")
    assert thinking.get_attribute("open") is None
    assert _kimi_errors(browser_log) == []


def test_copy_buttons_copy_answer_and_code(page: Page, lab_server: LabServer) -> None:
    from playwright.sync_api import expect

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab_server.url)
    name = _write_notebook(lab_server.root_dir, "turn_copy.ipynb", [_turn()])
    turn = _open_turns(page, lab_server, name).first
    turn.locator(".jp-KimiTurn-codeBlock .jp-KimiTurn-copyCode").first.wait_for()

    answer_button = turn.get_by_role("button", name="Copy answer as Markdown")
    code_buttons = turn.get_by_role("button", name="Copy code")
    assert answer_button.count() == 1
    assert code_buttons.count() == 2
    assert turn.locator("button.jp-KimiTurn-copy").count() == 3

    code_buttons.nth(1).click()
    expect(code_buttons.nth(1)).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == SHELL_CODE
    code_buttons.nth(0).click()
    page.wait_for_function(
        "code => navigator.clipboard.readText().then(text => text === code)", arg=PYTHON_CODE
    )
    answer_button.click()
    page.wait_for_function(
        "md => navigator.clipboard.readText().then(text => text === md)", arg=ANSWER
    )
    screenshot(page, "turn_copy")
    # The feedback reverts, so a second copy is announced again.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-KimiTurn-copy')]"
        ".every(button => button.textContent === 'Copy')"
    )


def test_hostile_answer_and_reasoning_stay_inert(page: Page, lab_server: LabServer) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    turn_record = _turn(answer=HOSTILE_ANSWER, reasoning=HOSTILE_REASONING, tool_calls=[])
    name = _write_notebook(lab_server.root_dir, "turn_hostile.ipynb", [turn_record])

    turn = _open_turns(page, lab_server, name).first
    answer = turn.locator(".jp-KimiTurn-answer")
    answer.locator("mjx-container").wait_for()  # `$a<b$` reached MathJax whole
    # Raw HTML shows as literal text, as in the Python renderer (CommonMark, HTML off).
    paragraphs = answer.locator("p").all_inner_texts()
    assert paragraphs[1:3] == [RAW_IMG, RAW_SCRIPT]
    assert answer.locator("script").count() == 0
    # Nothing in the answer loads, not even a relative image (issue 11): a placeholder.
    assert answer.locator("img").count() == 0
    assert answer.locator("code").first.inner_text() == "<i>code</i>"
    assert answer.locator("i").count() == 0
    html_block = answer.locator("pre").filter(has_text="bold")
    assert html_block.inner_text().strip() == HTML_CODE
    assert html_block.locator("span[class]").count() > 0, "HTML code is not highlighted"
    assert paragraphs[3].startswith("Inline <i>code</i> and math ")
    assert "$" not in paragraphs[3]
    placeholders = answer.locator(".jp-KimiTurn-remoteImage").all_inner_texts()
    assert placeholders == ["Remote image: t", "Image not shown: probe"]
    answer.get_by_text("click").click()

    summary = turn.locator(".jp-KimiTurn-thinking summary")
    summary.click()
    reasoning = turn.locator(".jp-KimiTurn-reasoning")
    reasoning.wait_for(state="visible")
    assert reasoning.inner_text() == HOSTILE_REASONING
    assert turn.locator(".jp-KimiTurn-thinking img").count() == 0
    screenshot(page, "turn_hostile")

    flags = page.evaluate("() => [1, 2, 3, 4].map(n => window[`__xss${n}`] ?? null)")
    assert flags == [None, None, None, None]
    assert [url for url in requests if "remote.invalid" in url] == []
    assert [url for url in requests if _is_raw_img(url)] == []
    assert [url for url in requests if _is_probe(url)] == []


def test_unfinished_turns_show_notices(page: Page, lab_server: LabServer) -> None:
    turns = [
        _turn(answer="Partial ans", status="stopped", finish_reason=None),
        _turn(answer="", reasoning="", status="failed", error="HTTP 500 from the server"),
        _turn(answer="Long answer", finish_reason="length", usage=None, timings=None),
    ]
    name = _write_notebook(lab_server.root_dir, "turn_notices.ipynb", turns)
    rendered = _open_turns(page, lab_server, name, count=3)

    notices = [rendered.nth(i).locator(".jp-KimiTurn-notice") for i in range(3)]
    assert notices[0].inner_text() == "Stopped: partial answer"
    assert notices[1].inner_text() == "Failed: HTTP 500 from the server"
    assert notices[2].inner_text() == "Cut off at the token limit"
    assert rendered.nth(1).locator(".jp-KimiTurn-thinking, .jp-KimiTurn-copyAnswer").count() == 0
    assert rendered.nth(2).locator(".jp-KimiTurn-footer").inner_text() == "kimi-k2.6"
    screenshot(page, "turn_notices")
