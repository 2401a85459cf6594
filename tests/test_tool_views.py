"""Tool calls in every view: live panels with Run / Skip, the text view, the saved bundle."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import comm
import pytest
from comm.base_comm import BaseComm

from kimi_jupyter.events import (
    ContentDelta,
    Done,
    Event,
    ReasoningDelta,
    StepStarted,
    ToolCall,
    ToolCallDelta,
    ToolFinished,
    ToolResult,
    ToolStarted,
)
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.options import AskOptions
from kimi_jupyter.render.bundle import TURN_MIME, static_bundle, tool_title
from kimi_jupyter.render.text import TextView
from kimi_jupyter.run import ApprovalRequested, ApprovalSettled, RetryScheduled, RunEnded
from kimi_jupyter.tools import tool
from kimi_jupyter.turn import Turn

HOSTILE = "<script>window.__t=1</script><img src=x onerror='window.__t=2'>"
CALL = ToolCall("call_1", "lookup_population", '{"city":"Paris"}')


class Wire(BaseComm):
    """A comm that keeps which comms opened and closed (nothing goes anywhere)."""

    opened: ClassVar[set[str]] = set()
    closed: ClassVar[set[str]] = set()

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        if msg_type == "comm_open":
            Wire.opened.add(self.comm_id)
        elif msg_type == "comm_close":
            Wire.closed.add(self.comm_id)


@pytest.fixture(autouse=True)
def wire(monkeypatch: pytest.MonkeyPatch) -> type[Wire]:
    monkeypatch.setattr(comm, "create_comm", Wire)
    Wire.opened, Wire.closed = set(), set()
    return Wire


def result(status: str = "ok", preview: str = "2148000", call: ToolCall = CALL) -> ToolResult:
    return ToolResult(call.id, call.name, call.arguments, status, preview, 0.123)  # type: ignore[arg-type]


def tool_events(*, confirm: bool = False, status: str = "ok") -> list[Event]:
    return [
        ReasoningDelta("I should look it up."),
        ToolCallDelta(0, CALL.id, "function", CALL.name, ""),
        ToolCallDelta(0, arguments=CALL.arguments),
        ToolStarted(CALL, 1, confirm),
        ToolFinished(result(status)),
        StepStarted(2),
        ReasoningDelta("\n\nNow I know."),  # the run joins the steps' text (STEP_BREAK)
        ContentDelta("Paris has 2,148,000 people."),
        Done("stop"),
    ]


def html_of(widget: Any) -> str:
    own = getattr(widget, "value", "")
    shown = "".join(o["data"].get("text/html", "") for o in getattr(widget, "outputs", ()))
    return (
        (own if isinstance(own, str) else "")
        + shown
        + "".join(html_of(child) for child in getattr(widget, "children", ()))
    )


def live_view(**kwargs: Any) -> Any:
    from kimi_jupyter.render.widget import LiveView

    return LiveView(clock=time.monotonic, interval=0.0, **kwargs)


def test_a_tool_call_gets_a_folded_panel_between_thinking_and_answer(wire: type[Wire]) -> None:
    view = live_view()
    events = tool_events()
    for event in events[:4]:
        view.add(event)
    panel = view.tools.panels[CALL.id]
    assert panel.accordion.titles == ("🔧 lookup_population · running",)
    assert panel.accordion.selected_index is None  # folded: the answer matters more
    assert view.widget.children == (view._header, view.accordion, view.tools.box, view.answer.box)
    assert '<pre class="kimi-tool-text">{\n  "city": "Paris"\n}</pre>' in panel.arguments.value
    assert view.progress.phase == "running lookup_population"
    for event in events[4:]:
        view.add(event)
    view.finish("done")
    assert panel.accordion.titles == ("🔧 lookup_population · ok · 0.12 s",)
    assert "2148000" in panel.output.value
    assert view.answer.text == "Paris has 2,148,000 people."
    assert view.thinking.text == "I should look it up.\n\nNow I know."
    view.close()
    assert wire.opened == wire.closed


@pytest.mark.parametrize("status", ["error", "refused", "skipped", "echoed", "not run"])
def test_every_status_shows_in_the_title(status: str) -> None:
    view = live_view()
    for event in tool_events(status=status):
        view.add(event)
    title = view.tools.panels[CALL.id].accordion.titles[0]
    timed = " · 0.12 s" if status == "error" else ""
    assert title == f"🔧 lookup_population · {status}{timed}"
    view.close()


def test_tool_text_in_the_live_view_is_escaped() -> None:
    call = ToolCall("c2", f"evil{HOSTILE}\x1b[31m", json.dumps({"q": HOSTILE}))
    view = live_view()
    view.add(ToolStarted(call, 1))
    view.add(ToolFinished(result("ok", HOSTILE, call)))
    panel = view.tools.panels["c2"]
    html = html_of(view.tools.box)
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in panel.output.value
    assert "\x1b" not in panel.accordion.titles[0]  # titles are text, but one clean line
    view.close()


class Control:
    """What a live view asks of its run, recorded."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, bool]] = []
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1

    def answer(self, call_id: str, run: bool) -> bool:
        self.answers.append((call_id, run))
        return True


