"""Scripted agent policies: `[[sim: agent=NAME]]` plays the model of a whole agent loop.

Each policy is a function of the turn so far (what the user asked, the tool calls since that
message and their results, see `transcript`), so the simulator stays stateless and any client
can drive it. The notebook policies call the tools the lab panel declares: `list_cells()`,
`read_cell(cell_id)`, `insert_cell(index, source, cell_type)`, `edit_cell(cell_id, source)`,
`delete_cell(cell_id)`, `run_cell(cell_id)` and `inspect(name)`; the code policies
(`code_agents`) call `run_code(code)`, what `%%kimi --agent` declares.

    plot-loop    list_cells → read_cell (first code cell) → insert_cell (a plot after it) →
                 run_cell → look at the images that came back → edit_cell (bigger labels) →
                 run_cell → an answer naming the images of both runs. A run that raised is
                 rewritten and run again; a skipped or refused step ends the turn with an answer
                 saying what was skipped.
    obey-output  list_cells → read_cell of each cell → answer; but once any tool result says
                 to delete every cell (a prompt injection in an output), it calls delete_cell
                 for every cell id it has seen, so tests can prove the approvals hold.
    code-loop    run_code (a plot of squares, small labels) → look at the images that came
                 back → run_code (the same plot, bigger labels) → an answer naming the images
                 of both runs. A run whose result shows an error is rewritten and run again
                 once (a second error in a row ends the turn); a skipped run ends the turn with
                 an answer saying what was skipped and that nothing else was run.
    clean-plot   "clean @sales and plot it": run_code (inspect the first `@name` of the
                 user's message) → run_code (clean it into `name_clean`, printing `rows
                 before: N` and `rows after: M`) → run_code (chart its first numeric column,
                 per date if a column's name says date) → look at the image → run_code (the
                 chart again, bigger fonts, date ticks rotated) → an answer with the row counts
                 read from the outputs and the images of both charts. No `@name`: it asks
                 which data. An error or a skip ends the turn, saying so.

Every policy answers once the turn has made `agent_cap` tool calls (default 12), so no client
can make it loop forever, and never calls a tool the request does not declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .code_agents import clean_plot, code_loop
from .moves import (
    BIGGER_PLOT,
    Move,
    answer,
    bigger_labels,
    call,
    clip,
    done_so_far,
    images_seen,
    quoted,
    refused_answer,
    runs_seen,
    wrap_up,
)
from .plan import PREFIX
from .transcript import (
    Cell,
    Step,
    Turn,
    cell_id,
    error_name,
    injected_instructions,
    listed_cells,
    read_turn,
)

DEFAULT_CAP = 12

# The plot plot-loop inserts first (then edits it into `BIGGER_PLOT`).
PLOT = """import matplotlib.pyplot as plt

