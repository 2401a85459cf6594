"""`%%kimi --agent` through a real kernel: notebooks executed by nbclient against the
simulator (a headless run: nobody can click, so asking steps are skipped at once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from kimi_jupyter.agent.outputs import UNTRUSTED
from kimi_jupyter.simulator import Simulator

KEY = "sk-agent-cell-notebook"
TURN = "application/vnd.kimi.turn+json"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        monkeypatch.setenv("KIMI_BASE_URL", server.base_url)
        monkeypatch.setenv("KIMI_API_KEY", KEY)
        monkeypatch.setenv("KIMI_CONFIRM_TIMEOUT", "1")
        monkeypatch.delenv("KIMI_VIEW", raising=False)
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
        yield server


def run(sources: list[str], tmp_path: Path) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    return notebook


def errors(notebook: Any) -> list[Any]:
    return [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]


def turn_output(cell: Any) -> Any:
    (output,) = [o for o in cell.outputs if TURN in o.get("data", {})]
    return output


def tool_texts(sim: Simulator) -> list[str]:
    texts = []
    for body in sim.requests:
        for message in body["messages"]:
            if message["role"] != "tool":
                continue
            content = message["content"]
            if isinstance(content, str):
                texts.append(content)
            else:
                texts.append("\n".join(p.get("text", "") for p in content))
    return texts


def test_auto_runs_the_steps_in_the_kernel(sim: Simulator, tmp_path: Path) -> None:
    notebook = run(
        [
            "%load_ext kimi_jupyter",
            "Paris = 'bonjour from the kernel'",
            "%%kimi --agent --auto\nSay hi [[sim: tool=run_code]]",
            "%%kimi --agent --auto -s plot\nPlot the squares [[sim: agent=code-loop]]",
            "print('xs is', xs)\nimport matplotlib.pyplot as plt\nprint('open', plt.get_fignums())",
        ],
        tmp_path,
    )
    assert errors(notebook) == []
    saved = nbformat.writes(notebook)
    assert "application/vnd.jupyter.widget-view+json" not in saved
    assert KEY not in saved
    # the step's code and its output are in the cell's outputs
    hello = turn_output(notebook.cells[2])
    html = hello.data["text/html"]
    assert "Paris" in html
    assert "bonjour from the kernel" in html
    record = hello.data[TURN]
    (step,) = record["meta"]["agent"]["steps"]
    assert step["status"] == "done"
    assert step["args"] == {"code": "Paris"}
    assert record["meta"]["agent"]["mode"] == "auto"
    # the request carried the tool result, marked as untrusted data
    assert any(
        text.startswith("done: your code ran.\n" + UNTRUSTED) and "bonjour from the kernel" in text
        for text in tool_texts(sim)
    )
    # code-loop: ran twice in the kernel, each figure went back as an image part
    plot = turn_output(notebook.cells[3])
    steps = plot.data[TURN]["meta"]["agent"]["steps"]
    assert [s["status"] for s in steps] == ["done", "done"]
    assert "Squares, bigger labels" in plot.data["text/html"]
    assert plot.data["text/html"].count("<img src='data:image/png;base64,iVBORw0KGgo") == 2
    last = sim.requests[-1]["messages"]
    images = [
        p for m in last if m["role"] == "tool" for p in m["content"] if p["type"] == "image_url"
    ]
    assert len(images) == 2
    assert "Run 2: 1 image part (PNG " in plot.data["text/plain"]
    printed = "".join(o.get("text", "") for o in notebook.cells[4].outputs)
    assert "xs is [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in printed
    assert "open []" in printed  # the figures were closed after their steps
    # nothing but the saved turn: no figure shown again at the cell's end
    assert [o.output_type for o in notebook.cells[3].outputs] == ["display_data"]


def test_asking_in_a_headless_run_skips_and_runs_nothing(sim: Simulator, tmp_path: Path) -> None:
    notebook = run(
        [
            "%load_ext kimi_jupyter",
            "ran = []\nclass Counted:\n    def __repr__(self):\n        ran.append(1)\n"
            "        return 'ran'\nParis = Counted()",
            "%%kimi --agent\nSay hi [[sim: tool=run_code]]",
            "print('runs:', len(ran))",
        ],
        tmp_path,
    )
    assert errors(notebook) == []
    printed = "".join(o.get("text", "") for o in notebook.cells[3].outputs)
    assert "runs: 0" in printed
    record = turn_output(notebook.cells[2]).data[TURN]
    (step,) = record["meta"]["agent"]["steps"]
    assert step["status"] == "skipped"
    assert record["meta"]["agent"]["mode"] == "ask"
    assert any(text.startswith("skipped: the user did not approve") for text in tool_texts(sim))
