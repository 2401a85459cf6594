"""The chat panel's comm protocol, end to end in a real kernel (jupyter_client)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kimi_jupyter.simulator import Simulator

from helpers import Panel, simulated_kernel

KEY = "sk-panel-comm-test-key"


@pytest.fixture(scope="module")
def panel_kernel() -> Iterator[tuple[Simulator, Any]]:
    setup = "import pandas as pd\ndf = pd.DataFrame({'x': [1, 2]})"
    with Simulator(api_key=KEY) as sim, simulated_kernel(sim.base_url, KEY, setup) as client:
        yield sim, client


def test_hello_lists_sessions(panel_kernel: tuple[Simulator, Any]) -> None:
    _, client = panel_kernel
    panel = Panel(client)
    panel.send({"type": "hello", "version": 1})
    reply = panel.wait_for(lambda m: m["type"] == "sessions")
    assert reply["default"] == "default"


def test_ask_streams_deltas_then_done_and_lands_in_the_session(
    panel_kernel: tuple[Simulator, Any],
) -> None:
    sim, client = panel_kernel
    panel = Panel(client)
    panel.send({"type": "ask", "id": "r1", "session": "panel", "prompt": "what is in @df?"})
    done = panel.wait_for(lambda m: m["type"] == "done" and m["id"] == "r1")
    deltas = [m for m in panel.received if m["type"] == "delta" and m["id"] == "r1"]
    content = "".join(m["text"] for m in deltas if m["kind"] == "content")
    assert content == done["record"]["answer"]
    assert content.startswith("[Kimi simulator]")
    assert (
        "".join(m["text"] for m in deltas if m["kind"] == "reasoning")
        == done["record"]["reasoning"]
    )
    assert '"name":"df"' in sim.requests[-1]["messages"][-1]["content"][1]["text"]
    panel.send({"type": "list_turns", "session": "panel"})
    turns = panel.wait_for(lambda m: m["type"] == "turns")
    assert [t["prompt"] for t in turns["turns"]] == ["what is in @df?"]
    assert KEY not in str(panel.received)


def test_follow_up_shares_the_session_with_magics(panel_kernel: tuple[Simulator, Any]) -> None:
    sim, client = panel_kernel
    client.execute_interactive("%%kimi -s shared --no-thinking\nfirst, from a cell", timeout=60)
    panel = Panel(client)
    panel.send({"type": "ask", "id": "r2", "session": "shared", "prompt": "and a follow-up"})
    panel.wait_for(lambda m: m["type"] == "done" and m["id"] == "r2")
    users = [m["content"] for m in sim.requests[-1]["messages"] if m["role"] == "user"]
    assert users == ["first, from a cell", "and a follow-up"]


def test_stop_ends_the_answer_and_keeps_it(panel_kernel: tuple[Simulator, Any]) -> None:
    _, client = panel_kernel
    panel = Panel(client)
    prompt = "long [[sim: chunks=2000 delay_ms=5]]"
    panel.send({"type": "ask", "id": "r3", "session": "stops", "prompt": prompt})
    panel.wait_for(lambda m: m["type"] == "delta" and m["id"] == "r3" and m["kind"] == "content")
    panel.send({"type": "stop", "id": "r3"})
    done = panel.wait_for(lambda m: m["type"] == "done" and m["id"] == "r3", timeout=10)
    assert done["record"]["status"] == "stopped"
    assert 0 < len(done["record"]["answer"]) < 5_000


def test_errors_are_one_line_messages(panel_kernel: tuple[Simulator, Any]) -> None:
    _, client = panel_kernel
    panel = Panel(client)
    panel.send({"type": "launch-rockets"})
    unknown = panel.wait_for(lambda m: m["type"] == "error" and "unknown" in m["message"])
    assert unknown["message"] == "unknown message type 'launch-rockets'"
    panel.send({"type": "ask", "id": "r4", "session": "e", "prompt": "money [[sim: fault=quota]]"})
    quota = panel.wait_for(lambda m: m["type"] == "error" and m.get("id") == "r4")
    assert "billing" in quota["message"]
    assert "\n" not in quota["message"]
    panel.send({"type": "ask", "id": "r5", "session": "e", "prompt": "see @Out[99]"})
    bad = panel.wait_for(lambda m: m["type"] == "error" and m.get("id") == "r5")
    assert bad["message"].startswith("@Out[99]: no entry 99")


def test_traffic_grows_linearly(panel_kernel: tuple[Simulator, Any]) -> None:
    _, client = panel_kernel
    sizes = []
    for n in (1_000, 2_000):
        panel = Panel(client)
        panel.send(
            {"type": "ask", "id": f"t{n}", "session": f"t{n}", "prompt": f"x [[sim: chunks={n}]]"}
        )
        done = panel.wait_for(lambda m, n=n: m["type"] == "done" and m["id"] == f"t{n}")
        delta_bytes = sum(len(m["text"].encode()) for m in panel.received if m["type"] == "delta")
        text = len(done["record"]["answer"].encode()) + len(done["record"]["reasoning"].encode())
        assert delta_bytes == text  # every delta carries only new text
        sizes.append(len([m for m in panel.received if m["type"] == "delta"]))
    assert sizes[1] <= 2 * sizes[0] + 4