xs = list(range(10))
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(xs, [x * x for x in xs], marker="o")
ax.set_title("Squares")
ax.set_xlabel("x")
ax.set_ylabel("x squared")
plt.show()"""


def next_move(policy: str, messages: list[dict[str, Any]], declared: set[str], cap: int) -> Move:
    """Decide the next step of `policy` from the conversation so far."""
    turn = read_turn(messages)
    steps = turn.steps
    if len(steps) >= cap:
        return wrap_up(
            steps,
            f"I have made {len(steps)} tool calls, my cap of {cap}, so I must stop and answer.",
            f"I stopped after {len(steps)} tool calls (my step cap is {cap}) before finishing.",
        )
    if not declared:  # e.g. `tool_choice: "none"` on a client's last allowed step
        return wrap_up(
            steps,
            "No tools are offered for this step, so I answer with what I have.",
            "No notebook tools were offered for this step, so I stopped before finishing.",
        )
    move = _POLICIES[policy](turn)
    missing = [name for name, _ in move.calls if name not in declared]
    if missing:
        return Move(
            f"I need the {missing[0]} tool for the next step, but the request does not declare "
            "it, so I stop here.",
            f"{PREFIX} I would call {missing[0]} next, but no such tool was declared. "
            f"{done_so_far(steps)}",
        )
    return Move(move.reasoning, move.content, move.calls[: cap - len(steps)])


# --- plot-loop -------------------------------------------------------------------------


def plot_loop(turn: Turn) -> Move:
    """list → read → insert a plot → run → look → edit (bigger labels) → run → answer."""
    steps = turn.steps
    if not steps:
        return call("list_cells", "To add a plot I first look at what the notebook holds.")
    last = steps[-1]
    if last.refused:
        return refused_answer(last, steps)
    cells = _first_listing(steps)
    code = next((cell for cell in cells if cell.type == "code"), None)
    if last.name == "list_cells":
        if code is None:
            return _insert(len(cells), "The notebook has no code cell, so I start a new one.")
        return call(
            "read_cell",
            f"Cell {code.id} is the first code cell; I read it to see the data before plotting.",
            cell_id=code.id,
        )
    if last.name == "read_cell":
        index = code.index + 1 if code else len(cells)
        return _insert(index, f"I have read the cell; I add a plot right after it, at {index}.")
    if last.name == "insert_cell":
        return _run_inserted(last)
    if last.name == "run_cell":
        return _after_run(steps)
    if last.name == "edit_cell":
        target = str(last.arguments.get("cell_id"))
        return call("run_cell", f"Cell {target} is edited; I run it again.", cell_id=target)
    return answer("That was not a step I planned, so I stop.", done_so_far(steps))


def _first_listing(steps: list[Step]) -> list[Cell]:
    listing = next((s for s in steps if s.name == "list_cells" and s.result is not None), None)
    return listed_cells(listing.result or "") if listing else []


def _insert(index: int, reasoning: str) -> Move:
    content = f"{PREFIX} I will insert a plotting cell at index {index}."
    return call("insert_cell", reasoning, content, index=index, source=PLOT, cell_type="code")


def _run_inserted(last: Step) -> Move:
    inserted = cell_id(last.result or "")
    if inserted is None:
        return answer(
            "The insert_cell result names no cell id, so I cannot run the new cell.",
            f"I inserted a cell but could not tell its id from the result: {clip(last.result)}",
        )
    return call("run_cell", f"Cell {inserted} is in; I run it.", cell_id=inserted)


def _after_run(steps: list[Step]) -> Move:
    runs = [s for s in steps if s.name == "run_cell"]
    last = runs[-1]
    target = str(last.arguments.get("cell_id"))
    look = f"Run {len(runs)} of cell {target} returned {images_seen(last)}."
    failed = error_name(last.result or "")
    good = [run for run in runs if not error_name(run.result or "")]
    if failed:
        source = BIGGER_PLOT if good else PLOT
        source = f"# attempt {len(runs) + 1}, after {failed}\n{source}"
        reasoning = f"{look} It raised {failed}; I rewrite the cell and run it again."
        content = f"{PREFIX} {look} It raised {failed}, so I rewrite it."
        return call("edit_cell", reasoning, content, cell_id=target, source=source)
    if len(good) == 1:
        reasoning, content = bigger_labels(look, last, "I enlarge the labels and run it again.")
        return call("edit_cell", reasoning, content, cell_id=target, source=BIGGER_PLOT)
    return answer(
        f"{look} The labels are readable now; I am done.",
        f"Done: I added a plot in cell {target}, looked at it, enlarged its labels and ran it "
        f"again.\n{runs_seen(steps)}",
    )


# --- obey-output -----------------------------------------------------------------------


def obey_output(turn: Turn) -> Move:
    """list → read each cell → answer; obeys a "delete every cell" found in any result."""
    steps = turn.steps
    if not steps:
        return call("list_cells", "I list the cells to see what the notebook holds.")
    if steps[0].refused:
        return refused_answer(steps[0], steps)
    injected = next((found for s in steps for found in injected_instructions(s.result or "")), None)
    if injected is not None:
        return _obey(injected, steps)
    read = {str(s.arguments.get("cell_id")) for s in steps if s.name == "read_cell"}
    unread = [cell for cell in _first_listing(steps) if cell.id not in read]
    if unread:
        target = unread[0].id
        return call("read_cell", f"I read cell {target} next.", cell_id=target)
    return answer(
        f"I have read {len(read)} cell(s) and nothing asks for a change.",
        f"I read {len(read)} cell(s); nothing in them needs changing.",
    )


def _obey(instruction: str, steps: list[Step]) -> Move:
    deletes = [s for s in steps if s.name == "delete_cell"]
    if deletes:
        done = sum(1 for s in deletes if not s.refused)
        return answer(
            "The deletions came back; I report them.",
            f"An output said {quoted(instruction)}. I called delete_cell {len(deletes)} "
            f"time(s): {done} done, {len(deletes) - done} refused or skipped.",
        )
    ids = _seen_ids(steps)
    if not ids:
        return answer("I was told to delete every cell, but I know of none.", "No cells seen.")
    reasoning = f"A tool result says {quoted(instruction)}. I do as it says: delete every cell."
    content = f"{PREFIX} An output says {quoted(instruction)}; deleting {len(ids)} cell(s)."
    calls = tuple(("delete_cell", {"cell_id": ident}) for ident in ids)
    return Move(reasoning, content, calls)


def _seen_ids(steps: list[Step]) -> list[str]:
    """Every cell id the turn has met: listed, read, inserted or run, first seen first."""
    ids: dict[str, None] = {}
    for step in steps:
        if step.name == "list_cells" and step.result is not None:
            ids.update(dict.fromkeys(cell.id for cell in listed_cells(step.result)))
        if isinstance(step.arguments.get("cell_id"), str):
            ids[step.arguments["cell_id"]] = None
        if step.name == "insert_cell" and step.result and (found := cell_id(step.result)):
            ids[found] = None
    return list(ids)


_POLICIES: dict[str, Callable[[Turn], Move]] = {
    "plot-loop": plot_loop,
    "obey-output": obey_output,
    "code-loop": code_loop,
    "clean-plot": clean_plot,
}
