"""Deadlines and Stop: no server holds a request forever, and Stop reaches it wherever it waits.

`KIMI_TIMEOUT` bounds one request (all attempts, streamed or not), `KIMI_IDLE_TIMEOUT` the
silence between two events of a stream (keep-alive comments and trickled bytes are no event),
`KIMI_MAX_RETRY_WAIT` the waiting between attempts. Each says which one fired. Stop ends a
back-off, a wait for headers and a stalled read at once. Waits here are bounded (`join(10)`),
never timed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_jupyter import Chat, errors
from kimi_jupyter.client import KimiClient
from kimi_jupyter.config import Settings
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.simulator import Simulator

from helpers import Recorder, make_client, sse, stream_response

KEY = "sk-deadline-tests"
PAYLOAD = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, **settings: Any) -> Chat:
    return Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url, **settings)


def ask(fault: str) -> str:
    return f"go [[sim: fault={fault} at=6 reasoning_chunks=0]]"


def test_the_limits_come_from_the_environment_and_explicit_values_win() -> None:
    defaults = Settings.from_env({})
    assert (defaults.timeout, defaults.idle_timeout, defaults.max_retry_wait) == (1800, 120, 60)
    env = {"KIMI_TIMEOUT": "90", "KIMI_IDLE_TIMEOUT": " 7.5 ", "KIMI_MAX_RETRY_WAIT": "3"}
    settings = Settings.from_env(env)
    assert (settings.timeout, settings.idle_timeout, settings.max_retry_wait) == (90, 7.5, 3)
    assert Settings.from_env(env, timeout=5.0).timeout == 5.0
    for name in env:
        for junk in ("soon", "0", "-1", "nan"):
            with pytest.raises(errors.ConfigurationError, match=name) as info:
                Settings.from_env({name: junk})
            assert "\n" not in str(info.value)
    with pytest.raises(errors.ConfigurationError, match="idle_timeout"):
        Settings(idle_timeout=0)


def test_a_stream_that_goes_quiet_ends_at_the_idle_timeout(sim: Simulator) -> None:
    chat = new_chat(sim, idle_timeout=0.5)
    before = len(sim.requests)
    with pytest.raises(errors.StreamError) as info:
        chat.ask(ask("stall:silent stall=30"))
    assert str(info.value) == (
        "the answer stopped mid-stream: no event for 0.5 s (the idle timeout, KIMI_IDLE_TIMEOUT)"
    )
    assert chat.turns[0].status == "failed"
    assert chat.turns[0].answer  # what came before the silence is kept
    assert len(sim.requests) - before == 1


def test_keep_alive_comments_are_no_event(sim: Simulator) -> None:
    """Comments every 0.2 s keep a 0.3 s read timeout from firing; the idle timeout fires."""
    chat = new_chat(sim, read_timeout=0.3, idle_timeout=0.8)
    with pytest.raises(errors.StreamError, match=r"no event for 0\.8 s"):
        chat.ask(ask("stall:keepalive stall=2"))
    assert chat.turns[0].answer


def test_a_trickling_stream_ends_at_the_total_deadline(sim: Simulator) -> None:
    """A byte every 20 ms: no read ever times out, and no event completes in time."""
    chat = new_chat(sim, timeout=1.0, idle_timeout=60)
    with pytest.raises(errors.StreamError) as info:
        chat.ask(ask("stall:trickle stall=0.02"))
    assert str(info.value) == (
        "the answer stopped mid-stream: it took longer than 1 s (the total deadline, KIMI_TIMEOUT)"
    )
    assert chat.turns[0].status == "failed"
    assert chat.turns[0].answer


def test_no_stream_waits_up_to_the_total_deadline_not_the_read_timeout(sim: Simulator) -> None:
    chat = new_chat(sim, read_timeout=0.2, timeout=10)
    turn = chat.ask("slow but fine [[sim: latency_ms=600]]", stream=False)  # > read timeout
    assert turn.status == "done"
    chat = new_chat(sim, timeout=0.5)
    before = len(sim.requests)
    for late in ("latency_ms=20000", "fault=stall stall=20", "fault=stall:trickle stall=0.05"):
        with pytest.raises(errors.DeadlineError) as info:
            chat.ask(f"late [[sim: {late}]]", stream=False)
        assert str(info.value) == "no answer within 0.5 s (the total deadline, KIMI_TIMEOUT)"
    assert len(sim.requests) - before == 3  # never retried
    assert chat.turns == []


def test_a_back_off_never_runs_past_the_deadline(sim: Simulator) -> None:
    chat = new_chat(sim, timeout=2)
    before = len(sim.requests)
    with pytest.raises(errors.OverloadedError) as info:
        chat.ask("busy [[sim: fault=overloaded retry_after=5]]")
    assert "the server asked to wait 5 s, more than the total deadline leaves" in str(info.value)
    assert len(sim.requests) - before == 1


OVERLOADED = {"error": {"message": "overloaded", "type": "engine_overloaded_error"}}


def test_retry_after_beyond_the_wait_budget_says_how_long_it_asked() -> None:
    sleeps: list[float] = []
    asked = httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "120"})
    with pytest.raises(errors.OverloadedError) as info:
        list(make_client(Recorder(asked), sleeps).stream(PAYLOAD))
    assert str(info.value) == (
        "Kimi API error 429 (engine_overloaded_error): overloaded; the server asked to wait "
        "120 s, more than KIMI_MAX_RETRY_WAIT allows (60 s); not retried"
    )
    assert sleeps == []


def test_the_budget_counts_the_waits_already_spent() -> None:
    sleeps: list[float] = []
    first = httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "40"})
    second = httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "30"})
    with pytest.raises(errors.OverloadedError, match=r"allows \(60 s, 40 s already waited\)"):
        list(make_client(Recorder(first, second), sleeps).stream(PAYLOAD))
    assert sleeps == [40.0]


def test_a_plain_back_off_over_the_budget_says_so() -> None:
    sleeps: list[float] = []
    failing = httpx.Response(500, text="oops")
    with pytest.raises(errors.ServerError, match=r"not retried: the next wait \(.+\) is more"):
        list(make_client(Recorder(failing), sleeps, max_retry_wait=0.1).stream(PAYLOAD))
    assert sleeps == []


# --- Stop reaches the request wherever it waits ------------------------------------------------


def stop_later(target: Any, seconds: float = 0.3) -> threading.Timer:
    timer = threading.Timer(seconds, target.close)
    timer.start()
    return timer


def in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    return thread, result


@pytest.mark.parametrize(
    "where",
    [
        "fault=stall stall=30 at=4",
        "fault=stall:keepalive stall=30 at=4",
        "latency_ms=30000",
        "fault=overloaded retry_after=30",
    ],
    ids=["stalled read", "keep-alive only", "waiting for headers", "back-off"],
)
def test_stop_ends_a_stream_wherever_it_waits(sim: Simulator, where: str) -> None:
    client = KimiClient(Settings(api_key=KEY, base_url=sim.base_url))
    payload = {**PAYLOAD, "messages": [{"role": "user", "content": f"x [[sim: {where}]]"}]}
    before = len(sim.requests)
    stream = client.stream(payload)
    thread, _ = in_thread(lambda: list(stream))
    stop_later(stream)
    thread.join(10)
    assert not thread.is_alive()
    assert stream.turn.status == "stopped"
    time.sleep(0.1)
    assert len(sim.requests) - before == 1  # nothing was sent after Stop
    client.close()


@pytest.mark.parametrize("where", ["latency_ms=30000", "fault=stall stall=30"])
def test_stop_ends_a_whole_answer_wait(sim: Simulator, where: str) -> None:
    client = KimiClient(Settings(api_key=KEY, base_url=sim.base_url))
    payload = {**PAYLOAD, "messages": [{"role": "user", "content": f"x [[sim: {where}]]"}]}
    call = client.completion(payload)
    thread, turns = in_thread(call.result)
    stop_later(call)
    thread.join(10)
    assert not thread.is_alive()
    assert turns[0].status == "stopped"
    assert turns[0].answer == ""
    client.close()


def test_stop_before_sending_sends_nothing() -> None:
    recorder = Recorder(stream_response(sse({"choices": []})))
    client = make_client(recorder)
    stream, call = client.stream(PAYLOAD), client.completion(PAYLOAD)
    stream.close()
    call.close()
    assert list(stream) == []
    assert call.result().status == "stopped"
    assert recorder.requests == []