@pytest.mark.parametrize(("button", "run"), [("run", True), ("skip", False)])
def test_run_and_skip_answer_the_run_and_the_buttons_go(
    button: str, run: bool, wire: type[Wire]
) -> None:
    control = Control()
    view = live_view(control=control)
    view.add(ToolStarted(CALL, 1, confirm=True))
    panel = view.tools.panels[CALL.id]
    assert panel.accordion.titles[0] == "🔧 lookup_population · waiting for you"
    view.add(ApprovalRequested(CALL, 300.0))
    assert panel.waiting
    assert panel.accordion.selected_index == 0  # opened to ask
    assert "waiting for you: run lookup_population?" in view.status.value
    {"run": panel.run_button, "skip": panel.skip_button}[button].click()
    assert control.answers == [(CALL.id, run)]  # the run decides; the view only passes it on
    buttons = panel.run_button
    view.add(ApprovalSettled(CALL, run, "user"))
    assert not panel.waiting
    assert panel.body.children == (panel.arguments, panel.output)  # the buttons are gone
    assert buttons.comm is None  # and closed
    assert panel.accordion.titles[0] == f"🔧 lookup_population · {'running' if run else 'skipped'}"
    view.add(ToolFinished(result("ok" if run else "skipped")))
    view.add(RunEnded("done", Turn(answer="x")))
    assert view.stop_button.disabled
    view.close()
    assert wire.opened == wire.closed


def test_a_timed_out_approval_says_so_and_stop_goes_to_the_run() -> None:
    control = Control()
    view = live_view(control=control)
    view.add(ApprovalRequested(CALL, 0.2))
    view.add(ApprovalSettled(CALL, False, "timeout"))
    assert not view.tools.panels[CALL.id].waiting
    assert "no answer in time: lookup_population skipped" in view.status.value
    view.stop_button.click()
    assert control.stops == 1
    view.add(RetryScheduled(2, 1.5, "Kimi API error 429: busy"))
    assert "retrying in 1.5 s: Kimi API error 429: busy" in view.status.value
    view.close()


def test_calls_that_never_ended_say_how_the_answer_did() -> None:
    view = live_view()
    view.add(ToolStarted(CALL, 1))
    view.finish("stopped")
    assert view.tools.panels[CALL.id].accordion.titles[0] == "🔧 lookup_population · stopped"
    view.close()


def tool_turn(preview: str = HOSTILE) -> Turn:
    call = ToolCall("c1", "lookup", json.dumps({"q": HOSTILE}))
    return Turn(
        answer="It is 42.",
        tool_calls=(call,),
        tool_results=(
            ToolResult("c1", "lookup", call.arguments, "ok", preview, 0.5, 1),
            ToolResult("c2", "delete_all", "{}", "skipped", "", 0.0, 1),
        ),
        model="kimi-k2.6",
    )


