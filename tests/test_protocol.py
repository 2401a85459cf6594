"""The panel comm protocol: the shared fixtures (which jest reads too) against `protocol.py`,
and the server's answers to messages that do not fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kimi_jupyter.chat import Chat
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.panel import PanelServer
from kimi_jupyter.protocol import KINDS, PROTOCOL_VERSION, ProtocolError, parse

FIXTURES = Path(__file__).parent / "fixtures" / "protocol"


def fixtures() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]


def test_there_is_one_fixture_per_kind_and_one_kind_per_fixture() -> None:
    by_direction: dict[str, set[str]] = {"to_kernel": set(), "to_frontend": set()}
    for fixture in fixtures():
        by_direction[fixture["direction"]].add(fixture["kind"])
        assert (FIXTURES / f"{fixture['kind']}.json").exists()
    assert by_direction == {direction: set(kinds) for direction, kinds in KINDS.items()}


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f["kind"])
def test_valid_examples_pass_and_invalid_ones_are_one_line(fixture: dict[str, Any]) -> None:
    assert fixture["valid"]
    assert fixture["invalid"]
    for message in fixture["valid"]:
        assert parse(message, fixture["direction"]) == message
    for message in fixture["invalid"]:
        with pytest.raises(ProtocolError) as caught:
            parse(message, fixture["direction"])
        assert "\n" not in str(caught.value)
        assert str(caught.value).startswith(f"malformed {fixture['kind']!r} message: ")


def server() -> tuple[PanelServer, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    chat = Chat("default", sessions=Sessions(), api_key="sk-protocol-test")
    return PanelServer(lambda m: sent.append(dict(m)), chat, lambda _prompt: []), sent


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "launch-rockets"}, "unknown message type 'launch-rockets'"),
        ("hello", "a message must be a JSON object, not str"),
        ({"type": "ask", "id": "q", "session": "s"}, "malformed 'ask' message: prompt is missing"),
        ({"type": "stop", "id": 3}, "malformed 'stop' message: id must be a string"),
        ({"type": "hello", "version": 99}, "this kernel's kimi-jupyter speaks protocol v1"),
        ({"type": "ask", "id": "q", "session": "s", "prompt": "  "}, "write a question first"),
        (
            {"type": "agent_ask", "id": "a", "session": "s", "prompt": "go"},
            "malformed 'agent_ask' message: mode is missing",
        ),
        (
            {
                "type": "agent_ask",
                "id": "a",
                "session": "s",
                "prompt": "go",
                "mode": "ask",
                "cap": 0,
            },
            "the step cap must be a positive whole number, not 0",
        ),
        (
            {"type": "agent_ask", "id": "a", "session": "s", "prompt": " ", "mode": "auto"},
            "write a question first",
        ),
    ],
)
def test_the_server_answers_what_does_not_fit_with_one_line(data: object, message: str) -> None:
    panel, sent = server()
    panel.handle(data)
    assert len(sent) == 1
    assert sent[0]["type"] == "error"
    assert sent[0]["message"].startswith(message)
    assert "\n" not in sent[0]["message"]
    parse(sent[0], "to_frontend")


def test_hello_names_the_protocol_version_and_the_sessions() -> None:
    panel, sent = server()
    panel.handle({"type": "hello", "version": PROTOCOL_VERSION})
    assert sent == [
        {"type": "sessions", "version": PROTOCOL_VERSION, "sessions": ["default"],
         "default": "default"}
    ]  # fmt: skip
    parse(sent[0], "to_frontend")
