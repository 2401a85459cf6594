"""Example notebooks run top to bottom in a real kernel against the simulator."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kimi_jupyter.simulator import Simulator

NOTEBOOKS = sorted((Path(__file__).parents[1] / "example_notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_example_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with Simulator(api_key="sk-notebook") as sim:
        monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
        monkeypatch.setenv("KIMI_API_KEY", "sk-notebook")
        monkeypatch.setenv("KIMI_CONFIRM_TIMEOUT", "1")  # nobody clicks Run / Skip here
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=60, kernel_name="python3").execute(cwd=str(tmp_path))
        assert sim.requests, "the notebook never reached the simulator"
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [
        o
        for cell in notebook.cells
        if "raises-exception" not in cell.metadata.get("tags", [])
        for o in cell.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not [o for o in outputs if "UsageError" in o.get("text", "")]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    answers = [
        o.data["text/plain"]
        for o in outputs
        if "application/vnd.kimi.turn+json" in o.get("data", {})
    ]
    assert "[Kimi simulator]" in text + "".join(answers)
    assert "application/vnd.jupyter.widget-view+json" not in nbformat.writes(notebook)
    assert "sk-notebook" not in nbformat.writes(notebook)