def test_bundle_shows_tool_panels_and_keeps_hostile_text_inert() -> None:
    bundle = static_bundle(tool_turn(), "default")
    html = bundle["text/html"]
    assert html.count('<details class="kimi-tool">') == 2
    assert "<summary>🔧 lookup · ok · 0.50 s</summary>" in html
    assert "<summary>🔧 delete_all · skipped</summary>" in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;window.__t=1&lt;/script&gt;" in html
    assert bundle["text/plain"].startswith("It is 42.\n\nTool calls:\n- 🔧 lookup · ok · 0.50 s: ")
    assert "- 🔧 delete_all · skipped: {}" in bundle["text/plain"]
    record = bundle[TURN_MIME]
    assert [r["status"] for r in record["tool_results"]] == ["ok", "skipped"]
    assert record["tool_results"][0]["preview"] == HOSTILE  # the record is data, not HTML


def test_bundle_without_tools_is_unchanged() -> None:
    bundle = static_bundle(Turn(answer="plain"), "default")
    assert bundle["text/plain"] == "plain"
    assert "kimi-tool'" not in bundle["text/html"]
    assert "<details class" not in bundle["text/html"]


def test_titles_leave_out_the_time_of_calls_that_did_not_run() -> None:
    assert tool_title("f", "ok", 1.234) == "🔧 f · ok · 1.23 s"
    assert tool_title("f", "refused", 1.0) == "🔧 f · refused"
    assert tool_title("f\nx" * 50, "running").endswith("… · running")


def text_run(events: list[Event], answers: Iterator[str] | None = None) -> tuple[str, Any]:
    out = io.StringIO()

    def ask(prompt: str) -> str:
        out.write(prompt)
        if answers is None:
            raise EOFError
        return next(answers)

    view = TextView(out, color=False, ask=ask)
    for event in events:
        view.add(event)
    return out.getvalue(), view


def test_text_view_writes_a_line_per_call_and_per_result() -> None:
    _text, view = text_run(tool_events())
    view.finish(Turn(answer="Paris has 2,148,000 people.", model="kimi-k2.6"))
    out = view._out.getvalue()
    assert out.startswith(
        "Thinking: I should look it up.\n"
        '🔧 lookup_population({"city":"Paris"})\n'
        "🔧 lookup_population · ok · 0.12 s → 2148000\n"
        "Thinking: Now I know.\n\nParis has 2,148,000 people."
    ), out


def test_text_view_strips_control_characters_from_tool_text() -> None:
    call = ToolCall("c", "f\x1b[2J", '{"a": "\\u001b[31m"}')
    text, _ = text_run(
        [ToolStarted(call, 1), ToolFinished(result("ok", "x\x1b]0;pwned\x07y", call))]
    )
    assert "\x1b" not in text
    assert "\x07" not in text


@pytest.mark.parametrize(("reply", "run"), [("y", True), ("YES ", True), ("", False), ("n", False)])
def test_text_confirm_asks_on_the_terminal(reply: str, run: bool) -> None:
    _text, view = text_run([], iter([reply]))
    assert view.confirm(CALL) is run
    assert view._out.getvalue() == 'Run lookup_population({"city":"Paris"})? [y/N] '


def test_text_confirm_without_input_skips() -> None:
    _, view = text_run([])
    assert view.confirm(CALL) is False


def test_text_view_answers_an_approval_through_the_run() -> None:
    control = Control()
    view = TextView(io.StringIO(), color=False, ask=lambda _prompt: "y", control=control)
    view.add(ApprovalRequested(CALL, 300.0))
    assert control.answers == [(CALL.id, True)]


def test_headless_confirm_skips_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    from kimi_jupyter.render.display import Unattended

    control = Control()
    Unattended(control).add(ApprovalRequested(CALL, 300.0))  # type: ignore[arg-type]
    assert control.answers == [(CALL.id, False)]
    assert "skipped lookup_population: it needs confirming" in capsys.readouterr().err


