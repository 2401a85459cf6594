"""The offline Kimi simulator: routes, validation, wire flavours, answers, tools and faults."""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import kimi_jupyter.simulator as simulator_package
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.simulator.media import image_size

from helpers import png

# What a user's conftest.py does with `from kimi_jupyter.simulator import simulator`.
simulator = simulator_package.simulator

KEY = "sk-sim-test"
ROOT = Path(__file__).resolve().parents[1]
TLS = ssl.create_default_context()  # built once: httpx loads the CA bundle per client otherwise
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "hourly": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["city"],
        },
    },
}
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as running:
        yield running


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=10, verify=TLS) as http:
        yield http


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def chat(client: httpx.Client, *messages: dict[str, Any], **fields: Any) -> httpx.Response:
    body = {"model": "kimi-k2.6", "messages": list(messages) or [user("Hi")], **fields}
    return client.post("/chat/completions", json=body)


def data_lines(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order (comments and blanks dropped)."""
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


def chunks(text: str) -> list[dict[str, Any]]:
    payloads = data_lines(text)
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def stream(client: httpx.Client, *messages: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    response = chat(client, *messages, stream=True, **fields)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    return chunks(response.text)


def deltas(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in items if c["choices"]]


def joined(items: list[dict[str, Any]], key: str) -> str:
    return "".join(d.get(key) or "" for d in deltas(items))


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null(v) for v in value)
    return False


def data_url(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


def image_part(mime: str, payload: bytes) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": data_url(mime, payload)}}


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp(chunk: bytes, width: int, height: int) -> bytes:
    if chunk == b"VP8 ":
        data = b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height)
    elif chunk == b"VP8L":
        data = b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14)
    else:
        data = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + chunk + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- routes, auth, errors --------------------------------------------------------------


def test_public_api_is_pinned() -> None:
    assert simulator_package.__all__ == ["FAULTS", "FLAVOURS", "Simulator", "simulator"]


def test_models_lists_kimi_k26(client: httpx.Client) -> None:
    response = client.get("/models")
    assert response.status_code == 200
    model = response.json()["data"][0]
    assert response.json()["object"] == "list"
    assert model["id"] == "kimi-k2.6"
    assert model["context_length"] == 262144
    assert model["supports_image_in"]
    assert model["supports_video_in"]
    assert model["supports_reasoning"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"bearer {KEY}", KEY])
def test_bad_key_is_401_with_live_body(sim: Simulator, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in (("GET", "/models"), ("POST", "/chat/completions")):
        response = httpx.request(method, sim.base_url + path, headers=headers, json={})
        assert response.status_code == 401
        assert response.content == (
            b'{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}'
        )
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.headers["msh-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-msh-trace-id"])


def test_unknown_model_is_404_verbatim(client: httpx.Client) -> None:
    response = chat(client, model="definitely-not-a-real-moonshot-model")
    assert response.status_code == 404
    assert response.content == (
        b'{"error":{"message":"Not found the model definitely-not-a-real-moonshot-model or '
        b'Permission denied","type":"resource_not_found_error"}}'
    )


def test_self_hosted_name_is_only_served_by_self_hosted_flavours(client: httpx.Client) -> None:
    assert chat(client, model="moonshotai/Kimi-K2.6").status_code == 404
    directive = user("hi [[sim: flavour=vllm]]")
    response = chat(client, directive, model="moonshotai/Kimi-K2.6")
    assert response.status_code == 200
    assert response.json()["model"] == "moonshotai/Kimi-K2.6"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/chat/completions"), ("POST", "/chat/completions"), ("GET", "/v1/nope")],
)
def test_other_routes_are_404_json(sim: Simulator, method: str, path: str) -> None:
    url = f"http://127.0.0.1:{sim.port}{path}"
    response = httpx.request(method, url, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 404
    assert error_of(response)["type"] == "resource_not_found_error"


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post("/chat/completions", content=b'{"model": "kimi-k2.6",')
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"
    assert error_of(response)["message"].startswith("Invalid request: the body is not valid JSON")


TOOL_TURN = {
    "role": "assistant",
    "content": "",
    "tool_calls": [
        {
            "id": "get_weather:0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"},
        }
    ],
}
TOOL_RESULT = {"role": "tool", "tool_call_id": "get_weather:0", "content": "sunny"}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'

VALIDATION_CASES = [
    ({"temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"),
    (
        {"temperature": 1, "thinking": {"type": "disabled"}},
        "invalid temperature: only 0.6 is allowed for this model",
    ),
    ({"top_p": 0.9}, "invalid top_p: only 0.95 is allowed for this model"),
    ({"presence_penalty": 0.5}, "invalid presence_penalty: only 0 is allowed for this model"),
    ({"frequency_penalty": -1}, "invalid frequency_penalty: only 0 is allowed for this model"),
    ({"n": 2}, "invalid n: only 1 is allowed for this model"),
    (
        {"tools": [WEATHER], "tool_choice": "required"},
        "tool_choice 'required' is incompatible with thinking enabled",
    ),
    (
        {"messages": [{"role": "system", "content": "s"}, user("q"), TOOL_TURN, TOOL_RESULT]},
        "thinking is enabled but reasoning_content is missing in assistant tool call message "
        "at index 2",
    ),
    (
        {"stop": ["a", "b", "c", "d", "e", "f"]},
        "Invalid request: stop must have at most 5 strings, got 6",
    ),
    ({"stop": "x" * 33}, f"Invalid request: stop string {'x' * 33!r} is longer than 32 bytes"),
    ({"stop": ["é" * 17]}, f"Invalid request: stop string {'é' * 17!r} is longer than 32 bytes"),
    (
        {"messages": [{"role": "bot", "content": "hi"}]},
        "Invalid request: invalid role 'bot' at messages[0]; expected one of system, user, "
        "assistant, tool",
    ),
    (
        {"messages": [{"role": "user", "content": [{"type": "audio_url", "audio_url": "x"}]}]},
        "Invalid request: unsupported content part type 'audio_url' at messages[0].content[0]; "
        "expected text, image_url or video_url",
    ),
    (
        {"messages": [{"role": "user", "content": [image_part("image/svg+xml", SVG)]}]},
        "Invalid request: unsupported image format: text/plain; charset=utf-8",
    ),
    (
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": "https://x.test/a.png"}],
                }
            ]
        },
        "Invalid request: unsupported image format: text/plain; charset=utf-8",
    ),
    (
        {"messages": [{"role": "user", "content": [image_part("image/png", b"\x00\x01binary")]}]},
        "Invalid request: unsupported image format: application/octet-stream",
    ),
    ({"messages": [user("")]}, "Invalid request: content must not be empty"),
    ({"messages": [{"role": "user", "content": []}]}, "Invalid request: content must not be empty"),
    ({"messages": []}, "Invalid request: messages must be a non-empty array"),
    (
        {"messages": [user("q"), {"role": "tool", "content": "r"}]},
        "Invalid request: tool_call_id is required for tool messages (messages[1])",
    ),
    (
        {"thinking": {"type": "on"}},
        'Invalid request: thinking.type must be "enabled" or "disabled"',
    ),
    (
        {"thinking": {"type": "enabled", "keep": "some"}},
        'Invalid request: thinking.keep must be null or "all"',
    ),
    (
        {"thinking": {"type": "enabled", "budget": 3}},
        "Invalid request: thinking: unknown field 'budget'",
    ),
    ({"tools": [WEATHER, WEATHER]}, "Invalid request: function name get_weather is duplicated"),
    (
        {"tools": [{"type": "function", "function": {"name": "a$b"}}]},
        "Invalid request: function name 'a$b' is invalid: it must match "
        "^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$",
    ),
    (
        {"max_completion_tokens": 0},
        "Invalid request: max_completion_tokens must be an integer >= 1",
    ),
    (
        {"messages": [user("[[sim: colour=red]]")]},
        "Invalid request: [Kimi simulator] bad [[sim: ...]] directive: 'colour=red' is not "
        "key=value with a known key (fault, after, retry_after, stall, at, times, flavour, "
        "chunks, reasoning_chunks, delay_ms, latency_ms, tool, tool_index, tool_steps, usage, "
        "agent, agent_cap)",
    ),
    (
        {"messages": [user("[[sim: fault=meteor]]")]},
        "Invalid request: [Kimi simulator] bad [[sim: ...]] directive: unknown fault 'meteor'; "
        "expected one of: overloaded, rate-limit, quota, 500, 502, 503, 504, "
        "reset-before-headers, reset-mid-stream, stall, malformed, no-done, error-frame, "
        "keepalive",
    ),
]


@pytest.mark.parametrize(("fields", "message"), VALIDATION_CASES)
def test_validation_errors(client: httpx.Client, fields: dict[str, Any], message: str) -> None:
    response = chat(client, **fields)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": {"message": message, "type": "invalid_request_error"}}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_context_overflow_reports_requested_tokens(client: httpx.Client) -> None:
    prompt = chat(client, user("Hi")).json()["usage"]["prompt_tokens"]
    response = chat(client, user("Hi"), max_completion_tokens=262144)
    assert response.status_code == 400
    assert error_of(response)["message"] == (
        "Invalid request: Your request exceeded model token limit: 262144 "
        f"(requested: {prompt + 262144})"
    )
    huge = chat(client, user("ab " * 400_000))
    assert huge.status_code == 400
    assert "exceeded model token limit: 262144 (requested: 30000" in error_of(huge)["message"]


def test_fixed_sampling_values_are_accepted(client: httpx.Client) -> None:
    fixed = {"top_p": 0.95, "n": 1, "presence_penalty": 0, "frequency_penalty": 0.0}
    assert chat(client, temperature=1.0, **fixed).status_code == 200
    off = {"type": "disabled"}
    assert chat(client, temperature=0.6, thinking=off, **fixed).status_code == 200


def test_self_hosted_flavours_accept_any_sampling(client: httpx.Client) -> None:
    for flavour in ("vllm", "sglang"):
        message = user(f"[[sim: flavour={flavour}]]")
        response = chat(
            client, message, temperature=0.2, top_p=0.5, tools=[WEATHER], tool_choice="required"
        )
        assert response.status_code == 200, response.text


def test_reasoning_content_on_tool_turns_satisfies_the_check(client: httpx.Client) -> None:
    turn = {**TOOL_TURN, "reasoning_content": ""}
    assert chat(client, user("q"), turn, TOOL_RESULT).status_code == 200
    no_thinking = {"type": "disabled"}
    assert chat(client, user("q"), TOOL_TURN, TOOL_RESULT, thinking=no_thinking).status_code == 200


def test_requests_are_recorded_in_order(sim: Simulator, client: httpx.Client) -> None:
    chat(client, user("one"))
    chat(client, user("two"), temperature=5)
    assert [r["messages"][0]["content"] for r in sim.requests] == ["one", "two"]


# --- wire flavours ---------------------------------------------------------------------


def test_moonshot_stream_order(client: httpx.Client) -> None:
    items = stream(client, user("Hello"))
    ds = deltas(items)
    assert ds[0] == {"role": "assistant", "content": ""}
    kinds = [next(iter(d), "finish") for d in ds[1:]]
    first_content = kinds.index("content")
    assert set(kinds[:first_content]) == {"reasoning_content"}
    assert ds[first_content] == {"reasoning_content": ""}  # live end-of-reasoning marker
    assert set(kinds[first_content + 1 : -1]) == {"content"}
    assert ds[-1] == {}
    assert items[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in items[:-1])
    ids = {c["id"] for c in items}
    assert len(ids) == 1
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", ids.pop())
    assert {c["object"] for c in items} == {"chat.completion.chunk"}
    assert {c["model"] for c in items} == {"kimi-k2.6"}
    assert joined(items, "content").startswith("[Kimi simulator] ")
    assert "—" in joined(items, "reasoning_content")


def test_docs_flavour_usage_at_top_level(client: httpx.Client) -> None:
    items = stream(client, user("Hi [[sim: flavour=docs]]"))
    finish = items[-1]
    assert "usage" not in finish["choices"][0]
    assert (
        finish["usage"]["total_tokens"]
        == finish["usage"]["prompt_tokens"] + finish["usage"]["completion_tokens"]
    )
    assert re.fullmatch(r"cmpl-[0-9a-f]{32}", finish["id"])
    assert {"reasoning_content": ""} in deltas(items)


def test_vllm_flavour(client: httpx.Client) -> None:
    items = stream(client, user("Hi [[sim: flavour=vllm]]"), stream_options={"include_usage": True})
    assert not any(has_null(c) for c in items)
    assert list(items[0]) == ["id", "created", "model", "object", "choices"]
    ds = deltas(items)
    assert "reasoning" in ds[1]
    assert not any("reasoning_content" in d for d in ds)
    assert {"reasoning": ""} not in ds
    assert joined(items, "reasoning").startswith("The user sent")
    assert all("usage" not in c["choices"][0] for c in items if c["choices"])
    assert items[-1]["choices"] == []
    assert items[-1]["usage"]["completion_tokens"] > 0
    assert items[-2]["choices"][0]["finish_reason"] == "stop"


def test_vllm_thinking_follows_chat_template_kwargs(client: httpx.Client) -> None:
    message = user("Hi [[sim: flavour=vllm]]")
    items = stream(client, message, thinking={"type": "disabled"})
    assert joined(items, "reasoning")  # vLLM ignores Moonshot's `thinking`
    items = stream(client, message, chat_template_kwargs={"thinking": False})
    assert not joined(items, "reasoning")
    assert joined(items, "content").startswith("[Kimi simulator]")


def test_sglang_flavour(client: httpx.Client) -> None:
    items = stream(
        client, user("Hi [[sim: flavour=sglang]]"), stream_options={"include_usage": True}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", items[0]["id"])
    for item in items[:-1]:
        assert item["usage"] is None
        choice = item["choices"][0]
        assert list(choice["delta"]) == ["role", "content", "reasoning_content", "tool_calls"]
        assert choice["logprobs"] is None
        assert choice["matched_stop"] is None
    assert items[0]["choices"][0]["delta"]["role"] == "assistant"
    assert items[1]["choices"][0]["delta"]["role"] is None
    assert items[-1]["choices"] == []
    assert items[-1]["usage"]["total_tokens"] > 0
    assert items[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("flavour", "choice_level", "top_level"),
    [
        ("moonshot", True, False),
        ("docs", False, True),
        ("vllm", False, False),
        ("sglang", False, False),
    ],
)
def test_usage_placement_without_include_usage(
    client: httpx.Client, flavour: str, choice_level: bool, top_level: bool
) -> None:
    items = stream(client, user(f"Hi [[sim: flavour={flavour}]]"))
    finish = items[-1]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert ("usage" in finish["choices"][0]) is choice_level
    assert bool(finish.get("usage")) is top_level


@pytest.mark.parametrize("flavour", ["moonshot", "docs", "vllm", "sglang"])
def test_include_usage_adds_trailing_usage_chunk(client: httpx.Client, flavour: str) -> None:
    items = stream(
        client, user(f"Hi [[sim: flavour={flavour}]]"), stream_options={"include_usage": True}
    )
    assert items[-1]["choices"] == []
    usage = items[-1]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    finish = items[-2]
    if flavour == "moonshot":
        assert finish["choices"][0]["usage"] == usage
        assert usage["completion_tokens_details"]["reasoning_tokens"] > 0


def test_usage_directive_overrides_placement(client: httpx.Client) -> None:
    finish = stream(client, user("Hi [[sim: usage=both]]"))[-1]
    assert finish["usage"] == finish["choices"][0]["usage"]
    finish = stream(client, user("Hi [[sim: flavour=vllm usage=choice]]"))[-1]
    assert "usage" in finish["choices"][0]
    assert "usage" not in finish


def test_non_stream_shape(client: httpx.Client) -> None:
    body = chat(client, {"role": "system", "content": "Be brief."}, user("Hello")).json()
    assert body["object"] == "chat.completion"
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", body["id"])
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"].startswith("[Kimi simulator] Received 2 messages (system, user)")
    assert message["reasoning_content"].startswith("The user sent 2 messages")
    usage = body["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    off = chat(client, user("Hello"), thinking={"type": "disabled"}).json()
    assert "reasoning_content" not in off["choices"][0]["message"]
    assert "thinking disabled" in off["choices"][0]["message"]["content"]
    assert off["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_vllm_and_sglang_non_stream_field_names(client: httpx.Client) -> None:
    vllm = chat(client, user("x [[sim: flavour=vllm]]")).json()["choices"][0]["message"]
    assert "reasoning" in vllm
    assert "reasoning_content" not in vllm
    sglang = chat(client, user("x [[sim: flavour=sglang]]")).json()["choices"][0]
    assert sglang["message"]["tool_calls"] is None
    assert sglang["matched_stop"] is None


def test_prompt_cache_reports_cached_tokens_for_a_repeated_prefix(client: httpx.Client) -> None:
    first = [{"role": "system", "content": "You are a cache test. " * 20}, user("one")]
    cold = chat(client, *first).json()["usage"]
    assert "cached_tokens" not in cold
    assert "prompt_tokens_details" not in cold
    answer = {"role": "assistant", "content": "ok"}
    warm = chat(client, *first, answer, user("two")).json()["usage"]
    assert warm["cached_tokens"] == warm["prompt_tokens_details"]["cached_tokens"]
    assert 0 < warm["cached_tokens"] < warm["prompt_tokens"]
    assert warm["cached_tokens"] == cold["prompt_tokens"] - 3  # all but the reply primer
    again = chat(client, *first).json()["usage"]
    assert again["cached_tokens"] == again["prompt_tokens"] - 3


# --- answers ---------------------------------------------------------------------------


def test_answer_is_deterministic_and_describes_text(client: httpx.Client) -> None:
    messages = [{"role": "system", "content": "sys"}, user("Plot @df — quickly, café")]
    first = chat(client, *messages).json()["choices"][0]["message"]
    second = chat(client, *messages).json()["choices"][0]["message"]
    assert first == second
    content = first["content"]
    assert content.startswith(
        "[Kimi simulator] Received 2 messages (system, user) — thinking enabled."
    )
    assert "System message: yes (1 message, 3 chars)." in content
    assert 'Text 1: "Plot @df — quickly, café"' in content


def test_answer_truncates_long_text(client: httpx.Client) -> None:
    content = chat(client, user("z" * 500)).json()["choices"][0]["message"]["content"]
    assert f'Text 1: "{"z" * 200}…"' in content


@pytest.mark.parametrize(
    ("mime", "payload", "name"),
    [
        ("image/png", png(64, 48), "PNG"),
        ("image/jpeg", jpeg(640, 480), "JPEG"),
        ("image/gif", gif(33, 17), "GIF"),
        ("image/webp", webp(b"VP8X", 300, 200), "WebP"),
    ],
)
def test_answer_describes_image_format_and_pixel_size(
    client: httpx.Client, mime: str, payload: bytes, name: str
) -> None:
    width, height = image_size(payload, mime) or (0, 0)
    parts = [{"type": "text", "text": "What is this?"}, image_part(mime, payload)]
    content = chat(client, {"role": "user", "content": parts}).json()["choices"][0]["message"][
        "content"
    ]
    assert "1 text part, 1 image, 0 videos." in content
    assert 'Text 1: "What is this?"' in content
    assert f"Image 1: {name}, {width}×{height} pixels, {len(payload)} bytes." in content


def test_image_headers_are_parsed() -> None:
    assert image_size(png(64, 48), "image/png") == (64, 48)
    assert image_size(jpeg(640, 480), "image/jpeg") == (640, 480)
    assert image_size(gif(33, 17), "image/gif") == (33, 17)
    assert image_size(webp(b"VP8 ", 321, 123), "image/webp") == (321, 123)
    assert image_size(webp(b"VP8L", 100, 50), "image/webp") == (100, 50)
    assert image_size(webp(b"VP8X", 4096, 2160), "image/webp") == (4096, 2160)
    assert image_size(b"\xff\xd8\xff", "image/jpeg") is None


def test_answer_describes_video_and_file_references(client: httpx.Client) -> None:
    video = {"type": "video_url", "video_url": {"url": data_url("video/mp4", b"\x00" * 2048)}}
    ref = {"type": "image_url", "image_url": "ms://file-abc"}
    parts = [ref, video, {"type": "text", "text": "compare"}]
    content = chat(client, {"role": "user", "content": parts}).json()["choices"][0]["message"][
        "content"
    ]
    assert "1 text part, 1 image, 1 video." in content
    assert "Image 1: ms://file-abc (file reference)." in content
    assert "Video 1: video/mp4, 2048 bytes." in content


def test_json_modes_answer_with_json(client: httpx.Client) -> None:
    fmt = {"type": "json_object"}
    content = chat(client, user("json please"), response_format=fmt).json()["choices"][0]
    assert json.loads(content["message"]["content"])["simulator"] == "[Kimi simulator]"
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "ok": {"const": True}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    message = chat(client, user("json please"), response_format=fmt).json()["choices"][0]["message"]
    assert json.loads(message["content"]) == {"n": 3, "ok": True}


def test_partial_mode_continues_without_the_prefix(client: httpx.Client) -> None:
    prefix = {"role": "assistant", "content": "Once upon", "partial": True}
    content = chat(client, user("story"), prefix).json()["choices"][0]["message"]["content"]
    assert content.startswith("[Kimi simulator] continuing your partial answer (9 chars)")
    assert "Once upon" not in content


def test_chunk_directives_set_fragment_counts(client: httpx.Client) -> None:
    items = stream(client, user("Hi [[sim: chunks=7 reasoning_chunks=3]]"))
    ds = deltas(items)
    assert sum(1 for d in ds if d.get("content")) == 7
    assert sum(1 for d in ds if d.get("reasoning_content")) == 3
    short = stream(client, user("Hi [[sim: chunks=2]]"), thinking={"type": "disabled"})
    assert joined(short, "content") == joined(
        stream(client, user("Hi [[sim: chunks=2]]"), thinking={"type": "disabled"}), "content"
    )
    assert items[-1]["choices"][0]["usage"]["completion_tokens"] == 10


def test_max_completion_tokens_truncates_with_length(client: httpx.Client) -> None:
    items = stream(client, user("Hi"), max_completion_tokens=5)
    assert items[-1]["choices"][0]["finish_reason"] == "length"
    assert items[-1]["choices"][0]["usage"]["completion_tokens"] == 5
    assert not joined(items, "content")  # cut inside the reasoning, like live k2.6
    body = chat(client, user("Hi"), max_completion_tokens=40).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 40
    assert body["choices"][0]["message"]["content"].startswith("[Kimi")


def test_stop_strings_cut_the_answer(client: httpx.Client) -> None:
    items = stream(client, user("Hi"), stop=["Received", "zzz"])
    assert joined(items, "content") == "[Kimi simulator] "
    assert items[-1]["choices"][0]["finish_reason"] == "stop"
    body = chat(client, user("Hi"), stop="simulator").json()
    assert body["choices"][0]["message"]["content"] == "[Kimi "


# --- tools -----------------------------------------------------------------------------


def tool_call_of(items: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    fragments = [tc for d in deltas(items) for tc in d.get("tool_calls") or []]
    return fragments[0], "".join(f["function"].get("arguments") or "" for f in fragments)


def test_tool_call_then_tool_result(client: httpx.Client) -> None:
    question = user("Weather in Paris?")
    items = stream(client, question, tools=[WEATHER])
    first, arguments = tool_call_of(items)
    assert first == {
        "index": 0,
        "id": "get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert json.loads(arguments) == {
        "city": "Paris",
        "unit": "celsius",
        "days": 3,
        "hourly": True,
        "tags": ["Paris"],
    }
    assert joined(items, "content") == ""
    assert "get_weather" in joined(items, "reasoning_content")
    assert items[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assistant = {
        "role": "assistant",
        "content": "",
        "reasoning_content": joined(items, "reasoning_content"),
        "tool_calls": [
            {
                "id": first["id"],
                "type": "function",
                "function": {"name": "get_weather", "arguments": arguments},
            }
        ],
    }
    result = {
        "role": "tool",
        "tool_call_id": first["id"],
        "content": '{"temp": 21, "sky": "clear"}',
    }
    items = stream(client, question, assistant, result, tools=[WEATHER])
    assert joined(items, "content") == (
        '[Kimi simulator] Tool get_weather returned: {"temp": 21, "sky": "clear"}'
    )
    assert items[-1]["choices"][0]["finish_reason"] == "stop"


def test_tool_call_non_stream_and_choice_none(client: httpx.Client) -> None:
    body = chat(client, user("Weather?"), tools=[WEATHER]).json()
    message = body["choices"][0]["message"]
    assert message["content"] == ""
    assert message["tool_calls"][0]["index"] == 0
    assert json.loads(message["tool_calls"][0]["function"]["arguments"])["city"] == "Paris"
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    body = chat(client, user("Weather?"), tools=[WEATHER], tool_choice="none").json()
    assert (
        "Tools declared: get_weather (tool_choice none)."
        in body["choices"][0]["message"]["content"]
    )


def test_tool_directive_and_omitted_index(client: httpx.Client) -> None:
    other = {"type": "function", "function": {"name": "ping"}}
    items = stream(client, user("[[sim: tool=ping tool_index=omit]]"), tools=[WEATHER, other])
    first, arguments = tool_call_of(items)
    assert first["function"]["name"] == "ping"
    assert arguments == "{}"
    assert not any("index" in tc for d in deltas(items) for tc in d.get("tool_calls") or [])


def test_self_hosted_tool_call_ids(client: httpx.Client) -> None:
    items = stream(client, user("[[sim: flavour=vllm]]"), tools=[WEATHER])
    first, _ = tool_call_of(items)
    assert first["id"] == "functions.get_weather:0"
    assert first["function"] == {"name": "get_weather"}


def test_web_search_round_trip(client: httpx.Client) -> None:
    question = user("Latest Kimi news?")
    items = stream(client, question, tools=[WEB_SEARCH])
    first, arguments = tool_call_of(items)
    assert first["type"] == "builtin_function"
    assert first["function"]["name"] == "$web_search"
    assert re.fullmatch(r"t-web_search-\d{12}", first["id"])
    search = json.loads(arguments)
    assert set(search) == {"search_result", "usage"}
    call = {
        "id": first["id"],
        "type": "builtin_function",
        "function": {"name": "$web_search", "arguments": arguments},
    }
    assistant = {"role": "assistant", "content": "", "reasoning_content": "r", "tool_calls": [call]}
    echo = {
        "role": "tool",
        "tool_call_id": first["id"],
        "name": "$web_search",
        "content": arguments,
    }
    response = chat(client, question, assistant, echo, tools=[WEB_SEARCH])
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    assert search["search_result"]["search_id"] in content
    assert content.startswith("[Kimi simulator] I searched the web")

    altered = {**echo, "content": json.dumps(search)}  # re-serialised: spacing changes
    response = chat(client, question, assistant, altered, tools=[WEB_SEARCH])
    assert response.status_code == 400
    assert "sent back unchanged" in error_of(response)["message"]
    unnamed = {k: v for k, v in echo.items() if k != "name"}
    response = chat(client, question, assistant, unnamed, tools=[WEB_SEARCH])
    assert response.status_code == 400
    assert 'must have name "$web_search"' in error_of(response)["message"]


# --- faults ----------------------------------------------------------------------------


def test_overloaded_with_retry_after(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=overloaded retry_after=2]]"))
    assert response.status_code == 429
    assert response.content == (
        b'{"error":{"message":"The engine is currently overloaded, please try again later",'
        b'"type":"engine_overloaded_error"}}'
    )
    assert response.headers["retry-after"] == "2"
    plain = chat(client, user("[[sim: fault=overloaded]]"))
    assert "retry-after" not in plain.headers


def test_rate_limit_and_quota_bodies(client: httpx.Client) -> None:
    error = error_of(chat(client, user("[[sim: fault=rate-limit after=7]]")))
    assert error["type"] == "rate_limit_reached_error"
    assert re.fullmatch(
        r"Your account org-[0-9a-f]{32}<ak-[0-9a-f]{20}> request reached organization max RPM: 3, "
        r"please try again after 7 seconds",
        error["message"],
    )
    response = chat(client, user("[[sim: fault=quota]]"))
    assert response.status_code == 429
    assert error_of(response)["type"] == "exceeded_current_quota_error"
    assert error_of(response)["message"].endswith(
        "is suspended due to insufficient balance, please recharge your account"
    )


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("500", 500, "server_error"),
        ("502", 502, "server_error"),
        ("503", 503, "server_unavailable"),
    ],
)
def test_server_error_faults(client: httpx.Client, fault: str, status: int, kind: str) -> None:
    response = chat(client, user(f"[[sim: fault={fault} retry_after=4]]"))
    assert response.status_code == status
    assert error_of(response)["type"] == kind
    assert (response.headers.get("retry-after") == "4") is (status == 503)


def test_gateway_timeout_is_html(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=504]]"))
    assert response.status_code == 504
    assert response.headers["content-type"] == "text/html"
    assert b"504 Gateway Time-out" in response.content


def test_times_counts_per_directive_then_succeeds(client: httpx.Client) -> None:
    message = user("retry me [[sim: fault=overloaded times=2]]")
    statuses = [chat(client, message).status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 200]
    other = user("other text [[sim: fault=overloaded times=1]]")
    assert [chat(client, other).status_code for _ in range(2)] == [429, 200]


def test_global_fault(sim: Simulator, client: httpx.Client) -> None:
    sim.set_fault("rate-limit", times=2, after=3, retry_after=3)
    first = chat(client)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert chat(client).status_code == 429
    assert chat(client).status_code == 200
    sim.set_fault("503")
    assert [chat(client).status_code for _ in range(3)] == [503, 503, 503]
    sim.set_fault(None)
    assert chat(client).status_code == 200
    with pytest.raises(ValueError, match="unknown fault"):
        sim.set_fault("meteor")


def test_constructor_fault() -> None:
    with Simulator(api_key=KEY, fault="500", fault_times=1) as other:
        headers = {"Authorization": f"Bearer {KEY}"}
        body = {"model": "kimi-k2.6", "messages": [user("x")]}
        url = other.base_url + "/chat/completions"
        assert httpx.post(url, json=body, headers=headers).status_code == 500
        assert httpx.post(url, json=body, headers=headers).status_code == 200


def test_reset_before_headers(client: httpx.Client) -> None:
    with pytest.raises(httpx.TransportError):
        chat(client, user("[[sim: fault=reset-before-headers]]"))
    assert chat(client, user("still serving")).status_code == 200


def test_reset_mid_stream(client: httpx.Client) -> None:
    received: list[str] = []
    body = {
        "model": "kimi-k2.6",
        "stream": True,
        "messages": [user("[[sim: fault=reset-mid-stream]]")],
    }
    with client.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.TransportError):
            received.extend(line for line in response.iter_lines() if line.startswith("data:"))
    assert chat(client, user("still serving")).status_code == 200


def test_malformed_chunk(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=malformed at=2]]"), stream=True)
    payloads = data_lines(response.text)
    assert payloads[-1] == "[DONE]"
    broken = []
    for payload in payloads[:-1]:
        try:
            json.loads(payload)
        except ValueError:
            broken.append(payload)
    assert len(broken) == 1
    assert payloads.index(broken[0]) == 2
    body = chat(client, user("[[sim: fault=malformed]]"))
    with pytest.raises(json.JSONDecodeError):
        body.json()


def test_no_done(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=no-done]]"), stream=True)
    payloads = data_lines(response.text)
    assert "[DONE]" not in payloads
    assert json.loads(payloads[-1])["choices"][0]["finish_reason"] == "stop"


def test_error_frame(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=error-frame]]"), stream=True)
    payloads = data_lines(response.text)
    assert len(payloads) == 4
    assert json.loads(payloads[-1]) == {
        "error": {"message": "Stream failed", "type": "server_error", "code": "stream_failure"}
    }


def test_keepalive_comments(client: httpx.Client) -> None:
    response = chat(client, user("[[sim: fault=keepalive]]"), stream=True)
    assert ": keep-alive" in response.text.split("\n")
    plain = chat(client, user("[[sim: fault=keepalive]]"), stream=True)
    assert len(data_lines(plain.text)) == len(data_lines(response.text))
    assert data_lines(response.text)[-1] == "[DONE]"


def test_stall_trips_a_read_timeout(sim: Simulator) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    timeout = httpx.Timeout(5, read=0.3)
    body = {
        "model": "kimi-k2.6",
        "stream": True,
        "messages": [user("[[sim: fault=stall stall=5]]")],
    }
    received: list[str] = []
    with (
        httpx.Client(base_url=sim.base_url, headers=headers, timeout=timeout) as http,
        http.stream("POST", "/chat/completions", json=body) as response,
        pytest.raises(httpx.ReadTimeout),
    ):
        received.extend(line for line in response.iter_lines() if line.startswith("data:"))
    assert len(received) == 3


def test_stop_is_prompt_while_a_stream_is_stalled() -> None:
    sim = Simulator(api_key=KEY).start()
    started = threading.Event()
    outcome: list[BaseException | None] = []

    def consume() -> None:
        body = {"model": "kimi-k2.6", "stream": True, "messages": [user("[[sim: fault=stall]]")]}
        headers = {"Authorization": f"Bearer {KEY}"}
        try:
            with httpx.stream(
                "POST", sim.base_url + "/chat/completions", json=body, headers=headers, timeout=20
            ) as r:
                for _ in r.iter_lines():
                    started.set()
            outcome.append(None)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=consume)
    thread.start()
    assert started.wait(5)
    began = time.monotonic()
    sim.stop()
    assert time.monotonic() - began < 2
    thread.join(5)
    assert not thread.is_alive()
    assert isinstance(outcome[0], httpx.TransportError)


def test_latency_and_delay_directives(client: httpx.Client) -> None:
    items = stream(client, user("[[sim: latency_ms=20 delay_ms=1 chunks=5 reasoning_chunks=2]]"))
    assert joined(items, "content").startswith("[Kimi simulator]")
    assert len(items) == 1 + 2 + 1 + 5 + 1


def test_hundred_thousand_chunks(client: httpx.Client) -> None:
    body = {
        "model": "kimi-k2.6",
        "stream": True,
        "thinking": {"type": "disabled"},
        "messages": [user("[[sim: chunks=100000]]")],
    }
    count = 0
    with client.stream("POST", "/chat/completions", json=body) as response:
        for line in response.iter_lines():
            count += line.startswith("data: ")
    assert count == 1 + 100_000 + 1 + 1  # role, content, finish, [DONE]


# --- packaging: fixture, import, command line ------------------------------------------


def test_exported_fixture(simulator: Simulator) -> None:
    headers = {"Authorization": f"Bearer {simulator.api_key}"}
    assert httpx.get(simulator.base_url + "/models", headers=headers).status_code == 200


def subprocess_env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_import_does_not_need_pytest() -> None:
    code = "import sys, kimi_jupyter.simulator; assert 'pytest' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=subprocess_env(), timeout=30)


def test_command_line_serves_until_terminated() -> None:
    command = [sys.executable, "-m", "kimi_jupyter.simulator", "--port", "0", "--api-key", "k"]
    env = subprocess_env()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.fullmatch(
                r"Kimi simulator listening on (http://127\.0\.0\.1:\d+/v1)\n", line
            )
            assert match, line
            response = httpx.get(match[1] + "/models", headers={"Authorization": "Bearer k"})
            assert response.json()["data"][0]["id"] == "kimi-k2.6"
        finally:
            process.terminate()
            assert process.wait(10) == 0
