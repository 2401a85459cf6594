"""Every recorded sample of real Kimi traffic parses to the events we expect (KIMI_WIRE §3-§7)."""

from __future__ import annotations

import json

import httpx
import pytest

from kimi_jupyter import errors
from kimi_jupyter.events import ContentDelta, Done, ReasoningDelta, ToolCallDelta, Usage
from kimi_jupyter.turn import Turn

from helpers import WIRE, Recorder, make_client, sse, stream_response, wire_chunks


def stream_file(body: bytes, size: int = 5) -> tuple[list[object], Turn]:
    client = make_client(Recorder(stream_response(body, size)))
    stream = client.stream({"model": "kimi-k2.6", "messages": []})
    events = list(stream)
    return events, stream.turn


def complete_file(name: str) -> Turn:
    body = (WIRE / name).read_bytes()
    client = make_client(Recorder(httpx.Response(200, content=body)))
    return client.complete({"model": "kimi-k2.6", "messages": []})


K3_TEXT_USAGE = Usage(90, 50, 140, cached_tokens=90, reasoning_tokens=33)


@pytest.mark.parametrize("size", [1, 3, 64, 10_000])
def test_usage_live_sse_k3_reasoning_then_text(size: int) -> None:
    events, turn = stream_file((WIRE / "vercel_moonshotai-usage-live.sse").read_bytes(), size)
    assert turn.answer == "OK"
    assert turn.reasoning.startswith('The user is asking me to reply with exactly "OK".')
    assert turn.reasoning.endswith('respond with "OK" and nothing else.')
    assert turn.usage == K3_TEXT_USAGE
    assert turn.finish_reason == "stop"
    assert turn.status == "done"
    assert events[-1] == Done("stop")
    # usage arrives twice (choice-level, then the trailing `choices: []` chunk): same value
    assert [e for e in events if isinstance(e, Usage)] == [K3_TEXT_USAGE, K3_TEXT_USAGE]
    first_content = next(i for i, e in enumerate(events) if isinstance(e, ContentDelta))
    assert all(isinstance(e, ReasoningDelta) for e in events[:first_content])


def test_usage_live_chunks_match_sse_framing() -> None:
    _, from_sse = stream_file((WIRE / "vercel_moonshotai-usage-live.sse").read_bytes())
    _, from_chunks = stream_file(sse(*wire_chunks("vercel_moonshotai-usage-live.chunks.txt")))
    assert (from_sse.answer, from_sse.reasoning, from_sse.usage) == (
        from_chunks.answer,
        from_chunks.reasoning,
        from_chunks.usage,
    )


def test_metadata_live_sse_k3_tool_call() -> None:
    events, turn = stream_file((WIRE / "vercel_moonshotai-metadata-live.sse").read_bytes(), 11)
    assert turn.answer == ""
    assert turn.reasoning.startswith("User explicitly asks use get_weather.")
    assert turn.finish_reason == "tool_calls"
    (call,) = turn.tool_calls
    assert (call.id, call.type, call.name) == ("get_weather_0", "function", "get_weather")
    assert call.parsed_arguments() == {"city": "Paris"}
    assert [e for e in events if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta(0, "get_weather_0", "function", "get_weather", ""),
        ToolCallDelta(0, None, None, None, '{"city": "Paris"}'),
    ]
    assert turn.usage == Usage(213, 99, 312, cached_tokens=213, reasoning_tokens=46)


def test_stream_choice_usage_k25_choice_level_only() -> None:
    events, turn = stream_file((WIRE / "vercel_moonshotai-stream-choice-usage.sse").read_bytes())
    assert turn.answer == "OK."
    assert turn.reasoning == ""  # the empty reasoning chunk yields no event
    assert not any(isinstance(e, ReasoningDelta) for e in events)
    assert turn.usage == Usage(12, 5, 17, cached_tokens=0, reasoning_tokens=1)
    assert turn.model == "kimi-k2.5"
    assert turn.response_id == "chatcmpl-6a8de8b0aa0c275363b2fc8a"


def test_max_completion_tokens_moonshot_v1_trailing_usage_chunk() -> None:
    _, turn = stream_file((WIRE / "vercel_moonshotai-max-completion-tokens.sse").read_bytes())
    assert turn.answer == "OK"
    assert turn.usage == Usage(11, 2, 13)


def test_docs_k26_example_top_level_usage_and_ellipsis_line() -> None:
    _, turn = stream_file((WIRE / "docs_kimi-k2.6_stream_example.sse.txt").read_bytes(), 2)
    assert turn.answer == "Hello"
    assert turn.usage == Usage(19, 13, 32, cached_tokens=12)
    assert turn.finish_reason == "stop"


def test_docs_moonshot_v1_example_usage_in_choice_chinese() -> None:
    body = (WIRE / "docs_moonshot-v1_stream_example_usage_in_choice.sse.txt").read_bytes()
    _, turn = stream_file(body, 1)  # one byte at a time splits every CJK character
    assert turn.answer == "你好。"
    assert turn.usage == Usage(19, 13, 32)


