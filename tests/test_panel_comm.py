"""The chat panel's comm protocol, end to end in a real kernel (jupyter_client)."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from kimi_jupyter._comm import TARGET
from kimi_jupyter.simulator import Simulator

KEY = "sk-panel-comm-test-key"


class Panel:
    """A comm opened from the client side, as the lab panel opens it."""

    def __init__(self, client: Any) -> None:
        self.client, self.comm_id = client, uuid.uuid4().hex
        self.received: list[dict[str, Any]] = []
        self._send("comm_open", {"comm_id": self.comm_id, "target_name": TARGET, "data": {}})

    def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        self.client.shell_channel.send(self.client.session.msg(msg_type, content))

    def send(self, data: dict[str, Any]) -> None:
        self._send("comm_msg", {"comm_id": self.comm_id, "data": data})

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received:
                if predicate(message):
                    return message
            try:
                msg = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == self.comm_id:
                self.received.append(msg["content"]["data"])
        raise AssertionError(f"no matching message; got {self.received[-5:]}")


@pytest.fixture(scope="module")
def panel_kernel() -> Iterator[tuple[Simulator, Any]]:
    with Simulator(api_key=KEY) as sim:
        import os

        env = {**os.environ, "KIMI_BASE_URL": sim.base_url, "KIMI_API_KEY": KEY}
        manager, client = start_new_kernel(kernel_name="python3", env=env)
        try:
            reply = client.execute_interactive(
                "%load_ext kimi_jupyter\nimport pandas as pd\ndf = pd.DataFrame({'x': [1, 2]})",
                store_history=False, timeout=60,
            )  # fmt: skip
            assert reply["content"]["status"] == "ok"
            yield sim, client
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


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
