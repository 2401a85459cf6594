"""`Chat` end to end against the simulator on 127.0.0.1: answers, sessions, every fault."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kimi_jupyter import Chat, errors
from kimi_jupyter.conversation import MediaPart, Sessions
from kimi_jupyter.events import ContentDelta, Done, ReasoningDelta, Usage
from kimi_jupyter.simulator import Simulator

from helpers import png

KEY = "sk-sim-chat"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, **settings: object) -> Chat:
    values: dict[str, object] = {"api_key": KEY, "base_url": sim.base_url, "max_retry_wait": 10.0}
    values.update(settings)
    return Chat("t", sessions=Sessions(), **values)


def test_ask_hello_returns_answer_reasoning_and_usage(sim: Simulator) -> None:
    turn = new_chat(sim).ask("hello")
    assert turn.answer.startswith("[Kimi simulator]")
    assert 'Text 1: "hello"' in turn.answer
    assert turn.reasoning
    assert turn.usage is not None
    assert turn.usage.total_tokens == turn.usage.prompt_tokens + turn.usage.completion_tokens > 0
    assert (turn.status, turn.finish_reason, turn.model) == ("done", "stop", "kimi-k2.6")
    assert turn.timings.first_token is not None
    sent = sim.requests[-1]
    assert sent["thinking"] == {"type": "enabled"}
    assert not {"temperature", "top_p", "n", "max_tokens"} & set(sent)


def test_follow_up_carries_the_history_and_cached_tokens_grow(sim: Simulator) -> None:
    chat = new_chat(sim, model="kimi-k2.6")
    first = chat.ask("first question")
    second = chat.ask("second question")
    roles = [m["role"] for m in sim.requests[-1]["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert sim.requests[-1]["messages"][1]["content"] == first.answer
    assert "Received 3 messages" in second.answer
    assert second.usage is not None
    assert second.usage.cached_tokens > 0
    assert len(chat.turns) == 2


def test_stream_yields_reasoning_then_content_then_usage_and_done(sim: Simulator) -> None:
    events = list(new_chat(sim).stream("stream please"))
    kinds = [type(e) for e in events]
    assert kinds.index(ContentDelta) > kinds.index(ReasoningDelta)
    assert kinds[-1] is Done
    assert Usage in kinds
    assert max(i for i, k in enumerate(kinds) if k is ReasoningDelta) < kinds.index(ContentDelta)


def test_image_part_arrives_with_its_format_and_size(sim: Simulator) -> None:
    turn = new_chat(sim).ask("what is this?", MediaPart(png(7, 5), "image/png"))
    assert "Image 1: PNG, 7×5 pixels" in turn.answer


def test_no_stream_gives_the_same_kind_of_turn(sim: Simulator) -> None:
    turn = new_chat(sim).ask("whole please", stream=False, thinking=False)
    assert turn.answer.startswith("[Kimi simulator]")
    assert "thinking disabled" in turn.answer
    assert turn.reasoning == ""
    assert "stream" not in sim.requests[-1] or sim.requests[-1]["stream"] is False


@pytest.mark.parametrize("flavour", ["moonshot", "docs", "vllm", "sglang"])
def test_every_server_flavour(sim: Simulator, flavour: str) -> None:
    turn = new_chat(sim).ask(f"hi [[sim: flavour={flavour}]]")
    assert turn.answer.startswith("[Kimi simulator]")
    assert turn.reasoning
    assert turn.usage is not None
    assert turn.usage.completion_tokens > 0


def test_wrong_key_is_an_authentication_error_and_the_session_is_untouched(sim: Simulator) -> None:
    chat = new_chat(sim, api_key="sk-wrong")
    with pytest.raises(errors.AuthenticationError, match="KIMI_API_KEY") as info:
        chat.ask("hello")
    assert info.value.status == 401
    assert "sk-wrong" not in str(info.value)
    assert chat.turns == []


def test_unknown_model_is_not_found(sim: Simulator) -> None:
    with pytest.raises(errors.NotFoundError, match="Not found the model kimi-k9"):
        new_chat(sim, model="kimi-k9").ask("hello")


def test_fixed_sampling_value_is_a_bad_request(sim: Simulator) -> None:
    with pytest.raises(errors.BadRequestError, match="only 1 is allowed"):
        new_chat(sim).ask("hello", temperature=0.7)


@pytest.mark.parametrize(
    "directive",
    [
        "fault=overloaded times=1 retry_after=0",
        "fault=rate-limit times=2 after=0",
        "fault=503 times=1 retry_after=0",
        "fault=reset-before-headers times=1",
    ],
)
def test_retried_faults_end_in_an_answer(sim: Simulator, directive: str) -> None:
    before = len(sim.requests)
    turn = new_chat(sim, max_attempts=4).ask(f"retry me [[sim: {directive}]]")
    assert turn.answer.startswith("[Kimi simulator]")
    expected = 3 if "times=2" in directive else 2
    if "reset-before-headers" not in directive:
        assert len(sim.requests) - before == expected


def test_quota_is_not_retried(sim: Simulator) -> None:
    before = len(sim.requests)
    with pytest.raises(errors.QuotaExceededError, match="billing"):
        new_chat(sim).ask("money [[sim: fault=quota retry_after=0]]")
    assert len(sim.requests) - before == 1


def test_overloaded_beyond_the_attempts_is_the_typed_error(sim: Simulator) -> None:
    with pytest.raises(errors.OverloadedError):
        new_chat(sim, max_attempts=2).ask("busy [[sim: fault=overloaded retry_after=0]]")


@pytest.mark.parametrize(
    ("directive", "match"),
    [
        ("fault=reset-mid-stream", "connection broke"),
        ("fault=malformed", "malformed chunk"),
        ("fault=no-done", "before `data: \\[DONE\\]`"),
        ("fault=error-frame", "Stream failed"),
        ("fault=stall stall=5", "read timeout"),
    ],
)
def test_broken_streams_keep_the_partial_answer(sim: Simulator, directive: str, match: str) -> None:
    chat = new_chat(sim, read_timeout=1.0)
    before = len(sim.requests)
    with pytest.raises(errors.StreamError, match=match) as info:
        chat.ask(f"break [[sim: {directive} reasoning_chunks=0]]")
    assert len(sim.requests) - before == 1  # never retried after the first byte
    partial = info.value.partial
    assert partial is not None
    assert partial.status == "failed"
    (kept,) = chat.turns
    assert kept.status == "failed"
    assert kept.answer == partial.answer


def test_keepalive_comments_are_ignored(sim: Simulator) -> None:
    turn = new_chat(sim).ask("[[sim: fault=keepalive]] hi")
    assert turn.status == "done"
    assert turn.answer.startswith("[Kimi simulator]")


def test_stop_mid_stream_keeps_the_partial_answer_marked_stopped(sim: Simulator) -> None:
    chat = new_chat(sim)
    stream = chat.stream("long one [[sim: chunks=500 delay_ms=2]]")
    seen = 0
    for event in stream:
        seen += isinstance(event, ContentDelta)
        if seen == 5:
            stream.close()
    (turn,) = chat.turns
    assert turn.status == "stopped"
    assert turn.answer
    assert turn is stream.turn or turn.answer == stream.turn.answer


def test_tool_call_scenario_returns_calls_that_fit_the_schema(sim: Simulator) -> None:
    received: list[tuple[str, int]] = []

    def get_weather(city: str, days: int) -> str:
        """Weather for a city."""
        received.append((city, days))
        return "sunny"

    turn = new_chat(sim).ask("weather in Paris?", tools=[get_weather])
    assert turn.finish_reason == "stop"
    (call,) = turn.tool_calls
    assert call.name == "get_weather"
    arguments = call.parsed_arguments()
    assert isinstance(arguments["city"], str)
    assert isinstance(arguments["days"], int)
    assert received == [(arguments["city"], arguments["days"])]
    assert turn.reasoning


def test_missing_key_names_the_variables_before_any_request(
    sim: Simulator, no_kimi_env: None
) -> None:
    before = len(sim.requests)
    chat = Chat("t", sessions=Sessions(), base_url=sim.base_url)
    with pytest.raises(errors.ConfigurationError, match=r"KIMI_API_KEY.*MOONSHOT_API_KEY"):
        chat.ask("hello")
    assert len(sim.requests) == before


def test_dropped_history_is_reported_in_the_turn_metadata(sim: Simulator) -> None:
    chat = new_chat(sim, context_window=1_200, output_reserve=500)
    chat.ask("old " * 450)  # ~600 of the 700 tokens left for the prompt
    chat.ask("middle")
    turn = chat.ask("newest")
    assert turn.meta["dropped_exchanges"] >= 1
    first_sent = sim.requests[-1]["messages"][0]["content"]
    assert not str(first_sent).startswith("old")


def test_stop_from_another_thread_ends_the_stream(sim: Simulator) -> None:
    import threading

    chat = new_chat(sim)
    stream = chat.stream("slow [[sim: chunks=400 delay_ms=10]]")
    timer = threading.Timer(0.3, stream.close)
    timer.start()
    events = list(stream)
    timer.join()
    assert events
    assert not any(isinstance(e, Done) for e in events)
    assert chat.turns[0].status == "stopped"


def test_one_client_reuses_its_connection_across_answers(sim: Simulator) -> None:
    chat = new_chat(sim)
    chat.ask("first")  # reads past `data: [DONE]` to the end, so the connection is reused
    before = sim.connections_accepted
    for question in ("second", "third", "fourth"):
        chat.ask(question)
    assert sim.connections_accepted == before
