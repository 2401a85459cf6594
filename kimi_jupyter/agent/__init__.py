"""Agent mode, the kernel's side (DESIGN §5): Kimi reads, writes and runs cells.

The loop belongs to the kernel, the document to the frontend. `NotebookAgent` offers the
notebook tools (`notebook_tools`) to the same `Chat` tool loop and run controller as every
other answer; each change goes to a `NotebookFrontend` as an `AgentStep`, which the user
approves there (or not) as the session's `Mode` asks, within a `StepBudget`; the
`StepResult` comes back to the model as content parts (`outputs`), figures as images, all
of it marked as untrusted data. `CommLink` is the frontend over the chat comm. `CellAgent`
is `%%kimi --agent`: one tool, `run_code`, run on the kernel's main thread (`executor`). UI-free.
"""

from __future__ import annotations

from .cell import RUN_CODE, CellAgent
from .link import CommLink
from .loop import NotebookAgent
from .modes import DEFAULT_CAP, Mode, StepBudget, needs_approval
from .notebook_tools import NOTEBOOK_TOOLS, NotebookFrontend, notebook_schemas
from .outputs import result_parts
from .steps import AgentStep, StepRecord, StepResult

__all__ = [
    "DEFAULT_CAP",
    "NOTEBOOK_TOOLS",
    "RUN_CODE",
    "AgentStep",
    "CellAgent",
    "CommLink",
    "Mode",
    "NotebookAgent",
    "NotebookFrontend",
    "StepBudget",
    "StepRecord",
    "StepResult",
    "needs_approval",
    "notebook_schemas",
    "result_parts",
]