def test_sglang_payloads_explicit_nulls() -> None:
    _, turn = stream_file(sse(*wire_chunks("sglang_kimi-k2.6_stream_payloads.jsonl")))
    assert turn.reasoning == "The user"
    assert turn.answer == ""
    assert turn.usage is None
    assert turn.model == "Kimi-K2.6"


def test_file_reference_live_nonstream_both_cached_spellings() -> None:
    turn = complete_file("vercel_moonshotai-file-reference-live.json")
    assert (turn.answer, turn.reasoning, turn.finish_reason) == ("IMAGE_OK", "", "stop")
    assert turn.usage == Usage(18, 5, 23, cached_tokens=6, reasoning_tokens=1)


def test_k26_truncated_in_reasoning_nonstream() -> None:
    turn = complete_file("vercel_moonshotai-k2.6-tool-choice-omitted.json")
    assert turn.answer == ""
    assert turn.finish_reason == "length"
    assert turn.reasoning.startswith("The user wants me to call the ping tool.")
    assert turn.usage == Usage(41, 32, 73, reasoning_tokens=31)


def test_metadata_live_nonstream_tool_call() -> None:
    turn = complete_file("vercel_moonshotai-metadata-live.json")
    (call,) = turn.tool_calls
    assert (call.id, call.name, call.arguments) == (
        "get_weather_0",
        "get_weather",
        '{"city": "Paris"}',
    )
    assert turn.finish_reason == "tool_calls"
    assert turn.usage == Usage(191, 97, 288, reasoning_tokens=44)


def test_usage_live_nonstream() -> None:
    turn = complete_file("vercel_moonshotai-usage-live.json")
    assert turn.answer == "OK"
    assert turn.usage == Usage(90, 34, 124, cached_tokens=90, reasoning_tokens=17)


ERROR_FIXTURES = [
    ("vercel_moonshotai-error-live-message-only.json", 404, errors.NotFoundError),
    ("vercel_moonshotai-error-without-code-live.json", 404, errors.NotFoundError),
    ("vercel_moonshotai-issue-19544-rejected.json", 400, errors.BadRequestError),
    ("vercel_moonshotai-k2.7-disabled-thinking-error.json", 400, errors.BadRequestError),
    ("vercel_moonshotai-kimi-k3-temperature-rejection.json", 400, errors.BadRequestError),
    ("vercel_moonshotai-required-tool-choice-error.json", 400, errors.BadRequestError),
    ("vercel_moonshotai-unsupported-sampling-error.json", 400, errors.BadRequestError),
    ("vercel_moonshotai-unsupported-svg-error.json", 400, errors.BadRequestError),
]


@pytest.mark.parametrize(("name", "status", "cls"), ERROR_FIXTURES)
def test_recorded_error_bodies(name: str, status: int, cls: type[errors.APIError]) -> None:
    body = (WIRE / name).read_bytes()
    recorder = Recorder(httpx.Response(status, content=body))
    client = make_client(recorder)
    with pytest.raises(cls) as info:
        list(client.stream({"model": "kimi-k2.6", "messages": []}))
    expected = json.loads(body)["error"]
    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.type == expected["type"]
    assert expected["message"] in str(info.value)
    assert len(recorder.requests) == 1  # 400 and 404 are never retried


def test_every_fixture_file_is_covered() -> None:
    covered = {
        "vercel_moonshotai-usage-live.sse",
        "vercel_moonshotai-usage-live.chunks.txt",
        "vercel_moonshotai-usage-live.json",
        "vercel_moonshotai-metadata-live.sse",
        "vercel_moonshotai-metadata-live.chunks.txt",
        "vercel_moonshotai-metadata-live.json",
        "vercel_moonshotai-stream-choice-usage.sse",
        "vercel_moonshotai-stream-choice-usage.chunks.txt",
        "vercel_moonshotai-max-completion-tokens.sse",
        "vercel_moonshotai-max-completion-tokens.chunks.txt",
        "docs_kimi-k2.6_stream_example.sse.txt",
        "docs_moonshot-v1_stream_example_usage_in_choice.sse.txt",
        "sglang_kimi-k2.6_stream_payloads.jsonl",
        "vercel_moonshotai-file-reference-live.json",
        "vercel_moonshotai-k2.6-tool-choice-omitted.json",
        *(name for name, _, _ in ERROR_FIXTURES),
    }
    assert {p.name for p in WIRE.iterdir()} == covered


@pytest.mark.parametrize(
    "name",
    [
        "vercel_moonshotai-stream-choice-usage",
        "vercel_moonshotai-max-completion-tokens",
        "vercel_moonshotai-metadata-live",
    ],
)
def test_chunks_files_equal_their_sse_twins(name: str) -> None:
    _, from_sse = stream_file((WIRE / f"{name}.sse").read_bytes())
    _, from_chunks = stream_file(sse(*wire_chunks(f"{name}.chunks.txt")), 13)
    assert (from_sse.answer, from_sse.reasoning, from_sse.tool_calls, from_sse.usage) == (
        from_chunks.answer,
        from_chunks.reasoning,
        from_chunks.tool_calls,
        from_chunks.usage,
    )
