"""The chat widget, finished: thinking above the answer, the turn record for Copy, one copy
of an image, a readable tool question, and a transcript that survives without a kernel."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from kimi_jupyter import tool
from kimi_jupyter.chat_widget import ChatWidget, confirm_html
from kimi_jupyter.context import convert, sha256
from kimi_jupyter.conversation import MediaPart, TextPart
from kimi_jupyter.prompting import once_each
from kimi_jupyter.render.bundle import TURN_MIME
from kimi_jupyter.simulator import Simulator

from helpers import fresh_kernel_env

KEY = "sk-chat-widget-finish"
HOSTILE = "<img src=x onerror=alert(1)>"


class Quiet(BaseComm):
    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        return


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_kernel_env(monkeypatch, KEY, sim.base_url, frontend="chat.ipynb")
    monkeypatch.setattr(comm, "create_comm", Quiet)


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    start_ipython()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "kimi_jupyter")


def answer_bundle(chat: ChatWidget) -> dict[str, Any]:
    entry = chat.transcript.children[-1]
    output = entry.children[-1] if hasattr(entry, "children") else entry
    data: dict[str, Any] = output.outputs[-1]["data"]
    return data


def test_the_thinking_sits_above_the_answer_folded(sim: Simulator) -> None:
    chat = ChatWidget()
    turn = chat.send("Think first, then answer.")
    assert turn is not None
    assert turn.reasoning
    page = answer_bundle(chat)["text/html"]
    thinking, answer = page.index("<details class='kimi-chat-thinking'>"), page.index("[Kimi")
    assert thinking < answer
    assert "<details class='kimi-chat-thinking' open" not in page  # folded
    assert page.count("<summary>Thinking") == 1
    chat.close()


def test_each_answer_carries_the_turn_record_the_lab_extension_renders_with_copy(
    sim: Simulator,
) -> None:
    chat = ChatWidget()
    turn = chat.send("Copy me.")
    assert turn is not None
    bundle = answer_bundle(chat)
    assert bundle[TURN_MIME]["answer"] == turn.answer
    assert bundle[TURN_MIME]["session"] == "default"
    assert bundle["text/plain"] == turn.answer
    assert "kimi-chat-answer" in chat.transcript.children[-1].children[-1]._dom_classes
    chat.refresh()  # a rebuilt transcript shows the same record
    chat._shown = None
    chat.refresh()
    assert answer_bundle(chat)[TURN_MIME]["answer"] == turn.answer
    chat.close()


def test_enter_sends_stays_a_visible_control(sim: Simulator) -> None:
    chat = ChatWidget()
    assert chat.enter_sends.layout.display in (None, "")
    assert chat.enter_sends.description == "Enter sends"
    chat.close()


def png(color: tuple[int, int, int]) -> bytes:
    image = pytest.importorskip("PIL.Image").new("RGB", (8, 8), color)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_same_figure_twice_is_sent_once() -> None:
    red, blue = png((255, 0, 0)), png((0, 0, 255))
    parts = [TextPart("compare"), *convert(red, "fig"), TextPart("@last: the output of In[3]"),
             MediaPart(red, "image/png"), *convert(blue, "other")]  # fmt: skip
    kept = once_each(parts)
    media = [p for p in kept if isinstance(p, MediaPart)]
    assert [sha256(p) for p in media] == [sha256(red), sha256(blue)]
    assert any("the same image as above" in p.text for p in kept if isinstance(p, TextPart))


def test_fig_and_last_for_one_figure_reach_the_model_once(
    ip: InteractiveShell, sim: Simulator
) -> None:
    red = png((255, 0, 0))
    ip.user_ns["fig"] = red
    ip.user_ns["fig2"] = red
    chat = ChatWidget()
    chat.send("compare @fig with @fig2")
    content = sim.requests[-1]["messages"][-1]["content"]
    images = [c for c in content if c.get("type") == "image_url"]
    assert len(images) == 1
    chat.close()


def test_the_tool_question_shows_the_docstring_and_one_argument_a_row() -> None:
    page = confirm_html(f"Delete a file. {HOSTILE}", json.dumps({"path": "/tmp/x", "n": [1, 2]}))
    assert page.startswith("<div class='kimi-tool-doc'")
    assert "Delete a file." in page
    assert "&lt;img src=x" in page
    assert "<img" not in page
    assert ">path</th><td><pre class='kimi-tool-text'>/tmp/x</pre>" in page
    assert "[\n  1,\n  2\n]" in page
    assert "kimi-tool-text" in confirm_html("", "not json")


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_the_chat_asks_about_a_confirmed_tool_with_its_docstring(
    toolbox: None, sim: Simulator
) -> None:
    @tool(confirm=True)
    def wipe(path: str) -> str:
        """Delete the file at `path` for good."""
        return "gone"

    chat = ChatWidget()
    chat.send("go [[sim: tool=wipe]]", wait=False)

    def waiting() -> Any:
        live = chat._live
        panels = list(live.tools.panels.values()) if live is not None else []
        return next((p for p in panels if p.waiting and "kimi-tool-doc" in p.arguments.value),
                    None)  # fmt: skip

    panel = wait_for(waiting)
    assert "Delete the file at `path` for good." in panel.arguments.value
    assert ">path</th>" in panel.arguments.value
    panel.skip_button.click()
    chat.wait(10)
    chat.close()


def test_a_saved_transcript_stands_beside_the_widget_and_follows_each_turn(
    ip: InteractiveShell, sim: Simulator
) -> None:
    chat = ChatWidget()
    with capture_output() as captured:
        ip.displayhook(chat)
        chat.send(f"Say {HOSTILE}")
    widget, saved, *updates = captured.outputs
    assert "application/vnd.jupyter.widget-view+json" in widget.data
    assert "kimi-chat-saved" in saved.data["text/html"]
    assert ".jp-OutputArea:has(.kimi-chat.widget-box) .kimi-chat-saved" in saved.data["text/html"]
    last = updates[-1]
    assert last.update
    assert last.transient == saved.transient
    assert "[Kimi simulator]" in last.data["text/html"]
    assert "<img" not in last.data["text/html"]
    chat.close()


def test_with_keys_handled_by_the_extension_a_trailing_newline_is_a_newline(
    sim: Simulator,
) -> None:
    chat = ChatWidget()
    chat.keys_handled.value = True  # what the lab extension does before its first key
    chat.input.value = "two lines\n"  # Shift+Enter at the end
    chat.wait(10)
    assert chat.transcript.children == ()
    assert chat.input.value == "two lines\n"
    chat.input.value = "two lines\nsent" + "\u2063"  # Enter, with "Enter sends" ticked
    chat.wait(10)
    assert chat._result is not None
    assert chat.enter_sends.layout.display in (None, "")  # "Enter sends" stays on screen
    chat.close()
