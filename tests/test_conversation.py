"""The wire payload rules (DESIGN §4), the context budget and named sessions."""

from __future__ import annotations

import pytest

from kimi_jupyter.config import Settings
from kimi_jupyter.conversation import (
    Exchange,
    MediaPart,
    Message,
    Options,
    Session,
    Sessions,
    TextPart,
    build_payload,
)
from kimi_jupyter.errors import ContextLengthError
from kimi_jupyter.turn import ToolCall, Turn

HOSTED = Settings(api_key="k")
SAMPLING = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "max_tokens")


def user(text: str) -> Message:
    return Message("user", text)


def tool_exchange(question: str = "weather?") -> Exchange:
    call = ToolCall("get_weather_0", "get_weather", '{"city": "Paris"}')
    replies = (
        Message("assistant", "", tool_calls=(call,), reasoning="I should call the tool."),
        Message("tool", "sunny", tool_call_id="get_weather_0", name="get_weather"),
    )
    return Exchange(
        user(question), Turn(answer="It is sunny.", reasoning="Read the result."), replies
    )


def plain_exchange(q: str, a: str, reasoning: str = "thought") -> Exchange:
    return Exchange(user(q), Turn(answer=a, reasoning=reasoning))


def test_defaults_send_no_sampling_fields_and_thinking_object() -> None:
    payload = build_payload([user("hi")], HOSTED, Options())
    assert not set(SAMPLING) & set(payload)
    assert payload["thinking"] == {"type": "enabled"}
    assert payload["model"] == "kimi-k2.6"
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_usage": True}
    assert "chat_template_kwargs" not in payload


def test_only_what_the_user_set_is_sent() -> None:
    options = Options(
        max_completion_tokens=500,
        temperature=0.6,
        top_p=0.95,
        stop=["END"],
        thinking=False,
        stream=False,
        model="kimi-k2.6",
    )
    payload = build_payload([user("hi")], HOSTED, options)
    assert payload["max_completion_tokens"] == 500
    assert "max_tokens" not in payload
    assert (payload["temperature"], payload["top_p"], payload["stop"]) == (0.6, 0.95, ["END"])
    assert payload["thinking"] == {"type": "disabled"}
    assert "stream" not in payload
    assert "stream_options" not in payload


def test_self_hosted_thinking_off_also_uses_chat_template_kwargs() -> None:
    settings = Settings(api_key="k", base_url="http://127.0.0.1:8000/v1")
    payload = build_payload([user("hi")], settings, Options(thinking=False))
    assert payload["chat_template_kwargs"] == {"thinking": False}


def wire_assistants(session: Session, options: Options) -> list[dict[str, object]]:
    payload, _ = session.request(user("next"), HOSTED, options)
    return [m for m in payload["messages"] if m["role"] == "assistant"]


def test_reasoning_replayed_only_on_tool_call_messages_by_default() -> None:
    session = Session("s")
    session.record(plain_exchange("a", "A"))
    session.record(tool_exchange())
    plain, call, final = wire_assistants(session, Options())
    assert "reasoning_content" not in plain
    assert call["reasoning_content"] == "I should call the tool."
    assert call["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert "reasoning_content" not in final


def test_keep_thinking_replays_every_assistant_message() -> None:
    session = Session("s")
    session.record(plain_exchange("a", "A", reasoning="r1"))
    session.record(tool_exchange())
    payload, _ = session.request(user("next"), HOSTED, Options(keep_thinking=True))
    assert payload["thinking"] == {"type": "enabled", "keep": "all"}
    assistants = [m for m in payload["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in assistants] == [
        "r1",
        "I should call the tool.",
        "Read the result.",
    ]


def test_thinking_off_replays_no_reasoning() -> None:
    session = Session("s")
    session.record(tool_exchange())
    assert all(
        "reasoning_content" not in m for m in wire_assistants(session, Options(thinking=False))
    )


def test_tool_call_with_no_reasoning_still_carries_the_key() -> None:
    call = ToolCall("c1", "f", "{}")
    replies = (
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "x", tool_call_id="c1"),
    )
    session = Session("s")
    session.record(Exchange(user("q"), Turn(answer="done"), replies))
    (call_msg, _final) = wire_assistants(session, Options())
    assert call_msg["reasoning_content"] == ""


def test_message_order_system_history_prompt() -> None:
    session = Session("s", system="Be brief.")
    session.record(plain_exchange("q1", "a1"))
    payload, dropped = session.request(user("q2"), HOSTED, Options())
    roles = [(m["role"], m["content"]) for m in payload["messages"]]
    assert roles == [("system", "Be brief."), ("user", "q1"), ("assistant", "a1"), ("user", "q2")]
    assert dropped == 0


def test_budget_drops_oldest_keeps_system_and_whole_tool_exchanges() -> None:
    settings = Settings(api_key="k", context_window=1_000, output_reserve=200)
    session = Session("s", system="sys")
    session.record(plain_exchange("old " * 600, "x"))  # ~800 tokens
    session.record(tool_exchange("w " * 150))  # ~100+ tokens, five messages
    session.record(plain_exchange("recent", "y"))
    payload, dropped = session.request(user("now"), settings, Options())
    contents = [m["content"] for m in payload["messages"]]
    assert dropped == 1
    assert contents[0] == "sys"
    assert contents[-1] == "now"
    assert not any(str(c).startswith("old") for c in contents)
    roles = [m["role"] for m in payload["messages"]]
    assert roles == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "user",
    ]


