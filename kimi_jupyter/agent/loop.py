"""`NotebookAgent`: one agent turn, driven by the kernel's one run controller.

The notebook tools are ordinary `Tool`s whose functions reach the frontend, offered beside
the kernel's `@tool` functions to the same `Chat`, session and `ChatStream` tool loop
(thinking replayed across steps by the wire rules). So Stop, retries, the events and the
final `RunEnded` are `AnswerRun`'s; this module adds the step cap, the approval mode, the
previews and the step records. A run the user interrupts (the cell ends in KeyboardInterrupt)
ends the turn as Stop does.

```python
agent = NotebookAgent(chat, "Plot @df's revenue by month", frontend=link, mode=Mode.ASK)
ended = agent.follow(view.add)        # or agent.start(listener); agent.stop() from anywhere
ended.turn.meta["agent"]["steps"]     # [{"step": 1, "tool": "insert_cell", "status": …}, …]
```
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, cast

from kimi_jupyter.chat import Chat
from kimi_jupyter.context import Limits
from kimi_jupyter.conversation import Part, TextPart, with_meta
from kimi_jupyter.options import AskOptions
from kimi_jupyter.protocol import AgentPreview, FrontendTool
from kimi_jupyter.run import AnswerRun, Listener, RunEnded
from kimi_jupyter.tools import Tool, ToolReply

from .modes import Mode, StepBudget, needs_approval
from .notebook_tools import (
    NOTEBOOK_TOOLS,
    NotebookFrontend,
    Releasable,
    inspect_value,
    notebook_schemas,
)
from .outputs import default_limits, result_parts
from .steps import TOOL_STATUS, AgentStep, StepRecord, StepResult, StepStatus

__all__ = ["NotebookAgent"]

_KEEPS_SOURCE = ("read_cell", "insert_cell", "edit_cell")
INTERRUPTED = "the kernel was interrupted"


class NotebookAgent:
    """One turn of agent mode: `prompt` answered with the notebook tools, each action
    carried out by `frontend` after the approval `mode` asks for, at most `budget.cap`
    actions. `namespace` is where `inspect` looks (the kernel's user namespace)."""

    def __init__(
        self,
        chat: Chat,
        prompt: str,
        *objects: Part | str,
        frontend: NotebookFrontend,
        mode: Mode | str = Mode.ASK,
        budget: StepBudget | None = None,
        namespace: Mapping[str, Any] | None = None,
        session: str | None = None,
        options: AskOptions | None = None,
        turn_id: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.chat, self.frontend, self.mode = chat, frontend, Mode.of(mode)
        self.budget = budget or StepBudget()
        self.namespace: Mapping[str, Any] = namespace if namespace is not None else {}
        self.turn_id = turn_id or uuid.uuid4().hex[:12]
        self.limits = limits or default_limits()
        self.steps: list[StepRecord] = []
        self._sources: dict[str, str] = {}  # cell id → source, as this turn last saw it
        # The user's @tools first, so a notebook tool of the same name wins.
        tools = [*chat.context.tools.all(), *self.tools()]
        # Room for every action, the refusal of one more, and the answer after it.
        ours = AskOptions(tools=tools, max_steps=self.budget.cap + 2)
        self.run = AnswerRun(chat, prompt, *objects, session=session,
                             options=ours.over(options or AskOptions()))  # fmt: skip
        self.run.finisher = self._recorded

    def tools(self) -> list[Tool]:
        """The notebook tools, bound to this turn."""
        return [
            Tool(_bound(name, NOTEBOOK_TOOLS[name], self._act), schema)
            for name, schema in notebook_schemas().items()
        ]

    def start(self, *listeners: Listener) -> NotebookAgent:
        """Run on the run's worker thread; `listeners` hear every event there."""
        self.run.start(*listeners)
        return self

    def follow(self, *listeners: Listener) -> RunEnded:
        """Run, handing the events to `listeners` on this thread until the end."""
        return self.run.follow(*listeners)

    def stop(self) -> None:
        """End the turn where it is (from any thread): the step that waits ends stopped."""
        self.run.stop()
        if isinstance(self.frontend, Releasable):
            self.frontend.release()

    def _act(self, tool: str, args: dict[str, Any]) -> ToolReply:
        """One notebook tool call, on the run's worker thread."""
        number = len(self.steps) + 1
        if not self.budget.take():
            refusal = self.budget.refusal()
            self.steps.append(StepRecord(number, tool, args, "refused", message="the step cap"))
            return ToolReply((TextPart(refusal),), "refused", refusal)
        if tool == "inspect":
            return self._inspect(number, args)
        step = AgentStep(self.turn_id, number, cast(FrontendTool, tool), args,
                         self._preview(tool, args), needs_approval(tool, self.mode))  # fmt: skip
        result = _interrupted(step, self.frontend.perform(step))
        self._remember(step, result)
        self.steps.append(StepRecord.of(number, tool, args, result))
        if result.status == "stopped":
            self.stop()
        parts = result_parts(step, result, self.limits)
        return ToolReply(tuple(parts), TOOL_STATUS[result.status], _first_line(parts))

    def _inspect(self, number: int, args: Mapping[str, Any]) -> ToolReply:
        context = self.chat.context
        found, parts = inspect_value(str(args["name"]), self.namespace,
                                     providers=context.providers,
                                     converters=context.converters, limits=self.limits)  # fmt: skip
        status: StepStatus = "done" if found else "failed"
        self.steps.append(StepRecord(number, "inspect", dict(args), status))
        return ToolReply(tuple(parts), TOOL_STATUS[status], _first_line(parts))

    def _preview(self, tool: str, args: Mapping[str, Any]) -> AgentPreview:
        """What the approval card shows, as far as this turn knows it."""
        if tool == "insert_cell":
            return {"index": args["index"], "cell_type": args.get("cell_type", "code"),
                    "source": args["source"]}  # fmt: skip
        preview: AgentPreview = {}
        cell = args.get("cell_id")
        if not isinstance(cell, str):
            return preview
        preview["cell_id"] = cell
        known = self._sources.get(cell)
        if tool == "edit_cell":
            preview["new_source"] = args["source"]
            if known is not None:
                preview["old_source"] = known
        elif known is not None:
            preview["source"] = known
        return preview

    def _remember(self, step: AgentStep, result: StepResult) -> None:
        if result.status not in ("done", "edited_and_done"):
            return
        cell = result.cell_id or step.args.get("cell_id")
        if not isinstance(cell, str):
            return
        if step.tool == "delete_cell":
            self._sources.pop(cell, None)
        elif step.tool in _KEEPS_SOURCE:
            source = result.source if result.source is not None else step.args.get("source")
            if isinstance(source, str):
                self._sources[cell] = source

    def _recorded(self, ended: RunEnded) -> RunEnded:
        """The step records, filed with the turn before the end shows (`AnswerRun.finisher`)."""
        agent = {
            "id": self.turn_id,
            "mode": self.mode.value,
            "cap": self.budget.cap,
            "steps": [record.to_json() for record in self.steps],
        }
        return file_steps(self.run, ended, agent)


def file_steps(run: AnswerRun, ended: RunEnded, agent: dict[str, Any]) -> RunEnded:
    """`agent` (a turn's step records) filed with the ended turn, and in its session too
    when the turn was recorded there."""
    turn = None
    if ended.recorded:
        turn = run.chat.sessions.get(run.session).annotate(ended.turn.id, agent=agent)
    return replace(ended, turn=turn or with_meta(ended.turn, agent=agent))


def _bound(
    name: str, signature: Callable[..., None], act: Callable[[str, dict[str, Any]], ToolReply]
) -> Callable[..., ToolReply]:
    """A function with `signature`'s parameters and annotations (which the argument checks
    read) that hands its arguments, defaults filled in, to `act(name, arguments)`."""
    parameters = inspect.signature(signature)

    @functools.wraps(signature)
    def call(*args: Any, **kwargs: Any) -> ToolReply:
        bound = parameters.bind(*args, **kwargs)
        bound.apply_defaults()
        return act(name, dict(bound.arguments))

    return call


def _interrupted(step: AgentStep, result: StepResult) -> StepResult:
    """A run the user interrupted (the kernel's ■: the cell raised KeyboardInterrupt) ends
    the turn as Stop does: the user wants the kernel back, not the model's next try."""
    if step.tool != "run_cell" or result.status not in ("done", "edited_and_done"):
        return result
    if any(output.get("ename") == "KeyboardInterrupt" for output in result.outputs):
        return replace(result, status="stopped", message=INTERRUPTED)
    return result


def _first_line(parts: list[Part]) -> str:
    first = parts[0] if parts else None
    return first.text.partition("\n")[0] if isinstance(first, TextPart) else ""
