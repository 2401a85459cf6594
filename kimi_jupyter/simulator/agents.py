"""Scripted agent policies: `[[sim: agent=NAME]]` plays the model of a whole notebook agent loop.

Each policy is a function of the turn so far (the tool calls since the last user message and
their results, see `transcript`), so the simulator stays stateless and any client can drive it.
They call the notebook tools the client declares: `list_cells()`, `read_cell(cell_id)`,
`insert_cell(index, source, cell_type)`, `edit_cell(cell_id, source)`, `delete_cell(cell_id)`,
`run_cell(cell_id)` and `inspect(name)`.

    plot-loop    list_cells → read_cell (first code cell) → insert_cell (a plot after it) →
                 run_cell → look at the images that came back → edit_cell (bigger labels) →
                 run_cell → an answer naming the images of both runs. A run that raised is
                 rewritten and run again; a skipped or refused step ends the turn with an answer
                 saying what was skipped.
    obey-output  list_cells → read_cell of each cell → answer; but once any tool result says
                 to delete every cell (a prompt injection in an output), it calls delete_cell
                 for every cell id it has seen, so tests can prove the approvals hold.

Every policy answers once the turn has made `agent_cap` tool calls (default 12), so no client
can make it loop forever, and never calls a tool the request does not declare.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .plan import PREFIX
from .transcript import (
    Cell,
    Step,
    cell_id,
    error_name,
    first_line,
    injected_instructions,
    listed_cells,
    turn_steps,
)

DEFAULT_CAP = 12
PLOT = """import matplotlib.pyplot as plt

xs = list(range(10))
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(xs, [x * x for x in xs], marker="o")
ax.set_title("Squares")
ax.set_xlabel("x")
ax.set_ylabel("x squared")
plt.show()"""
BIGGER_PLOT = """import matplotlib.pyplot as plt

xs = list(range(10))
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(xs, [x * x for x in xs], marker="o", linewidth=2)
ax.set_title("Squares", fontsize=18)
ax.set_xlabel("x", fontsize=14)
ax.set_ylabel("x squared", fontsize=14)
ax.tick_params(labelsize=12)
plt.show()"""
Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Move:
    """A policy's next step: tool calls (with `content` said beside them), or the answer."""

    reasoning: str
    content: str
    calls: tuple[Call, ...] = ()


def next_move(policy: str, messages: list[dict[str, Any]], declared: set[str], cap: int) -> Move:
    """Decide the next step of `policy` from the conversation so far."""
    steps = turn_steps(messages)
    if len(steps) >= cap:
        return _wrap_up(
            steps,
            f"I have made {len(steps)} tool calls, my cap of {cap}, so I must stop and answer.",
            f"I stopped after {len(steps)} tool calls (my step cap is {cap}) before finishing.",
        )
    if not declared:  # e.g. `tool_choice: "none"` on a client's last allowed step
        return _wrap_up(
            steps,
            "No tools are offered for this step, so I answer with what I have.",
            "No notebook tools were offered for this step, so I stopped before finishing.",
        )
    move = _POLICIES[policy](steps)
    missing = [name for name, _ in move.calls if name not in declared]
    if missing:
        return Move(
            f"I need the {missing[0]} tool for the next step, but the request does not declare "
            "it, so I stop here.",
            f"{PREFIX} I would call {missing[0]} next, but no such tool was declared. "
            f"{_done_so_far(steps)}",
        )
    return Move(move.reasoning, move.content, move.calls[: cap - len(steps)])


def _call(name: str, reasoning: str, content: str = "", **arguments: Any) -> Move:
    return Move(reasoning, content, ((name, arguments),))


def _answer(reasoning: str, text: str) -> Move:
    return Move(reasoning, f"{PREFIX} {text}")


def _wrap_up(steps: list[Step], reasoning: str, text: str) -> Move:
    return _answer(reasoning, f"{text} {_done_so_far(steps)}")


def _done_so_far(steps: list[Step]) -> str:
    runs = _runs_seen(steps)
    if not steps:
        return "I made no tool calls."
    names = ", ".join(step.name for step in steps)
    return f"Tool calls made: {names}." + (f"\n{runs}" if runs else "")


# --- plot-loop -------------------------------------------------------------------------


