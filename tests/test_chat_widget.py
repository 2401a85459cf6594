"""The chat widget against the simulator, through a recording comm (no frontend needed)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import comm
import nbformat
import pytest
from comm.base_comm import BaseComm
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from kimi_jupyter import commands
from kimi_jupyter.chat import Chat
from kimi_jupyter.chat_widget import SEND_MARK, ChatWidget
from kimi_jupyter.chat_widget import _turn_html as static_html  # thinking above the answer
from kimi_jupyter.conversation import Session
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.render.bundle import TURN_MIME
from kimi_jupyter.simulator import Simulator

from helpers import fresh_kernel_env

KEY = "sk-chat-widget-test-key"
HOSTILE = "<img src=x onerror=alert(1)>"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Wire(BaseComm):
    """A comm that keeps every message the frontend would get, with its data."""

    messages: ClassVar[list[tuple[str, str, str]]] = []  # (comm id, msg type, data as JSON)
    models: ClassVar[dict[str, str]] = {}  # comm id → model name

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        if msg_type == "comm_open":
            Wire.models[self.comm_id] = data["state"]["_model_name"]
        Wire.messages.append((self.comm_id, msg_type, json.dumps(data, ensure_ascii=False)))


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_kernel_env(monkeypatch, KEY, sim.base_url, frontend="chat.ipynb")
    monkeypatch.setattr(comm, "create_comm", Wire)
    Wire.messages, Wire.models = [], {}


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    start_ipython()  # IPython's own test shell, as in test_magics
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    shell.run_line_magic("config", "KimiMagics.model = None")
    yield shell
    shell.run_line_magic("unload_ext", "kimi_jupyter")


def values(widget: Any) -> str:
    """The HTML of a widget and everything inside it (an Output's text/html too)."""
    own = getattr(widget, "value", "")
    shown = "".join(o["data"].get("text/html", "") for o in getattr(widget, "outputs", ()))
    return (
        (own if isinstance(own, str) else "")
        + shown
        + "".join(values(child) for child in getattr(widget, "children", ()))
    )


def html_only(data: str) -> str:
    """A widget message without the turn records and text/plain an Output shows (data, not
    HTML: the lab extension sanitizes a record as it renders it)."""
    message = json.loads(data)
    for output in message.get("state", {}).get("outputs", ()):
        output["data"] = {"text/html": output["data"].get("text/html", "")}
    return json.dumps(message, ensure_ascii=False)


def click(chat: ChatWidget, button: Any) -> None:
    button.click()
    chat.wait(timeout=30)
    assert not chat.busy


def session(name: str = "default") -> Session:
    return KernelContext.current().sessions.get(name)


def test_a_message_streams_live_then_lands_in_the_session(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.input.value = "What is a DataFrame?"
    click(chat, chat.send_button)
    (exchange,) = session().exchanges
    assert exchange.turn.answer.startswith("[Kimi simulator]")
    assert 'Text 1: "What is a DataFrame?"' in exchange.turn.answer
    assert chat.input.value == ""
    (entry,) = chat.transcript.children
    assert "What is a DataFrame?" in values(entry)
    assert static_html(exchange.turn) in values(entry)
    live = [cid for cid, name in Wire.models.items() if name == "AccordionModel"]
    assert live, "the answer never went through the live view"
    closed = {cid for cid, kind, _ in Wire.messages if kind == "comm_close"}
    assert set(live) <= closed  # the live widgets are gone once the answer is static
    assert chat.send_button.disabled is False
    assert chat.stop_button.disabled is True


def test_transcript_shows_the_sessions_kimi_cells_and_both_follow_up(
    ip: InteractiveShell, sim: Simulator
) -> None:
    ip.run_cell_magic("kimi", "-s shared", "First, from a cell.")
    chat = ChatWidget(session="shared")
    (entry,) = chat.transcript.children
    first = session("shared").exchanges[0]
    assert "First, from a cell." in values(entry)
    assert static_html(first.turn) in values(entry)
    chat.send("Second, from the chat.")
    assert [m["role"] for m in sim.requests[-1]["messages"]] == ["user", "assistant", "user"]
    ip.run_cell_magic("kimi", "-s shared", "Third, from a cell again.")
    assert len(sim.requests[-1]["messages"]) == 5
    chat.refresh()
    assert len(chat.transcript.children) == 3
    assert "Third, from a cell again." in values(chat.transcript)


def test_switching_sessions(sim: Simulator) -> None:
    Chat("other").ask("Hello from other")
    chat = ChatWidget(session="mine")
    assert chat.transcript.children == ()
    assert set(chat.picker.options) == {"other", "mine"}
    chat.picker.value = "other"
    assert chat.session == "other"
    assert "Hello from other" in values(chat.transcript)
    chat.send("And a follow-up")
    assert len(session("other").exchanges) == 2
    assert session("mine").exchanges == []
    Chat("late").ask("made after the chat opened")
    chat.refresh()
    assert "late" in chat.picker.options


def test_clear_resets_the_session_and_the_transcript(sim: Simulator) -> None:
    Chat().ask("something to forget")
    chat = ChatWidget()
    assert len(chat.transcript.children) == 1
    chat.clear_button.click()
    assert session().exchanges == []
    assert chat.transcript.children == ()
    assert "cleared (1 turn(s) dropped)" in chat.status.value


def test_export_writes_a_notebook_that_load_reads(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ChatWidget(session="notes")
    chat.send("Remember this.")
    monkeypatch.chdir(tmp_path)
    chat.export_button.click()
    target = tmp_path / "notes.ipynb"
    assert str(target) in chat.status.value
    (cell,) = nbformat.read(target, as_version=4).cells
    assert cell.source == "%%kimi -s notes\nRemember this."
    assert TURN_MIME in cell.outputs[0]["data"]
    commands.load(
        KernelContext.current().sessions, "reloaded", str(target)
    )  # the `%kimi load` code path
    assert session("reloaded").exchanges[0].turn.answer == session("notes").exchanges[0].turn.answer
    chat.export_path.value = str(tmp_path / "elsewhere.txt")
    chat.export_button.click()
    assert "save to a .ipynb file" in values(chat.transcript.children[-1])


def test_mentions_resolve_in_the_user_namespace(ip: InteractiveShell, sim: Simulator) -> None:
    pd = pytest.importorskip("pandas")
    ip.user_ns["df"] = pd.DataFrame({"price": [1.5, 2.5, 4.0], "city": ["a", "b", "c"]})
    chat = ChatWidget()
    chat.input.value = "What is in @df? Ask @nobody_here too."
    click(chat, chat.send_button)
    content = sim.requests[-1]["messages"][-1]["content"]
    assert [p["type"] for p in content] == ["text", "text"]
    assert json.loads(content[1]["text"])["shape"] == [3, 2]
    assert "@nobody_here: not defined here" in chat.status.value
    assert "+ JSON" in values(chat.transcript)


@pytest.mark.parametrize(
    ("chat_settings", "message", "expected"),
    [
        ({"api_key": "sk-wrong-key"}, "hello", "KIMI_API_KEY"),
        ({}, "[[sim: fault=quota]] hello", "quota"),
    ],
)
def test_an_error_is_a_one_line_notice_and_the_message_is_kept(
    sim: Simulator, chat_settings: dict[str, Any], message: str, expected: str
) -> None:
    chat = ChatWidget(chat=Chat(**chat_settings))
    chat.input.value = message
    click(chat, chat.send_button)
    (notice,) = chat.transcript.children
    assert expected in notice.value
    assert "\n" not in notice.value
    assert "Traceback" not in notice.value
    assert chat.input.value == message
    assert session().exchanges == []


def test_a_broken_stream_keeps_the_partial_answer_and_the_message(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.input.value = "[[sim: fault=reset-mid-stream]] go on"
    click(chat, chat.send_button)
    (exchange,) = session().exchanges
    assert exchange.turn.status == "failed"
    answer, notice = chat.transcript.children
    assert static_html(exchange.turn) in values(answer)
    assert "mid-stream" in notice.value
    assert chat.input.value == "[[sim: fault=reset-mid-stream]] go on"


def test_stop_keeps_the_partial_answer(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.send("[[sim: chunks=400 delay_ms=10]] a long answer", wait=False)
    assert chat.busy
    assert chat.stop_button.disabled is False
    deadline = time.monotonic() + 20
    while not any(cid for cid, kind, data in Wire.messages if "Kimi simulator" in data):
        assert time.monotonic() < deadline, "no answer text arrived"
        time.sleep(0.02)
    chat.stop_button.click()
    chat.wait(timeout=30)
    (exchange,) = session().exchanges
    assert exchange.turn.status == "stopped"
    assert "Stopped: partial answer" in values(chat.transcript)


def test_hostile_model_text_is_escaped_in_every_widget_value(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.input.value = f"Repeat this: {HOSTILE}"
    click(chat, chat.send_button)
    assert HOSTILE in session().exchanges[0].turn.answer  # the simulator quoted it back
    typed = chat.input.model_id  # the text box holds the user's own text, not HTML
    sent = [html_only(data) for cid, _, data in Wire.messages if cid != typed]
    assert any("Kimi simulator" in data for data in sent)
    assert not [data for data in sent if "<img" in data]
    assert "&lt;img src=x onerror=alert(1)&gt;" in values(chat.transcript)


def test_enter_sends_only_a_newline_typed_at_the_end(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.input.value = "line one"
    chat.input.value = "line\n one"  # a newline typed in the middle stays
    chat.input.value = "line\n one\n"  # Enter at the end: sent without it
    chat.wait(timeout=30)
    assert sim.requests[-1]["messages"][-1]["content"] == "line\n one"
    assert chat.input.value == ""
    chat.input.value = "pasted\nlines\n"  # more than one newline at once: a paste, not Enter
    chat.enter_sends.value = False
    chat.input.value = "pasted\nlines\n\n"
    chat.wait(timeout=30)
    assert len(session().exchanges) == 1
    assert chat.input.value == "pasted\nlines\n\n"


def test_the_lab_extensions_send_mark_sends_every_line_before_it(sim: Simulator) -> None:
    chat = ChatWidget()
    chat.enter_sends.value = False  # what the extension does first: the fallback is off
    chat.input.value = "two\nlines\n"  # Shift+Enter at the end: not sent
    chat.wait(timeout=30)
    assert session().exchanges == []
    chat.input.value = "two\nlines\nand a third" + SEND_MARK  # Enter
    chat.wait(timeout=30)
    assert sim.requests[-1]["messages"][-1]["content"] == "two\nlines\nand a third"
    assert chat.input.value == ""
    chat.input.value = "   " + SEND_MARK  # nothing to send: the mark goes, the text stays
    assert chat.input.value == "   "
    assert len(session().exchanges) == 1


def test_displays_as_its_widget_and_close_leaves_a_static_transcript(
    ip: InteractiveShell, sim: Simulator
) -> None:
    chat = ChatWidget()
    chat.send(f"Say {HOSTILE}")
    bundle = chat._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == chat.widget.model_id
    with capture_output() as captured:
        ip.displayhook(chat)  # as the last expression of a cell
        chat.close()
    shown, saved, *_, final, cleared = captured.outputs
    assert WIDGET_MIME in shown.data
    assert "kimi-chat-saved" in saved.data["text/html"]  # without a kernel, this shows
    assert cleared.update
    assert cleared.transient == saved.transient
    assert final.update
    assert final.transient == shown.transient
    assert WIDGET_MIME not in final.data
    assert static_html(session().exchanges[0].turn) in final.data["text/html"]
    assert "<img" not in final.data["text/html"]
    assert chat.widget.comm is None


def test_last_expression_shows_the_chat_once(ip: InteractiveShell, sim: Simulator) -> None:
    ip.user_ns["chat"] = ChatWidget()
    with capture_output() as captured:
        ip.run_cell("chat")
    views = [o for o in captured.outputs if WIDGET_MIME in o.data]
    assert len(views) == 1


def test_kimi_chat_shows_the_widget_on_the_named_session(
    ip: InteractiveShell, sim: Simulator
) -> None:
    from ipywidgets.widgets.widget import _instances

    ip.run_cell_magic("kimi", "-s notes", "From a cell.")
    with capture_output() as captured:
        ip.run_line_magic("kimi", "chat notes")
    shown, _saved = captured.outputs
    root = _instances[shown.data[WIDGET_MIME]["model_id"]]
    assert "From a cell." in values(root)
    assert "[Kimi simulator]" in values(root)


def run(ip: InteractiveShell, code: str) -> list[Any]:
    """Run a cell; what it displayed (updates of earlier displays included)."""
    with capture_output() as captured:
        ip.run_cell(code).raise_error()
    return list(captured.outputs)


@pytest.mark.parametrize("kernel", [False, True], ids=["shell", "kernel-without-cell-id"])
def test_headless_the_chat_opens_no_widget_and_shows_its_answers_as_static_output(
    ip: InteractiveShell, sim: Simulator, running_cell: Callable[[str | None], None], kernel: bool
) -> None:
    if kernel:  # a kernel run by nbclient or papermill: no cell id, no Jupyter server
        running_cell(None)
    (shown,) = run(ip, "from kimi_jupyter import ChatWidget\nchat = ChatWidget('h')\nchat")
    assert WIDGET_MIME not in shown.data
    assert "class='kimi-chat'" in shown.data["text/html"]
    *_, sent = run(ip, f"turn = chat.send('Say {HOSTILE}')")
    turn = ip.user_ns["turn"]
    assert turn is session("h").exchanges[0].turn
    assert sent.update
    assert sent.transient == shown.transient  # the transcript shown above, brought up to date
    assert static_html(turn) in sent.data["text/html"]
    assert "<img" not in sent.data["text/html"]
    ip.run_cell_magic("kimi", "-s h", "And a cell.")
    *_, closed = run(ip, "chat.refresh(); chat.close()")
    assert static_html(session("h").exchanges[1].turn) in closed.data["text/html"]
    assert Wire.messages == []  # not one comm: nbclient would save every widget model


def test_headless_an_error_is_one_line_on_stderr(
    ip: InteractiveShell, sim: Simulator, running_cell: Callable[[str | None], None]
) -> None:
    running_cell(None)
    chat = ChatWidget()
    with capture_output() as captured:
        assert chat.send("[[sim: fault=quota]] hello") is None
    (line,) = captured.stderr.splitlines()
    assert line.startswith("kimi: ")
    assert "quota" in line
    assert Wire.messages == []
    chat.input.value = "the controls are made when asked for"
    assert "TextareaModel" in Wire.models.values()


@pytest.mark.parametrize("frontend", ["cell-id", "JPY_SESSION_NAME"])
def test_a_frontend_that_shows_widgets_gets_the_widget(
    ip: InteractiveShell,
    sim: Simulator,
    running_cell: Callable[[str | None], None],
    monkeypatch: pytest.MonkeyPatch,
    frontend: str,
) -> None:
    if frontend == "cell-id":  # JupyterLab, Notebook 7, VS Code
        running_cell("cell-1")
    else:  # a kernel a Jupyter server started
        monkeypatch.setenv("JPY_SESSION_NAME", "chat.ipynb")
    shown, saved = run(ip, "from kimi_jupyter import ChatWidget\nchat = ChatWidget()\nchat")
    assert shown.data[WIDGET_MIME]["model_id"] == ip.user_ns["chat"].widget.model_id
    assert "kimi-chat-saved" in saved.data["text/html"]
    assert "VBoxModel" in Wire.models.values()
