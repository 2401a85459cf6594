"""Headless runs (nbclient, papermill) leave only the static bundle in the saved notebook.

nbclient records the state of every widget model it sees, closed or not, under
`metadata.widgets`; with the default view (`auto`, no `KIMI_VIEW`) a `%%kimi` cell run by it
must open no widget at all. Each example notebook runs here once, top to bottom in a real
kernel against the simulator, and must run clean (test_example_notebooks.py checks what
each one sent).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from kimi_jupyter.render.bundle import TURN_MIME
from kimi_jupyter.simulator import Simulator

EXAMPLES = Path(__file__).parents[1] / "example_notebooks"
KEY = "sk-headless-key"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


class CommCounter(NotebookClient):
    """nbclient, also counting the comms the kernel opened."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened: list[str] = []

    def handle_comm_msg(self, outs: Any, msg: dict[str, Any], cell_index: int) -> None:
        if msg["msg_type"] == "comm_open":
            self.opened.append(msg["content"].get("target_name", ""))
        super().handle_comm_msg(outs, msg, cell_index)


@pytest.fixture(scope="module")
def sim() -> Any:
    with Simulator(api_key=KEY) as server:
        yield server


# test_example_notebooks.py runs these the same way and checks them with `check_headless`.
RUN_THERE = {"agent", "charts", "dataframes", "plots", "sessions", "tools_and_batch"}
OTHERS = sorted(p.name for p in EXAMPLES.glob("*.ipynb") if p.stem not in RUN_THERE)


def check_headless(notebook: Any, opened: list[str]) -> None:
    """What a headless run leaves: no widget opened or saved, a static bundle per answer."""
    raw = nbformat.writes(notebook)
    saved = nbformat.reads(raw, as_version=4)
    state = saved.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert state == {}, f"{len(state)} widget models saved"
    assert "jupyter.widget" not in opened
    assert "application/vnd.jupyter.widget-view+json" not in raw
    bundles = [o for c in saved.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if TURN_MIME in o.get("data", {})]  # fmt: skip
    if any(c.source.lstrip().startswith("%%kimi") for c in saved.cells if c.cell_type == "code"):
        assert bundles, "a %%kimi cell left no static bundle"


def test_the_examples_run_elsewhere_are_the_ones_named() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.ipynb")} >= RUN_THERE
    assert OTHERS  # chat, getting_started, quickstart


@pytest.mark.parametrize("name", OTHERS)
def test_example_notebook_run_by_nbclient_keeps_no_widget_state(
    name: str, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    monkeypatch.delenv("KIMI_VIEW", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("KIMI_CONFIRM_TIMEOUT", "1")  # nobody clicks Run / Skip here
    shutil.copy(EXAMPLES / name, tmp_path / name)
    notebook = nbformat.read(tmp_path / name, as_version=4)
    before = len(sim.requests)
    # allow_errors: the errors are listed below, with the cells tagged to raise left out
    client = CommCounter(notebook, timeout=60, kernel_name="python3", allow_errors=True)
    client.execute(cwd=str(tmp_path))
    assert len(sim.requests) > before, "the notebook never reached the simulator"
    nbformat.write(notebook, tmp_path / name)
    saved = nbformat.read(tmp_path / name, as_version=4)
    _check_ran_clean(saved)
    check_headless(saved, client.opened)


def _check_ran_clean(notebook: Any) -> None:
    """No error (but in cells tagged `raises-exception`), no UsageError, the simulator's
    answers shown, no widget view and no key saved."""
    errors = [o for cell in notebook.cells
              if "raises-exception" not in cell.metadata.get("tags", [])
              for o in cell.get("outputs", []) if o.output_type == "error"]  # fmt: skip
    assert errors == []
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if "UsageError" in o.get("text", "")]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    answers = [o.data["text/plain"] for o in outputs if TURN_MIME in o.get("data", {})]
    assert "[Kimi simulator]" in text + "".join(answers)
    written = nbformat.writes(notebook)
    assert "application/vnd.jupyter.widget-view+json" not in written
    assert KEY not in written


def execute(client: Any, code: str, cell_id: str | None) -> list[dict[str, Any]]:
    """One execute_request, with the cell id in its metadata as JupyterLab sends it; the
    iopub messages it caused."""
    content = {"code": code, "silent": False, "store_history": True,
               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}  # fmt: skip
    msg = client.session.msg(
        "execute_request", content, metadata={"cellId": cell_id} if cell_id else {}
    )
    client.shell_channel.send(msg)
    reply = client.get_shell_msg(timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    seen = []
    while True:
        out = client.get_iopub_msg(timeout=10)
        if out["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            seen.append(out)
            if out["msg_type"] == "status" and out["content"]["execution_state"] == "idle":
                return seen


def test_the_default_view_is_live_for_a_frontend_and_static_headless(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    monkeypatch.delenv("KIMI_VIEW", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        execute(client, "%load_ext kimi_jupyter", None)
        in_lab = execute(client, "%%kimi\nhi [[sim: chunks=20]]", "cell-a")
        headless = execute(client, "%%kimi\nhi [[sim: chunks=20]]", None)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    kinds = lambda msgs: [m["msg_type"] for m in msgs]  # noqa: E731
    assert "comm_open" in kinds(in_lab)
    assert "update_display_data" in kinds(in_lab)
    assert "comm_open" not in kinds(headless)
    (bundle,) = [m for m in headless if m["msg_type"] == "display_data"]
    assert TURN_MIME in bundle["content"]["data"]