# With the simulator: the core's loop drives the views through `show_turn`.


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from kimi_jupyter.simulator import Simulator

    with Simulator(api_key="sk-tool-views") as sim:
        monkeypatch.setenv("KIMI_API_KEY", "sk-tool-views")
        monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
        monkeypatch.delenv("KIMI_MODEL", raising=False)
        monkeypatch.setattr(KernelContext, "_current", KernelContext())
        yield sim


def test_show_turn_text_view_asks_and_runs_a_confirmed_tool(
    toolbox: None, sim_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from kimi_jupyter.chat import Chat
    from kimi_jupyter.render.display import show_turn

    calls: list[str] = []

    @tool(confirm=True)
    def lookup_population(city: str) -> int:
        """The population of a city."""
        calls.append(city)
        return 2_148_000

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    prompt = "How many? [[sim: tool=lookup_population]]"
    turn = show_turn(Chat(), prompt, session="default", view="text", options=AskOptions(tools=True))
    assert calls == ["Paris"]
    assert [r.status for r in turn.tool_results] == ["ok"]
    out = capsys.readouterr().out
    assert '🔧 lookup_population({"city": "Paris"})' in out
    assert "🔧 lookup_population · ok · " in out


def test_show_turn_static_view_skips_confirmed_tools(
    toolbox: None, sim_env: Any, capsys: Any
) -> None:
    from kimi_jupyter.chat import Chat
    from kimi_jupyter.render.display import show_turn

    @tool(confirm=True)
    def wipe(path: str) -> str:
        """Delete a file."""
        raise AssertionError("a headless run must not run a confirmed tool")

    turn = show_turn(Chat(), "go [[sim: tool=wipe]]", session="default", view="static",
                     options=AskOptions(tools=True))  # fmt: skip
    assert [r.status for r in turn.tool_results] == ["skipped"]
    assert "skipped wipe" in capsys.readouterr().err


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


@pytest.fixture
def frontend(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel a Jupyter server started: the chat widget opens its widgets."""
    monkeypatch.setenv("JPY_SESSION_NAME", "tools.ipynb")


def waiting_panel(chat: Any) -> Any:
    live = chat._live
    panels = list(live.tools.panels.values()) if live is not None else []
    return next((p for p in panels if p.waiting), None)


@pytest.mark.parametrize(("action", "status"), [("run", "ok"), ("skip", "skipped")])
def test_chat_widget_offers_tools_and_asks_in_its_live_view(
    toolbox: None, sim_env: Any, frontend: None, action: str, status: str
) -> None:
    from kimi_jupyter.chat_widget import ChatWidget

    @tool(confirm=True)
    def lookup_population(city: str) -> int:
        """The population of a city."""
        return 2_148_000

    chat = ChatWidget()
    chat.send("How many? [[sim: tool=lookup_population]]", wait=False)
    panel = wait_for(lambda: waiting_panel(chat))  # the worker thread waits for the click
    (panel.run_button if action == "run" else panel.skip_button).click()
    chat.wait(10)
    turn = chat._result
    assert turn is not None
    assert [r.status for r in turn.tool_results] == [status]
    shown = html_of(chat.transcript)
    assert f"<summary>🔧 lookup_population · {status}" in shown
    assert "kimi-tool" in shown
    chat.close()


def test_chat_widget_stop_skips_a_waiting_call(toolbox: None, sim_env: Any, frontend: None) -> None:
    from kimi_jupyter.chat_widget import ChatWidget

    @tool(confirm=True)
    def wipe(path: str) -> str:
        """Delete a file."""
        raise AssertionError("stopped: must not run")

    chat = ChatWidget()
    chat.send("go [[sim: tool=wipe]]", wait=False)
    wait_for(lambda: waiting_panel(chat))
    chat.stop()
    chat.wait(10)
    assert chat._result is not None
    assert [r.status for r in chat._result.tool_results] == ["skipped"]
    assert not chat.busy
    chat.close()
