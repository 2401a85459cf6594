"""Every listener of an `AnswerRun` ends an answer the same way: the `%%kimi` cell, the chat
widget and the lab panel. Retry notices stay with their own run, an approval that times out
or is stopped is skipped alike, and a transport that raises ends the run with one line.

The panel (and the concurrency test) run in a real kernel through jupyter_client; the cell
and the chat widget run in-process, through IPython's test shell and a recording comm.
"""

from __future__ import annotations

import inspect
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import comm
import httpx
import pytest
from comm.base_comm import BaseComm
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
from jupyter_client.manager import start_new_kernel
from test_panel_comm import Panel
from test_tool_views import html_of

from kimi_jupyter.chat_widget import ChatWidget
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import tool
from kimi_jupyter.turn import Turn

from helpers import fresh_kernel_env

KEY = "sk-run-surfaces-test-key"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TIMEOUT_NOTICE = "no answer in time: wipe skipped"
KERNEL_SETUP = """
%load_ext kimi_jupyter
%config KimiMagics.view = 'text'
import json, os
from kimi_jupyter import tool
from kimi_jupyter.kernel import KernelContext
"""
# Only while a test needs it: the simulator calls the first tool offered, and the panel
# offers every tool of the kernel.
KERNEL_WIPE = '''
ran = []

@tool(confirm=True)
def wipe(path: str) -> str:
    """Delete a file."""
    ran.append(path)
    return "deleted"
'''


class RaisingTransport(httpx.BaseTransport):
    """A transport with a bug: it raises what no network error is."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom\nin two lines")


class BreakingBody(httpx.SyncByteStream):
    """Two valid SSE chunks, sent in pieces split mid-line and mid-UTF-8, then a bug."""

    BODY = "".join(
        "data: " + json.dumps({"id": "c1", "model": "kimi-k2.6", "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": text}}]}) + "\n\n"
        for text in ("Half an ", "answer, naïve ✓")
    ).encode()  # fmt: skip

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.BODY), 7):
            yield self.BODY[start : start + 7]
        raise RuntimeError("boom mid-body\nin two lines")


class BreakingTransport(httpx.BaseTransport):
    """Answers 200 with an event stream that raises part-way through the body."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, headers=headers, stream=BreakingBody())


PARTIAL = "Half an answer, naïve ✓"
TRANSPORTS = {"raises": RaisingTransport, "breaks mid-body": BreakingTransport}
# The same classes, defined inside the kernel for the panel.
TRANSPORT_SOURCE = "import json, httpx\nfrom collections.abc import Iterator\n" + "".join(
    inspect.getsource(kind) for kind in (RaisingTransport, BreakingBody, BreakingTransport)
)


class Wire(BaseComm):
    """A comm that keeps the data of every message the frontend would get."""

    sent: ClassVar[list[str]] = []

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        Wire.sent.append(json.dumps(data, ensure_ascii=False))


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


