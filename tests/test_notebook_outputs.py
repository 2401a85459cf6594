"""`%%kimi` in a real kernel (nbclient, jupyter_client) against the simulator: what is saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from kimi_jupyter import Chat
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.render.bundle import TURN_MIME
from kimi_jupyter.simulator import Simulator

KEY = "sk-notebook-outputs-key"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PROMPT = "Explain a | table | and `code` [[sim: chunks=120 reasoning_chunks=40]]"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture
def kimi_env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    monkeypatch.delenv("KIMI_VIEW", raising=False)
    return sim


class CommCounter(NotebookClient):
    """nbclient, also counting which widget comms were opened and closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comms: dict[str, set[str]] = {"comm_open": set(), "comm_close": set()}

    def handle_comm_msg(self, outs: Any, msg: dict[str, Any], cell_index: int) -> None:
        if msg["msg_type"] in self.comms:
            self.comms[msg["msg_type"]].add(msg["content"]["comm_id"])
        super().handle_comm_msg(outs, msg, cell_index)


def run(cells: list[str], **kwargs: Any) -> tuple[Any, CommCounter]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    client = CommCounter(notebook, timeout=60, kernel_name="python3", **kwargs)
    client.execute()
    return notebook, client


def test_saved_output_is_the_static_bundle_with_the_exact_answer(kimi_env: Simulator) -> None:
    expected = Chat(sessions=Sessions(), api_key=KEY, base_url=kimi_env.base_url).ask(PROMPT)
    notebook, client = run(["%load_ext kimi_jupyter", f"%%kimi\n{PROMPT}"])
    (output,) = notebook.cells[1].outputs
    assert output.output_type == "display_data"
    assert set(output.data) == {"text/html", "text/plain", TURN_MIME}
    assert output.data["text/plain"] == expected.answer
    record = output.data[TURN_MIME]
    assert (record["answer"], record["reasoning"]) == (expected.answer, expected.reasoning)
    assert (record["session"], record["status"], record["finish_reason"]) == (
        "default",
        "done",
        "stop",
    )
    assert record["usage"]["total_tokens"] > 0
    html = output.data["text/html"]
    details = html[html.index("<details>") :]
    assert details.startswith("<details><summary>Thinking · ")
    assert expected.reasoning.split()[0] in details
    assert "kimi-k2.6 · " in html
    saved = nbformat.writes(notebook)
    assert WIDGET_MIME not in saved
    assert KEY not in saved
    assert not client.comms["comm_open"]  # headless (no cell id): no widgets at all


def test_static_view_leaves_no_widget_state_at_all(
    kimi_env: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_VIEW", "static")
    notebook, client = run(["%load_ext kimi_jupyter", f"%%kimi\n{PROMPT}"])
    assert client.comms["comm_open"] == set()
    assert "widgets" not in notebook.metadata
    (output,) = notebook.cells[1].outputs
    assert output.data[TURN_MIME]["status"] == "done"


def test_broken_stream_saves_the_partial_answer_and_a_one_line_error(kimi_env: Simulator) -> None:
    cells = ["%load_ext kimi_jupyter", "%%kimi\nbreak [[sim: fault=reset-mid-stream at=8]]"]
    notebook, _ = run(cells, allow_errors=True)
    bundle, error = notebook.cells[1].outputs
    assert bundle.data[TURN_MIME]["status"] == "failed"
    assert "Failed: the answer stopped mid-stream" in bundle.data["text/html"]
    assert error.output_type == "stream"
    assert error.text.strip().startswith("UsageError: the answer stopped mid-stream")
    assert len(error.text.strip().splitlines()) == 1


def execute_with_cell_id(client: Any, code: str, cell_id: str | None) -> dict[str, Any]:
    """An execute_request as JupyterLab sends it: the cell id in the request metadata."""
    content = {"code": code, "silent": False, "store_history": True,
               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}  # fmt: skip
    msg = client.session.msg(
        "execute_request", content, metadata={"cellId": cell_id} if cell_id else {}
    )
    client.shell_channel.send(msg)
    reply: dict[str, Any] = client.get_shell_msg(timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply


def test_rerunning_a_cell_replaces_its_turn(kimi_env: Simulator) -> None:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        execute_with_cell_id(
            client, "%load_ext kimi_jupyter\n%config KimiMagics.view = 'static'", None
        )
        for _ in range(2):
            execute_with_cell_id(client, "%%kimi\nfirst question", "cell-a")
        execute_with_cell_id(client, "%%kimi\nsecond question", "cell-b")
        execute_with_cell_id(client, "%%kimi\nfirst question, edited", "cell-a")
        for _ in range(2):
            execute_with_cell_id(client, "%%kimi\nno cell id", None)
        code = (
            "import json\nfrom kimi_jupyter.kernel import KernelContext\n"
            "exchanges = KernelContext.current().sessions.get('default').exchanges\n"
            "print(json.dumps([e.prompt.content for e in exchanges]))"
        )
        printed: list[str] = []
        client.execute_interactive(
            code, output_hook=lambda m: printed.append(m["content"].get("text", ""))
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    prompts = json.loads("".join(printed))
    assert prompts == ["first question, edited", "second question", "no cell id", "no cell id"]
    edited = [m["content"] for m in kimi_env.requests[-3]["messages"] if m["role"] == "user"]
    assert edited == ["second question", "first question, edited"]  # not its own old turn