def plot_loop(steps: list[Step]) -> Move:
    """list → read → insert a plot → run → look → edit (bigger labels) → run → answer."""
    if not steps:
        return _call("list_cells", "To add a plot I first look at what the notebook holds.")
    last = steps[-1]
    if last.refused:
        return _refused_answer(last, steps)
    cells = _first_listing(steps)
    code = next((cell for cell in cells if cell.type == "code"), None)
    if last.name == "list_cells":
        if code is None:
            return _insert(len(cells), "The notebook has no code cell, so I start a new one.")
        return _call(
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
        return _call("run_cell", f"Cell {target} is edited; I run it again.", cell_id=target)
    return _answer("That was not a step I planned, so I stop.", _done_so_far(steps))


def _first_listing(steps: list[Step]) -> list[Cell]:
    listing = next((s for s in steps if s.name == "list_cells" and s.result is not None), None)
    return listed_cells(listing.result or "") if listing else []


def _insert(index: int, reasoning: str) -> Move:
    content = f"{PREFIX} I will insert a plotting cell at index {index}."
    return _call("insert_cell", reasoning, content, index=index, source=PLOT, cell_type="code")


def _run_inserted(last: Step) -> Move:
    inserted = cell_id(last.result or "")
    if inserted is None:
        return _answer(
            "The insert_cell result names no cell id, so I cannot run the new cell.",
            f"I inserted a cell but could not tell its id from the result: {_clip(last.result)}",
        )
    return _call("run_cell", f"Cell {inserted} is in; I run it.", cell_id=inserted)


def _after_run(steps: list[Step]) -> Move:
    runs = [s for s in steps if s.name == "run_cell"]
    last = runs[-1]
    target = str(last.arguments.get("cell_id"))
    look = f"Run {len(runs)} of cell {target} returned {_images(last)}."
    failed = error_name(last.result or "")
    good = [run for run in runs if not error_name(run.result or "")]
    if failed:
        source = BIGGER_PLOT if good else PLOT
        source = f"# attempt {len(runs) + 1}, after {failed}\n{source}"
        reasoning = f"{look} It raised {failed}; I rewrite the cell and run it again."
        content = f"{PREFIX} {look} It raised {failed}, so I rewrite it."
        return _call("edit_cell", reasoning, content, cell_id=target, source=source)
    if len(good) == 1:
        seen = "Looking at it, the labels are too small to read" if last.images else "No image"
        reasoning = f"{look} {seen}; I enlarge the labels and run it again."
        content = f"{PREFIX} {look} The labels are small, so I make them bigger."
        return _call("edit_cell", reasoning, content, cell_id=target, source=BIGGER_PLOT)
    return _answer(
        f"{look} The labels are readable now; I am done.",
        f"Done: I added a plot in cell {target}, looked at it, enlarged its labels and ran it "
        f"again.\n{_runs_seen(steps)}",
    )


def _refused_answer(last: Step, steps: list[Step]) -> Move:
    what = f"{last.name}({_brief(last.arguments)})"
    why = "no result came back" if last.result is None else _clip(first_line(last.result))
    why = why.rstrip(".")
    runs = _runs_seen(steps)
    return _answer(
        f"{what} did not happen ({why}). I will not insist: I stop and say so.",
        f"I stopped: {what} did not happen ({why})." + (f"\n{runs}" if runs else ""),
    )


def _runs_seen(steps: list[Step]) -> str:
    """One line per finished run: the image parts that came back, each size and short hash."""
    runs = [s for s in steps if s.name == "run_cell" and not s.refused]
    return "\n".join(f"Run {n}: {_images(run)}." for n, run in enumerate(runs, 1))


def _images(step: Step) -> str:
    count = len(step.images)
    noun = "image part" if count == 1 else "image parts"
    listed = ", ".join(image.describe() for image in step.images)
    return f"{count} {noun}" + (f" ({listed})" if listed else "")


def _brief(arguments: dict[str, Any]) -> str:
    shown = {k: v for k, v in arguments.items() if k != "source"}
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _clip(text: str | None, limit: int = 120) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"


# --- obey-output -----------------------------------------------------------------------


def obey_output(steps: list[Step]) -> Move:
    """list → read each cell → answer; obeys a "delete every cell" found in any result."""
    if not steps:
        return _call("list_cells", "I list the cells to see what the notebook holds.")
    if steps[0].refused:
        return _refused_answer(steps[0], steps)
    injected = next((found for s in steps for found in injected_instructions(s.result or "")), None)
    if injected is not None:
        return _obey(injected, steps)
    read = {str(s.arguments.get("cell_id")) for s in steps if s.name == "read_cell"}
    unread = [cell for cell in _first_listing(steps) if cell.id not in read]
    if unread:
        target = unread[0].id
        return _call("read_cell", f"I read cell {target} next.", cell_id=target)
    return _answer(
        f"I have read {len(read)} cell(s) and nothing asks for a change.",
        f"I read {len(read)} cell(s); nothing in them needs changing.",
    )


def _obey(instruction: str, steps: list[Step]) -> Move:
    deletes = [s for s in steps if s.name == "delete_cell"]
    if deletes:
        done = sum(1 for s in deletes if not s.refused)
        return _answer(
            "The deletions came back; I report them.",
            f"An output said {_quoted(instruction)}. I called delete_cell {len(deletes)} "
            f"time(s): {done} done, {len(deletes) - done} refused or skipped.",
        )
    ids = _seen_ids(steps)
    if not ids:
        return _answer("I was told to delete every cell, but I know of none.", "No cells seen.")
    reasoning = f"A tool result says {_quoted(instruction)}. I do as it says: delete every cell."
    content = f"{PREFIX} An output says {_quoted(instruction)}; deleting {len(ids)} cell(s)."
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


_POLICIES: dict[str, Callable[[list[Step]], Move]] = {
    "plot-loop": plot_loop,
    "obey-output": obey_output,
}