def find_button(widget: Any, description: str) -> Any:
    if getattr(widget, "description", None) == description and hasattr(widget, "click"):
        return widget
    found = (find_button(child, description) for child in getattr(widget, "children", ()))
    return next((button for button in found if button is not None), None)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def kernel(sim: Simulator) -> Iterator[Any]:
    hidden = ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL", "KIMI_CONFIRM_TIMEOUT")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(KIMI_BASE_URL=sim.base_url, KIMI_API_KEY=KEY)
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        execute(client, KERNEL_SETUP)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: Any, code: str) -> str:
    """Run `code` in the kernel (no panel answer may be in flight); its printed output."""
    texts: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            texts.append(msg["content"]["text"])

    reply = client.execute_interactive(code, store_history=False, timeout=30, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(texts)


@pytest.fixture
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a fresh kernel: the simulator, new sessions, a recording comm."""
    fresh_kernel_env(monkeypatch, KEY, sim.base_url, frontend="surfaces.ipynb")
    monkeypatch.setattr(comm, "create_comm", Wire)
    Wire.sent = []


@pytest.fixture
def ip(env: None) -> Iterator[InteractiveShell]:
    start_ipython()  # IPython's own test shell, as in test_magics
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    shell.run_line_magic("config", "KimiMagics.model = None")
    shell.run_line_magic("config", "KimiMagics.view = 'widget'")
    yield shell
    shell.run_line_magic("config", "KimiMagics.view = 'auto'")  # the shell outlives the test
    shell.run_line_magic("unload_ext", "kimi_jupyter")


def turns(session: str) -> list[Turn]:
    return [e.turn for e in KernelContext.current().sessions.get(session).exchanges]


# 1. Two answers at once in one kernel: each retry notice reaches only its own surface.


def run_cell_beside(panel: Panel, code: str, timeout: float = 30.0) -> str:
    """Execute a cell while the panel's messages keep arriving (kept in `panel.received`,
    in the order the kernel sent them); returns the cell's stream output."""
    client = panel.client
    msg_id = client.execute(code, store_history=False)
    out: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            continue
        content, kind = msg["content"], msg["msg_type"]
        if kind == "comm_msg" and content["comm_id"] == panel.comm_id:
            panel.received.append(content["data"])
        elif msg["parent_header"].get("msg_id") != msg_id:
            continue
        elif kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            raise AssertionError(f"the cell raised {content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)
    raise AssertionError(f"the cell did not finish; output so far: {''.join(out)!r}")


def test_retry_notices_stay_with_their_own_run(kernel: Any) -> None:
    panel = Panel(kernel)
    # The simulator's Retry-After is whole seconds: the panel waits 2 s, the cell 1 s.
    slow = "slow [[sim: fault=overloaded retry_after=2 times=1 chunks=20 delay_ms=30]]"
    panel.send({"type": "ask", "id": "p1", "session": "retry-panel", "prompt": slow})
    panel.wait_for(lambda m: m["type"] == "status" and m["id"] == "p1")
    quick = "quick [[sim: fault=overloaded retry_after=1 times=1]]"
    # The panel's answer waits for its retry while the whole cell runs: iopub keeps the
    # kernel's order, so its `done` arriving after the cell's end means they overlapped.
    out = run_cell_beside(panel, f"%%kimi -s retry-cell --no-thinking\n{quick}")
    assert "[retrying in 1.0 s: " in out
    assert "2.0 s" not in out
    assert "\n— kimi-k2.6 · " in out  # the cell's answer ended: its footer
    assert not [m for m in panel.received if m["type"] in ("done", "error")]  # still running
    done = panel.wait_for(lambda m: m["type"] in ("done", "error") and m["id"] == "p1")
    assert done["type"] == "done"
    assert done["record"]["status"] == "done"
    statuses = [m["text"] for m in panel.received if m["type"] == "status"]
    assert len(statuses) == 1
    assert statuses[0].startswith("retrying in 2.0 s: ")
    assert "1.0 s" not in statuses[0]


# 2. An approval nobody gives, or one cut short by Stop: the same in every surface.


@dataclass
class Approval:
    """How one answer with a `@tool(confirm=True)` call ended, as its surface showed it."""

    turn: dict[str, Any]  # the turn record
    ran: list[str]  # what the tool was called with
    shown: str  # what the surface sent its frontend about the approval and the end


def tool_statuses(record: dict[str, Any]) -> list[str]:
    return [result["status"] for result in record["tool_results"]]


def register_wipe() -> list[str]:
    ran: list[str] = []

    @tool(confirm=True)
    def wipe(path: str) -> str:
        """Delete a file."""
        ran.append(path)
        return "deleted"

    return ran


def approve_in_cell(request: pytest.FixtureRequest, case: str, prompt: str) -> Approval:
    ip = request.getfixturevalue("ip")
    request.getfixturevalue("toolbox")
    ran = register_wipe()
    with capture_output() as captured:
        clicker = threading.Thread(target=stop_the_cell, args=(captured,), daemon=True)
        if case == "stop":
            clicker.start()
        ip.run_cell_magic("kimi", "-s approvals --tools wipe", prompt)
    if case == "stop":
        clicker.join(10)
    (turn,) = turns("approvals")
    final = captured.outputs[-1].data
    return Approval(turn.to_json(), ran, "".join(Wire.sent) + final["text/html"])


def stop_the_cell(captured: Any) -> None:
    """Stop on the cell's live view once it shows Run / Skip: as a click would."""
    from ipywidgets.widgets.widget import _instances  # the open widgets, by model id

    def live() -> Any:
        shown = [o.data[WIDGET_MIME]["model_id"] for o in captured.outputs if WIDGET_MIME in o.data]
        return _instances.get(shown[0]) if shown else None

    view = wait_for(live)
    wait_for(lambda: find_button(view, "Skip"))
    find_button(view, "Stop").click()


def approve_in_widget(request: pytest.FixtureRequest, case: str, prompt: str) -> Approval:
    request.getfixturevalue("env")
    request.getfixturevalue("toolbox")
    ran = register_wipe()
    chat = ChatWidget(session="approvals")
    try:
        chat.input.value = prompt
        chat.send_button.click()
        if case == "stop":
            wait_for(lambda: chat._live is not None and find_button(chat._live.widget, "Skip"))
            chat.stop_button.click()
        chat.wait(10)
        assert not chat.busy
        (turn,) = turns("approvals")
        return Approval(turn.to_json(), ran, "".join(Wire.sent) + html_of(chat.transcript))
    finally:
        chat.close()


def approve_in_panel(request: pytest.FixtureRequest, case: str, prompt: str) -> Approval:
    client = request.getfixturevalue("kernel")
    timeout = os.environ["KIMI_CONFIRM_TIMEOUT"]  # the one the test set in this process
    execute(client, f"{KERNEL_WIPE}\nos.environ['KIMI_CONFIRM_TIMEOUT'] = {timeout!r}")
    try:
        panel = Panel(client)
        ask = f"approve-{case}"
        panel.send({"type": "ask", "id": ask, "session": ask, "prompt": prompt})
        panel.wait_for(lambda m: m["type"] == "confirm" and m["id"] == ask)
        if case == "stop":
            panel.send({"type": "stop", "id": ask})
        end = panel.wait_for(lambda m: m["type"] in ("done", "error") and m["id"] == ask)
    finally:
        ran = execute(
            client,
            "print(json.dumps(ran)); del os.environ['KIMI_CONFIRM_TIMEOUT']\n"
            "KernelContext.current().tools.unregister('wipe')",
        )
    assert end["type"] == "done", end
    settled = [m for m in panel.received if m["type"] == "confirm_end"]
    return Approval(end["record"], json.loads(ran), json.dumps(settled))


SURFACES = {"cell": approve_in_cell, "widget": approve_in_widget, "panel": approve_in_panel}
SHOWN = {
    ("timeout", "cell"): TIMEOUT_NOTICE,
    ("timeout", "widget"): TIMEOUT_NOTICE,
    ("timeout", "panel"): '"run": false, "reason": "timeout"',
    ("stop", "cell"): "Stopped: partial answer",
    ("stop", "widget"): "Stopped: partial answer",
    ("stop", "panel"): '"run": false, "reason": "stopped"',
}


@pytest.mark.parametrize("case", ["timeout", "stop"])
@pytest.mark.parametrize("surface", ["cell", "widget", "panel"])
def test_an_approval_times_out_or_stops_alike_in_every_surface(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    surface: str,
    case: str,
) -> None:
    # Stop must win long before this timeout: a Stop that did not release would show.
    monkeypatch.setenv("KIMI_CONFIRM_TIMEOUT", "0.5" if case == "timeout" else "20")
    prompt = f"Clean up ({surface}, {case}). [[sim: tool=wipe]]"
    started = time.monotonic()
    seen = SURFACES[surface](request, case, prompt)
    assert seen.ran == []
    assert tool_statuses(seen.turn) == ["skipped"]
    assert SHOWN[case, surface] in seen.shown
    if case == "stop":
        assert seen.turn["status"] == "stopped"
        assert TIMEOUT_NOTICE not in seen.shown
        assert time.monotonic() - started < 10
        return
    assert seen.turn["status"] == "done"  # the model heard of the skip and answered
    (reply,) = [m for m in sim.requests[-1]["messages"] if m["role"] == "tool"]
    assert reply["content"].startswith("error: ")  # the model is told the call did not run
    assert reply["content"] in seen.turn["answer"]  # the simulator answers from the reply


def test_a_timed_out_approval_stays_noticed_until_the_answer_ends(
    env: None, toolbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live view (the cell's and the chat widget's) says why a call was skipped for as
    long as the answer goes on, not for the instant before the tool's panel repaints."""
    monkeypatch.setenv("KIMI_CONFIRM_TIMEOUT", "0.3")
    register_wipe()
    chat = ChatWidget(session="notice")
    try:
        chat.send("Clean up. [[sim: tool=wipe]]", wait=False)
        live = wait_for(lambda: chat._live)
        chat.wait(10)
        assert TIMEOUT_NOTICE in "".join(Wire.sent)  # it was sent...
        titles = [t for p in live.tools.panels.values() for t in p.accordion.titles]
        assert TIMEOUT_NOTICE in html_of(live.widget) + " ".join(titles)  # ...and it stays
    finally:
        chat.close()


# 3. A transport that raises: the run ends failed, with one line, in every surface.


@pytest.mark.parametrize("where", list(TRANSPORTS))
def test_a_raising_transport_fails_the_cell_with_one_line(ip: InteractiveShell, where: str) -> None:
    KernelContext.current().transport = TRANSPORTS[where]()
    with capture_output() as captured:
        result = ip.run_cell("%%kimi -s broken\nhello")
    assert isinstance(result.error_in_exec, UsageError)
    message = str(result.error_in_exec)
    assert captured.stderr == f"UsageError: {message}\n"  # IPython prints exactly one line
    if where == "raises":
        assert message.endswith(" failed: RuntimeError: boom in two lines")
        assert turns("broken") == []  # nothing arrived: the session is as it was
        return
    assert message == "the answer stopped mid-stream: RuntimeError: boom mid-body in two lines"
    (turn,) = turns("broken")
    assert (turn.status, turn.answer, turn.error) == ("failed", PARTIAL, message)
    assert "Failed: the answer stopped mid-stream" in captured.outputs[-1].data["text/html"]


@pytest.mark.parametrize("where", list(TRANSPORTS))
def test_a_raising_transport_fails_the_widget_with_a_notice(env: None, where: str) -> None:
    KernelContext.current().transport = TRANSPORTS[where]()
    chat = ChatWidget(session="broken")
    try:
        chat.input.value = "hello there"
        chat.send_button.click()
        chat.wait(30)
        assert not chat.busy
        assert chat.input.value == "hello there"  # the message is back, to send again
        notice = chat.transcript.children[-1].value
        assert notice.startswith("<div class='kimi-chat-notice'>⚠ ")
        assert "\n" not in notice
        assert "RuntimeError: boom" in notice
        assert "in two lines</div>" in notice
        if where == "raises":
            assert len(chat.transcript.children) == 1  # only the notice: nothing arrived
            assert turns("broken") == []
            return
        (turn,) = turns("broken")
        assert (turn.status, turn.answer) == ("failed", PARTIAL)
        assert "naïve ✓" in html_of(chat.transcript.children[0])  # the partial answer stays
    finally:
        chat.close()


@pytest.mark.parametrize("where", list(TRANSPORTS))
def test_a_raising_transport_fails_the_panel_and_the_kernel_lives(kernel: Any, where: str) -> None:
    execute(kernel, TRANSPORT_SOURCE)
    execute(kernel, f"KernelContext.current().transport = {TRANSPORTS[where].__name__}()")
    try:
        panel = Panel(kernel)
        panel.send({"type": "ask", "id": "b1", "session": f"broken-{where}", "prompt": "hello"})
        error = panel.wait_for(lambda m: m["type"] in ("done", "error") and m.get("id") == "b1")
    finally:
        execute(kernel, "KernelContext.current().transport = None")
    assert error["type"] == "error"
    assert "\n" not in error["message"]
    if where == "raises":
        assert error["message"].endswith(" failed: RuntimeError: boom in two lines")
        assert error["record"] is None
    else:
        assert (
            error["message"]
            == "the answer stopped mid-stream: RuntimeError: boom mid-body in two lines"
        )
        record = error["record"]
        assert (record["status"], record["answer"]) == ("failed", PARTIAL)
        assert record["error"] == error["message"]
    panel.send({"type": "hello", "version": 1})  # the kernel, and this comm, still answer
    assert panel.wait_for(lambda m: m["type"] == "sessions")["default"] == "default"
