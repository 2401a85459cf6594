"""Faults end in one clear line and lose nothing (issue 11, C).

Each fault the simulator injects mid-answer is run through the Python API and a `%%kimi` cell
in a real `InteractiveShell`, and each must give: one line (no traceback text), the partial
answer kept and labelled failed, a session whose history replays validly on the next turn,
and a shell that still runs cells. Then the Retry-After budget, the `--no-stream` deadline, and
the interrupts: Ctrl-C or Stop during a back-off, during `--no-stream`, during a tool call,
and during `map`.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from kimi_jupyter import Chat, errors, tool
from kimi_jupyter.conversation import Session, Sessions
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.run import AnswerRun
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import Toolbox

KEY = "sk-fault-matrix-key"
IDLE = 0.5  # KIMI_IDLE_TIMEOUT in this module: a stalled answer fails in half a second
TOTAL = 300.0  # KIMI_TIMEOUT: far off, except where a test sets its own

# fault directive (it strikes after 6 events: role, end of thinking, 4 answer fragments)
# → what the one line says
MID_ANSWER = {
    "malformed:json": "malformed chunk in the stream: a data line is not JSON",
    "malformed:null-choice": "malformed chunk in the stream: choices[0] is null, not an object",
    "malformed:bad-content": "choices[0].delta.content is a number, not text",
    "malformed:bad-usage": "the usage holds a token count that is not a number",
    "malformed:odd-shape": "malformed chunk in the stream: choices is an object, not a list",
    "reset-mid-stream:in-event": "the answer stopped mid-stream: connection lost",
    "stall:silent stall=20": f"no event for {IDLE:g} s (the idle timeout, KIMI_IDLE_TIMEOUT)",
    "stall:keepalive stall=20": f"no event for {IDLE:g} s (the idle timeout, KIMI_IDLE_TIMEOUT)",
    "error-frame": "the stream reported an error: Stream failed (server_error)",
    "no-done": "the stream ended before `data: [DONE]`",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL", "KIMI_MAX_RETRY_WAIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
    monkeypatch.setenv("KIMI_IDLE_TIMEOUT", str(IDLE))
    monkeypatch.setenv("KIMI_TIMEOUT", str(TOTAL))


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch, toolbox: Toolbox) -> Iterator[InteractiveShell]:
    monkeypatch.setattr(KernelContext, "_current", KernelContext())  # a fresh kernel
    start_ipython()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    shell.run_line_magic("config", "KimiMagics.model = None")
    shell.run_line_magic("config", "KimiMagics.view = 'text'")
    yield shell
    shell.run_line_magic("config", "KimiMagics.view = 'auto'")
    shell.run_line_magic("unload_ext", "kimi_jupyter")


def run(ip: InteractiveShell, cell: str) -> tuple[str, BaseException | None]:
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return captured.stdout + captured.stderr, result.error_in_exec


def session(name: str = "default") -> Session:
    return KernelContext.current().sessions.get(name)


def one_line(text: str) -> None:
    assert "\n" not in text.strip()
    assert "Traceback" not in text


def alive(ip: InteractiveShell) -> None:
    assert run(ip, "answer = 6 * 7")[1] is None
    assert ip.user_ns["answer"] == 42


def replays_validly(sim: Simulator, chat: Chat, partial: str) -> None:
    """The next question goes out after the kept partial answer, and the API accepts it."""
    turn = chat.ask("and next?")
    assert turn.status == "done"
    messages = sim.requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == partial


def ask(fault: str) -> str:
    return f"tell me [[sim: fault={fault} at=6 reasoning_chunks=0]]"


@pytest.mark.parametrize("fault", MID_ANSWER)
def test_a_fault_mid_answer_through_the_api(sim: Simulator, fault: str) -> None:
    chat = Chat("t", sessions=Sessions())
    with pytest.raises(errors.StreamError) as info:
        chat.ask(ask(fault))
    message = str(info.value)
    assert MID_ANSWER[fault] in message
    one_line(message)
    (kept,) = chat.turns
    assert kept.status == "failed"
    assert kept.error == message
    assert kept.answer.startswith("[Kimi simulator]")  # four fragments arrived
    assert info.value.partial is not None
    assert info.value.partial.answer == kept.answer
    replays_validly(sim, chat, kept.answer)


@pytest.mark.parametrize("fault", MID_ANSWER)
def test_a_fault_mid_answer_in_a_cell(sim: Simulator, ip: InteractiveShell, fault: str) -> None:
    output, error = run(ip, f"%%kimi\n{ask(fault)}")
    assert isinstance(error, UsageError)
    assert MID_ANSWER[fault] in str(error)
    one_line(str(error))
    assert "Traceback" not in output
    assert f"[Failed: {error}]" in output  # the partial answer stays on screen, marked
    (exchange,) = session().exchanges
    assert exchange.turn.status == "failed"
    assert exchange.turn.answer in output
    output, error = run(ip, "%%kimi\nand next?")
    assert error is None
    assert "Received 3 messages" in output  # question, kept partial answer, question
    alive(ip)


def test_retry_after_beyond_the_budget_says_how_long_the_server_asked(
    sim: Simulator, ip: InteractiveShell
) -> None:
    before = len(sim.requests)
    output, error = run(ip, "%%kimi\nbusy [[sim: fault=overloaded retry_after=120]]")
    assert isinstance(error, UsageError)
    assert "the server asked to wait 120 s, more than KIMI_MAX_RETRY_WAIT allows (60 s)" in (
        str(error)
    )
    one_line(output)
    assert len(sim.requests) - before == 1  # nobody waited two minutes
    assert session().exchanges == []
    alive(ip)


def test_no_stream_ends_at_the_total_deadline_in_one_line(
    sim: Simulator, ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_TIMEOUT", "0.5")
    before = len(sim.requests)
    for fault in ("stall:silent stall=20", "stall:trickle stall=0.05", "stall:keepalive stall=20"):
        output, error = run(ip, f"%%kimi --no-stream\nslow [[sim: fault={fault}]]")
        assert isinstance(error, UsageError)
        assert str(error) == "no answer within 0.5 s (the total deadline, KIMI_TIMEOUT)"
        one_line(output)
    output, error = run(ip, "%%kimi --no-stream\nlate [[sim: latency_ms=20000]]")
    assert "no answer within 0.5 s (the total deadline, KIMI_TIMEOUT)" in output
    assert len(sim.requests) - before == 4  # a deadline is not retried
    assert session().exchanges == []
    alive(ip)


# --- interrupts ------------------------------------------------------------------------------


@pytest.fixture
def interrupt_in() -> Iterator[Callable[[float], None]]:
    """Ctrl-C in the main thread after some seconds, as a kernel interrupt does it."""
    timers: list[threading.Timer] = []

    def start(seconds: float) -> None:
        timers.append(threading.Timer(seconds, _thread.interrupt_main))
        timers[-1].start()

    yield start
    for timer in timers:  # a test that ended early must not interrupt the next one
        timer.cancel()


def test_ctrl_c_during_back_off_sends_nothing_more(
    sim: Simulator, ip: InteractiveShell, interrupt_in: Callable[[float], None]
) -> None:
    before = len(sim.requests)
    interrupt_in(0.5)
    output, error = run(ip, "%%kimi\nbusy [[sim: fault=overloaded retry_after=30]]")
    assert error is None  # stopped, not failed: the cell ends quietly
    assert "[Stopped" in output
    assert "Traceback" not in output
    assert len(sim.requests) - before == 1  # the retry never went out
    output, error = run(ip, "%%kimi\nsomething else")
    assert error is None
    assert [m["role"] for m in sim.requests[-1]["messages"]] == ["user"]  # nothing empty
    alive(ip)


def test_stop_during_back_off_ends_the_run_and_sends_nothing_more(sim: Simulator) -> None:
    chat = Chat("t", sessions=Sessions())
    before = len(sim.requests)
    run_ = AnswerRun(chat, "busy [[sim: fault=overloaded retry_after=30]]").start()
    deadline = time.monotonic() + 10
    while len(sim.requests) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    run_.stop()
    ended = run_.wait(10)  # the back-off is woken, not waited out
    assert ended is not None
    assert ended.status == "stopped"
    time.sleep(0.2)
    assert len(sim.requests) - before == 1


def test_ctrl_c_during_no_stream_ends_as_streaming_does(
    sim: Simulator, ip: InteractiveShell, interrupt_in: Callable[[float], None]
) -> None:
    endings = []
    for flags in ("--no-stream", ""):
        interrupt_in(0.5)
        output, error = run(ip, f"%%kimi {flags}\nwait [[sim: latency_ms=20000]]")
        assert error is None
        assert "Traceback" not in output
        endings.append(output.strip().splitlines()[0])
    assert endings == ["[Stopped: partial answer]"] * 2
    assert [e.turn.status for e in session().exchanges] == ["stopped", "stopped"]
    alive(ip)


def test_ctrl_c_during_a_tool_call_marks_the_turn_stopped(
    sim: Simulator, ip: InteractiveShell, toolbox: Toolbox
) -> None:
    started = threading.Event()

    @tool
    def slow_lookup(city: str) -> str:
        """Look a city up, slowly."""
        started.set()
        time.sleep(1.0)  # Ctrl-C comes meanwhile; the call itself finishes
        return f"{city}: found"

    threading.Thread(target=lambda: started.wait(10) and _thread.interrupt_main()).start()
    before = len(sim.requests)
    output, error = run(ip, "%%kimi --tools slow_lookup\nfind it [[sim: tool=slow_lookup]]")
    assert error is None
    assert "Traceback" not in output
    (exchange,) = session().exchanges
    assert exchange.turn.status == "stopped"
    assert [r.status for r in exchange.turn.tool_results] == ["ok"]
    assert len(sim.requests) - before == 1  # no next step after Ctrl-C
    output, error = run(ip, "%%kimi\nso?")  # the call and its result replay validly
    assert error is None
    alive(ip)


def test_keyboard_interrupt_inside_a_tool_marks_the_turn_stopped(
    sim: Simulator, toolbox: Toolbox
) -> None:
    @tool
    def interrupted(city: str) -> str:
        """The user presses Ctrl-C while this runs."""
        raise KeyboardInterrupt

    chat = Chat("t", sessions=Sessions(), tools=["interrupted"])
    with pytest.raises(KeyboardInterrupt):
        chat.ask("go [[sim: tool=interrupted]]")
    (turn,) = chat.turns
    assert turn.status == "stopped"
    assert [r.status for r in turn.tool_results] == ["not run"]
    assert chat.ask("and now?", tools=False).status == "done"  # the history replays validly


def test_after_stop_map_sends_no_further_request(
    sim: Simulator, interrupt_in: Callable[[float], None]
) -> None:
    df = pd.DataFrame(
        {"text": [f"row {i} [[sim: fault=overloaded retry_after=2]]" for i in range(3)]}
    )
    chat = Chat("t", sessions=Sessions())
    before = len(sim.requests)
    interrupt_in(0.5)  # every row is in its 2 s back-off by then
    report = chat.map("{text}", df, concurrency=3, view="none")
    assert report.stopped
    sent = len(sim.requests) - before
    assert sent == 3
    _wait_for_no_thread("kimi-map")  # the workers end, woken from their back-off
    assert len(sim.requests) - before == sent  # and no retry went out after Stop


def _wait_for_no_thread(prefix: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(t.name.startswith(prefix) for t in threading.enumerate()):
        assert time.monotonic() < deadline, f"{prefix} threads still running"
        time.sleep(0.02)