def test_budget_never_keeps_half_a_tool_exchange() -> None:
    exchange = tool_exchange("q " * 30)
    cost = sum(m.estimate_tokens() for m in exchange.messages())
    fixed = user("now").estimate_tokens()
    settings = Settings(api_key="k", context_window=fixed + cost - 1 + 10, output_reserve=10)
    session = Session("s")
    session.record(exchange)
    payload, dropped = session.request(user("now"), settings, Options())
    assert dropped == 1
    assert [m["role"] for m in payload["messages"]] == ["user"]


def test_prompt_alone_over_the_window_is_a_clear_error() -> None:
    settings = Settings(api_key="k", context_window=1_000, output_reserve=100)
    with pytest.raises(ContextLengthError, match="1,000-token window"):
        Session("s").request(user("x" * 10_000), settings, Options())


def test_unanswered_exchanges_are_not_replayed() -> None:
    session = Session("s")
    session.record(Exchange(user("failed"), Turn(status="failed", error="boom")))
    session.record(Exchange(user("stopped"), Turn(answer="partial", status="stopped")))
    payload, _ = session.request(user("now"), HOSTED, Options())
    assert [m["content"] for m in payload["messages"]] == ["stopped", "partial", "now"]
    assert len(session.turns) == 2  # kept in history, just not sent


def test_rerun_cell_replaces_its_exchange_and_is_not_its_own_context() -> None:
    session = Session("s")
    session.record(Exchange(user("v1"), Turn(answer="a1"), cell_id="cell-1"))
    session.record(Exchange(user("other"), Turn(answer="a2"), cell_id="cell-2"))
    payload, _ = session.request(user("v2"), HOSTED, Options(), cell_id="cell-1")
    assert [m["content"] for m in payload["messages"]] == ["other", "a2", "v2"]
    session.record(Exchange(user("v2"), Turn(answer="b1"), cell_id="cell-1"))
    assert [e.prompt.content for e in session.exchanges] == ["v2", "other"]
    session.record(Exchange(user("no id"), Turn(answer="c")))
    session.record(Exchange(user("no id"), Turn(answer="c")))
    assert len(session.exchanges) == 4


def test_multimodal_parts_on_the_wire() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    message = Message(
        "user", (TextPart("look"), MediaPart(png, "image/png"), MediaPart(b"v", "video/mp4"))
    )
    wire = message.to_wire()
    assert wire["content"][0] == {"type": "text", "text": "look"}
    assert wire["content"][1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert wire["content"][2] == {
        "type": "video_url",
        "video_url": {"url": "data:video/mp4;base64,dg=="},
    }


def test_sessions_are_named_and_shared() -> None:
    sessions = Sessions()
    a = sessions.get("a", system="S")
    assert sessions.get("a") is a
    assert a.system == "S"
    b = sessions.new("a")
    assert b is not a
    assert sessions.get("a") is b
    assert sessions.names() == ["a"]


def test_identical_media_is_stored_once_per_session() -> None:
    session = Session("s")
    figure = b"\x89PNG\r\n\x1a\n" + bytes(2_000)
    for i in range(3):
        image = MediaPart(
            bytes(figure), "image/png"
        )  # a fresh copy each time, as a re-render gives
        session.record(Exchange(Message("user", (TextPart(f"q{i}"), image)), Turn(answer="a")))
    stored = [p for e in session.exchanges for p in e.prompt.content if isinstance(p, MediaPart)]
    assert len(stored) == 3
    assert len({id(p.data) for p in stored}) == 1
    assert len(session.media) == 1
    payload, _ = session.request(user("next"), HOSTED, Options())
    lists = [m["content"] for m in payload["messages"] if isinstance(m["content"], list)]
    assert sum(1 for content in lists for p in content if p["type"] == "image_url") == 3
