"""Tool calls over the chat panel's comm: tool_start / confirm / confirm_reply / tool_end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from test_panel_comm import Panel

from kimi_jupyter.simulator import Simulator

KEY = "sk-panel-tools-test-key"
TOOLS = '''
%load_ext kimi_jupyter
from kimi_jupyter import tool
ran = []

@tool
def lookup_population(city: str) -> int:
    """The population of a city."""
    ran.append(city)
    return 2148000

@tool(confirm=True)
def send_report(to: str) -> str:
    """Email the report."""
    ran.append(to)
    return "<script>window.__r=1</script> sent"
'''


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    with Simulator(api_key=KEY) as sim:
        env = {**os.environ, "KIMI_BASE_URL": sim.base_url, "KIMI_API_KEY": KEY}
        manager, client = start_new_kernel(kernel_name="python3", env=env)
        try:
            reply = client.execute_interactive(TOOLS, store_history=False, timeout=60)
            assert reply["content"]["status"] == "ok"
            yield client
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def of(panel: Panel, request_id: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in panel.received if m.get("id") == request_id and m["type"] == kind]


def ran(client: Any) -> str:
    """What the kernel's tools have been called with so far (a cell run meanwhile)."""
    texts: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            texts.append(msg["content"]["text"])

    reply = client.execute_interactive("print(ran)", store_history=False, timeout=10,
                                       output_hook=hook)  # fmt: skip
    assert reply["content"]["status"] == "ok"
    return "".join(texts).strip()


def test_a_tool_call_streams_start_and_end_between_the_steps(kernel: Any) -> None:
    panel = Panel(kernel)
    prompt = "How many live in Paris? [[sim: tool=lookup_population]]"
    panel.send({"type": "ask", "id": "t1", "session": "tools", "prompt": prompt})
    done = panel.wait_for(lambda m: m["type"] == "done" and m["id"] == "t1")
    kinds = [m["type"] for m in panel.received if m.get("id") == "t1"]
    start, end = kinds.index("tool_start"), kinds.index("tool_end")
    assert "delta" in kinds[:start]
    assert "delta" in kinds[end:]
    assert "confirm" not in kinds
    (started,) = of(panel, "t1", "tool_start")
    assert started["call"] == {
        "id": started["call"]["id"],
        "name": "lookup_population",
        "arguments": '{"city": "Paris"}',
    }
    assert started["step"] == 1
    assert started["confirm"] is False
    (ended,) = of(panel, "t1", "tool_end")
    assert ended["result"]["status"] == "ok"
    assert ended["result"]["preview"] == "2148000"
    assert done["record"]["tool_results"] == [ended["result"]]
    assert "2148000" in done["record"]["answer"]
    for kind in ("reasoning", "content"):  # the deltas add up to the record, steps joined
        text = "".join(m["text"] for m in of(panel, "t1", "delta") if m["kind"] == kind)
        assert text == done["record"]["answer" if kind == "content" else "reasoning"]


@pytest.mark.parametrize(("run", "status"), [(True, "ok"), (False, "skipped")])
def test_confirm_waits_for_the_panels_reply(kernel: Any, run: bool, status: str) -> None:
    panel = Panel(kernel)
    request = f"c-{run}"
    prompt = f"Send it to {request}. [[sim: tool=send_report]]"
    panel.send({"type": "ask", "id": request, "session": request, "prompt": prompt})
    asked = panel.wait_for(lambda m: m["type"] == "confirm" and m["id"] == request)
    (started,) = of(panel, request, "tool_start")
    assert started["confirm"] is True
    assert asked["call_id"] == started["call"]["id"]
    assert of(panel, request, "tool_end") == []  # it waits
    before = ran(kernel)  # the kernel serves cells meanwhile
    panel.send({"type": "confirm_reply", "id": request, "call_id": asked["call_id"], "run": run})
    done = panel.wait_for(lambda m: m["type"] == "done" and m["id"] == request)
    (ended,) = of(panel, request, "tool_end")
    assert ended["result"]["status"] == status
    assert done["record"]["tool_results"][0]["status"] == status
    assert (ran(kernel) != before) is run
    if run:  # the preview is data for `textContent`; escaping is the renderer's job
        assert ended["result"]["preview"] == "<script>window.__r=1</script> sent"


def test_stop_releases_a_waiting_confirm(kernel: Any) -> None:
    panel = Panel(kernel)
    prompt = "Send it. [[sim: tool=send_report]]"
    panel.send({"type": "ask", "id": "s1", "session": "stop", "prompt": prompt})
    asked = panel.wait_for(lambda m: m["type"] == "confirm" and m["id"] == "s1")
    panel.send({"type": "stop", "id": "s1"})
    done = panel.wait_for(lambda m: m["type"] == "done" and m["id"] == "s1", timeout=10)
    assert [r["status"] for r in done["record"]["tool_results"]] == ["skipped"]
    # A late reply finds nobody waiting: ignored, no error.
    panel.send({"type": "confirm_reply", "id": "s1", "call_id": asked["call_id"], "run": True})
    panel.send({"type": "hello", "version": 1})
    panel.wait_for(lambda m: m["type"] == "sessions")
    assert of(panel, "s1", "error") == []
    assert [m for m in panel.received if m["type"] == "error"] == []
