"""A notebook for the simulator's agent policies to act on without a browser.

The page's side of an agent turn (`agent_propose` → `agent_result`) carried out on cells kept
as nbformat-like dicts: a run shows `run_outputs` instead of executing anything. The
kernel-level agent tests and `benchmarks/bench_agent.py` answer proposals with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScriptedNotebook:
    """Cells the scripted page edits; `carry_out` gives an approved step's result fields."""

    cells: list[dict[str, Any]] = field(default_factory=list)
    run_outputs: list[dict[str, Any]] = field(default_factory=list)
    ids: Iterator[str] = field(default_factory=lambda: (f"new-{n}" for n in itertools.count(1)))

    @classmethod
    def of(cls, *sources: str, outputs: list[dict[str, Any]] | None = None,
           run_outputs: list[dict[str, Any]] | None = None) -> ScriptedNotebook:  # fmt: skip
        """Code cells `c1`, `c2`, … with `sources`, each showing `outputs`."""
        cells = [
            {"id": f"c{n}", "cell_type": "code", "source": source, "outputs": list(outputs or [])}
            for n, source in enumerate(sources, 1)
        ]
        return cls(cells, list(run_outputs or []))

    def carry_out(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """The `agent_result` fields of an approved step."""
        if tool == "list_cells":
            return {"cells": [{"index": i, "id": c["id"], "cell_type": c["cell_type"],
                               "source": c["source"].partition("\n")[0]}
                              for i, c in enumerate(self.cells)]}  # fmt: skip
        if tool == "insert_cell":
            new = {"id": next(self.ids), "cell_type": args.get("cell_type", "code"),
                   "source": args["source"], "outputs": []}  # fmt: skip
            self.cells.insert(min(args["index"], len(self.cells)), new)
            return {"cell_id": new["id"]}
        cell = next((c for c in self.cells if c["id"] == args["cell_id"]), None)
        if cell is None:
            return {"status": "refused", "message": f"there is no cell {args['cell_id']}"}
        if tool == "delete_cell":
            self.cells.remove(cell)
        elif tool == "edit_cell":
            cell["source"] = args["source"]
        elif tool == "run_cell":
            cell["outputs"] = list(self.run_outputs)
        return {"cell_id": cell["id"], "source": cell["source"], "outputs": cell["outputs"]}
