"""One agent step: what the kernel proposes (`AgentStep`), how the frontend settled it
(`StepResult`), and what the turn keeps of it (`StepRecord`, for `%kimi history`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from kimi_jupyter._record import Record
from kimi_jupyter.events import ToolStatus
from kimi_jupyter.protocol import (
    AgentPreview,
    AgentProposeMessage,
    AgentResultRequest,
    AgentStatus,
    FrontendTool,
)

__all__ = ["FRONTEND_TOOLS", "AgentStep", "StepRecord", "StepResult", "StepStatus"]

StepStatus = AgentStatus
"""done; skipped (the user said no); edited_and_done (the user changed the code, then
approved); failed (it was tried and went wrong); stopped (the user stopped the turn);
refused (not attempted: the step cap, an unknown cell, a read-only document)."""
_STATUSES: tuple[StepStatus, ...] = get_args(AgentStatus)
FRONTEND_TOOLS: tuple[FrontendTool, ...] = get_args(FrontendTool)

# How a step is filed among the turn's tool results (`ToolResult.status`).
TOOL_STATUS: Mapping[StepStatus, ToolStatus] = {
    "done": "ok",
    "edited_and_done": "ok",
    "skipped": "skipped",
    "failed": "error",
    "stopped": "not run",
    "refused": "refused",
}


@dataclass(frozen=True)
class AgentStep:
    """A notebook action the model asked for, as the frontend receives it.

    `turn_id` names the agent turn, `step` counts its actions from 1. `needs_approval`
    comes from the session's mode, never from the model: the arguments are checked against
    the tool's schema, which has no such field.
    """

    turn_id: str
    step: int
    tool: FrontendTool
    args: Mapping[str, Any]
    preview: AgentPreview
    needs_approval: bool

    def to_message(self) -> AgentProposeMessage:
        """The `agent_propose` comm message."""
        return {
            "type": "agent_propose",
            "id": self.turn_id,
            "step": self.step,
            "tool": self.tool,
            "args": dict(self.args),
            "preview": self.preview,
            "needs_approval": self.needs_approval,
        }


@dataclass(frozen=True)
class StepResult:
    """How the frontend settled one step.

    `outputs`: nbformat output dicts (after `run_cell`, `read_cell`); `source`: the source
    actually used (edit-then-approve) or read; `cell_id`: the cell inserted or acted on;
    `cells`: `list_cells` summaries; `message`: one line on why it failed or was refused.
    """

    status: StepStatus
    outputs: tuple[Mapping[str, Any], ...] = ()
    source: str | None = None
    cell_id: str | None = None
    cells: tuple[Mapping[str, Any], ...] = ()
    message: str = ""

    @classmethod
    def from_message(cls, message: AgentResultRequest) -> StepResult:
        """From an `agent_result` the protocol has already checked."""
        return cls(
            status=message["status"],
            outputs=tuple(message.get("outputs", ())),
            source=message.get("source"),
            cell_id=message.get("cell_id"),
            cells=tuple(message.get("cells", ())),
            message=message.get("message", ""),
        )


@dataclass(frozen=True)
class StepRecord:
    """What the turn keeps of a step (`turn.meta["agent"]["steps"]`): which cells were
    changed, what ran, what was skipped. No outputs, no media."""

    step: int
    tool: str
    args: Mapping[str, Any]
    status: StepStatus
    cell_id: str | None = None
    message: str = ""

    @classmethod
    def of(cls, step: int, tool: str, args: Mapping[str, Any], result: StepResult) -> StepRecord:
        cell = result.cell_id or args.get("cell_id")
        return cls(step, tool, dict(args), result.status, cell if isinstance(cell, str) else None,
                   result.message)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tool": self.tool,
            "args": dict(self.args),
            "status": self.status,
            "cell_id": self.cell_id,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: object) -> StepRecord:
        """The inverse of `to_json`."""
        record = Record.of(data, "agent step")
        return cls(
            record.integer("step"),
            record.text("tool"),
            record.mapping("args"),
            cast(StepStatus, record.choice("status", _STATUSES)),
            record.optional_text("cell_id"),
            record.text("message"),
        )
