"""How much the agent may do unasked: the approval mode of a session, and the step cap.

| mode             | asks before                                     |
|------------------|-------------------------------------------------|
| `ask` (default)  | every change: insert, edit, delete, run         |
| `ask_run_delete` | running or deleting a cell                      |
| `auto`           | nothing (chosen explicitly, per session)        |

Reading (`list_cells`, `read_cell`, `inspect`) never asks. The mode only says whether the
frontend must show an approval card; the approval itself is the frontend's alone.
"""

from __future__ import annotations

import enum
import threading

from kimi_jupyter.errors import KimiError

__all__ = ["DEFAULT_CAP", "MAX_CAP", "READS", "Mode", "StepBudget", "needs_approval"]

DEFAULT_CAP = 20
MAX_CAP = 100  # the panel offers 1..MAX_CAP; more is a runaway turn, not a setting
READS = frozenset({"list_cells", "read_cell", "inspect"})
_RISKY = frozenset({"run_cell", "delete_cell"})
_CHANGES = frozenset({"insert_cell", "edit_cell", "delete_cell", "run_cell"})


class Mode(str, enum.Enum):
    """A session's approval mode (the value is what the panel and the records say)."""

    ASK = "ask"
    ASK_RUN_DELETE = "ask_run_delete"
    AUTO = "auto"

    @classmethod
    def of(cls, value: str | Mode) -> Mode:
        """The mode named `value`; a `KimiError` naming the choices for anything else."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(mode.value for mode in cls)
            raise KimiError(f"no agent mode {value!r}; the modes are: {names}") from None


def needs_approval(tool: str, mode: Mode) -> bool:
    """Whether the user must approve a call of `tool` before the frontend carries it out.

    A name this module does not know (a new tool nobody classified) asks, except in `auto`.
    """
    if tool in READS or mode is Mode.AUTO:
        return False
    if mode is Mode.ASK_RUN_DELETE:
        return tool not in _CHANGES - _RISKY
    return True


class StepBudget:
    """The step cap of one turn: `cap` notebook actions (1 to MAX_CAP, the panel's range),
    then every further one is refused with a reason the model reads (it then has to answer
    with what it has)."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise KimiError(f"the step cap must be a positive whole number, not {cap!r}")
        if cap > MAX_CAP:
            raise KimiError(f"the step cap is at most {MAX_CAP}, not {cap}")
        self.cap = cap
        self.used = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        return max(0, self.cap - self.used)

    def take(self) -> bool:
        """Count one more action; False (and nothing counted) once the cap is reached."""
        with self._lock:
            if self.used >= self.cap:
                return False
            self.used += 1
            return True

    def refusal(self, actions: str = "notebook actions") -> str:
        """What the model is told when `take` said no (`actions`: what the cap counts)."""
        return (
            f"refused: this turn has used all {self.cap} of its {actions} (the step "
            "cap), so nothing was done. Do not call notebook tools again in this turn: answer "
            "the user now with what you found, and say what is left to do."
        )
