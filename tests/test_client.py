"""The client over httpx.MockTransport: request shape, SSE variants, broken streams."""

from __future__ import annotations

import json

import httpx
import pytest

from kimi_jupyter.errors import StreamError
from kimi_jupyter.events import ContentDelta, Done, ReasoningDelta, ToolCallDelta, Usage

from helpers import SECRET, Recorder, make_client, sse, stream_response

PAYLOAD = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "héllo"}]}


def chunk(delta: dict[str, object] | None = None, finish: str | None = None, **extra: object):
    choice: dict[str, object] = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "kimi-k2.6",
        "choices": [choice],
        **extra,
    }


def run(body: bytes, size: int = 3):
    client = make_client(Recorder(stream_response(body, size)))
    stream = client.stream(PAYLOAD)
    return list(stream), stream.turn


def test_request_shape_compact_json_bearer_and_url() -> None:
    recorder = Recorder(stream_response(sse(chunk({"content": "hi"}, "stop"))))
    list(make_client(recorder).stream(PAYLOAD))
    (request,) = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "https://kimi.test/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.headers["content-type"] == "application/json"
    assert b": " not in request.content
    assert b", " not in request.content
    assert "héllo".encode() in request.content  # UTF-8, not \\u escapes
    assert json.loads(request.content) == {**PAYLOAD, "stream": True}


UNICODE_ANSWER = "Ça marche — 数据 🎉 ok"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 4096])
def test_split_mid_line_and_mid_utf8_gives_identical_events(size: int) -> None:
    body = sse(
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": "Pensée: 思考"}),
        *(chunk({"content": part}) for part in ("Ça marche", " — 数据", " 🎉 ok")),
        chunk({}, "stop", usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
    )
    events, turn = run(body, size)
    assert turn.answer == UNICODE_ANSWER
    assert turn.reasoning == "Pensée: 思考"
    assert events == [
        ReasoningDelta("Pensée: 思考"),
        ContentDelta("Ça marche"),
        ContentDelta(" — 数据"),
        ContentDelta(" 🎉 ok"),
        Usage(3, 4, 7),
        Done("stop"),
    ]


def test_comments_crlf_and_data_without_space() -> None:
    body = (
        b": keep-alive\r\n\r\n"
        b'data:{"choices":[{"index":0,"delta":{"content":"a"}}]}\r\n\r\n'
        b": another comment\r\n"
        b'data: {"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}\r\n\r\n'
        b"data:[DONE]\r\n\r\n"
    )
    events, turn = run(body, 4)
    assert turn.answer == "ab"
    assert events[-1] == Done("stop")


def test_stream_that_ends_only_at_done_without_finish_reason() -> None:
    events, turn = run(sse(chunk({"content": "x"})))
    assert events == [ContentDelta("x"), Done(None)]
    assert turn.status == "done"
    assert turn.finish_reason is None


def test_missing_done_raises_stream_error_with_partial_turn() -> None:
    body = sse(
        chunk({"reasoning_content": "think"}),
        chunk({"content": "part"}),
        chunk({}, "stop"),
        done=False,
    )
    with pytest.raises(StreamError, match="before `data: \\[DONE\\]`") as info:
        run(body)
    partial = info.value.partial
    assert partial is not None
    assert (partial.answer, partial.reasoning, partial.status) == ("part", "think", "failed")


def test_mid_stream_error_frame_raises_with_partial() -> None:
    error = {
        "error": {"message": "Stream failed", "type": "server_error", "code": "stream_failure"}
    }
    with pytest.raises(StreamError, match="Stream failed") as info:
        run(sse(chunk({"content": "so far"}), error))
    assert info.value.partial is not None
    assert info.value.partial.answer == "so far"


def test_malformed_json_chunk_raises_with_partial() -> None:
    with pytest.raises(StreamError, match="malformed chunk") as info:
        run(sse(chunk({"content": "ok "}), '{"choices": [', chunk({"content": "never"})))
    assert info.value.partial is not None
    assert info.value.partial.answer == "ok "


def test_connection_lost_mid_stream_is_a_stream_error_with_partial() -> None:
    def broken() -> object:
        yield sse(chunk({"content": "half"}), done=False)
        raise httpx.ReadError("connection reset by peer")

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=broken())
    recorder = Recorder(response)
    with pytest.raises(StreamError, match="connection broke") as info:
        list(make_client(recorder).stream(PAYLOAD))
    assert info.value.partial is not None
    assert info.value.partial.answer == "half"
    assert len(recorder.requests) == 1  # never retried after the first byte


def test_vllm_reasoning_field_and_omitted_nulls() -> None:
    body = sse(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning": "hmm"}}]},
        {"choices": [{"index": 0, "delta": {"content": "A"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            "choices": [],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": 2,
                "total_tokens": 7,
                "prompt_tokens_details": {"cached_tokens": 4},
            },
        },
    )
    _, turn = run(body)
    assert (turn.reasoning, turn.answer) == ("hmm", "A")
    assert turn.usage == Usage(5, 2, 7, cached_tokens=4)


def test_sglang_explicit_nulls_and_null_usage() -> None:
    def c(**delta: object) -> dict[str, object]:
        full = {"role": None, "content": None, "reasoning_content": None, "tool_calls": None}
        full.update(delta)
        return {
            "choices": [
                {
                    "index": 0,
                    "delta": full,
                    "logprobs": None,
                    "finish_reason": None,
                    "matched_stop": None,
                }
            ],
            "usage": None,
        }

    body = sse(c(role="assistant", content=""), c(reasoning_content="r"), c(content="z"))
    _, turn = run(body)
    assert (turn.reasoning, turn.answer, turn.usage) == ("r", "z", None)


def test_top_level_usage_wins_over_choice_usage_in_same_chunk() -> None:
    top = {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10, "cached_tokens": 8}
    inner = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    c = chunk({}, "stop", usage=top)
    c["choices"][0]["usage"] = inner
    _, turn = run(sse(c))
    assert turn.usage == Usage(9, 1, 10, cached_tokens=8)


def test_tool_call_fragments_accumulate_by_index_interleaved() -> None:
    body = sse(
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "a_0",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "b_1",
                        "type": "function",
                        "function": {"name": "g", "arguments": '{"y"'},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x": '}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ": 2}"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        chunk({}, "tool_calls"),
    )
    _, turn = run(body)
    assert [(c.id, c.name, c.parsed_arguments()) for c in turn.tool_calls] == [
        ("a_0", "f", {"x": 1}),
        ("b_1", "g", {"y": 2}),
    ]
    assert turn.finish_reason == "tool_calls"


def test_tool_call_without_index_uses_array_position() -> None:
    body = sse(
        chunk(
            {
                "tool_calls": [
                    {
                        "id": "functions.f:0",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    },
                    {
                        "id": "functions.g:1",
                        "type": "function",
                        "function": {"name": "g", "arguments": "{"},
                    },
                ]
            }
        ),
        chunk({"tool_calls": [{"function": {"arguments": ""}}, {"function": {"arguments": "}"}}]}),
        chunk({}, "tool_calls"),
    )
    events, turn = run(body)
    assert [d.index for d in events if isinstance(d, ToolCallDelta)] == [0, 1, 0, 1]
    assert [(c.id, c.arguments) for c in turn.tool_calls] == [
        ("functions.f:0", "{}"),
        ("functions.g:1", "{}"),
    ]


def test_web_search_builtin_call_kept_verbatim() -> None:
    args = '{"search_result":{"search_id":"06a5"},"usage":{"total_tokens":8933}}'
    body = sse(
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "t-web_search-1",
                        "type": "builtin_function",
                        "function": {"name": "$web_search", "arguments": args},
                    }
                ]
            }
        ),
        chunk({}, "tool_calls"),
    )
    _, turn = run(body)
    assert turn.tool_calls[0].to_wire() == {
        "id": "t-web_search-1",
        "type": "builtin_function",
        "function": {"name": "$web_search", "arguments": args},
    }


def test_nonstream_and_stream_fold_to_the_same_turn() -> None:
    message = {"role": "assistant", "content": "Hi there", "reasoning_content": "greet"}
    usage = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7, "cached_tokens": 2}
    whole = {
        "id": "x",
        "model": "kimi-k2.6",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage,
    }
    recorder = Recorder(httpx.Response(200, json=whole))
    complete = make_client(recorder).complete(
        {**PAYLOAD, "stream_options": {"include_usage": True}}
    )
    body = json.loads(recorder.requests[0].content)
    assert body["stream"] is False
    assert "stream_options" not in body
    _, streamed = run(
        sse(
            chunk({"reasoning_content": "greet"}),
            chunk({"content": "Hi there"}),
            chunk({}, "stop", usage=usage),
        )
    )
    fields = ("answer", "reasoning", "tool_calls", "usage", "finish_reason")
    assert [getattr(complete, f) for f in fields] == [getattr(streamed, f) for f in fields]


def test_gateway_that_ignores_stream_true_still_gives_events() -> None:
    whole = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "json!"},
                "finish_reason": "stop",
            }
        ]
    }
    client = make_client(Recorder(httpx.Response(200, json=whole)))
    stream = client.stream(PAYLOAD)
    assert list(stream) == [ContentDelta("json!"), Done("stop")]
    assert stream.turn.status == "done"


def test_close_mid_stream_marks_turn_stopped() -> None:
    body = sse(*(chunk({"content": f"{i} "}) for i in range(50)))
    client = make_client(Recorder(stream_response(body, 40)))
    stream = client.stream(PAYLOAD)
    seen = []
    for event in stream:
        seen.append(event)
        if len(seen) == 3:
            stream.close()
            break
    turn = stream.turn
    assert turn.status == "stopped"
    assert turn.answer == "0 1 2 "
