"""`%%kimi --agent`: agent mode in a cell. Kimi gets one tool, `run_code`, and each call runs
in the kernel, in the notebook's namespace, after the user approves it in the cell's output
(Run / Skip / Edit), or at once when the cell said `--auto`.

The answer runs on `AnswerRun`'s worker thread like every other; the code never does: the
tool hands it to the thread that follows the run (`AnswerRun.on_main`, the kernel's main
thread, where the magic waits) and waits for its outputs. They come back as nbformat output
dicts (what a cell would have shown: streams, the last expression's value, displays, open
matplotlib figures as PNGs, an error with its traceback), go to the views (`ToolOutputs`)
and to the model through the agent's converters (`outputs.output_parts`, marked untrusted).
The turn keeps its steps as the panel agent does (`turn.meta["agent"]`, surface "cell").

```python
agent = CellAgent(chat, "Plot @df and make the labels readable", shell=shell, auto=False)
ended = agent.run.follow(view.add)     # the views answer approvals through agent.run
ended.turn.meta["agent"]["steps"]      # [{"step": 1, "tool": "run_code", "status": …}, …]
```
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Literal

from kimi_jupyter._schema import FunctionSchema
from kimi_jupyter.chat import Chat
from kimi_jupyter.context import Limits
from kimi_jupyter.context._common import truncate
from kimi_jupyter.conversation import Part, TextPart
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import ToolCall
from kimi_jupyter.options import AskOptions
from kimi_jupyter.run import AnswerRun, RunEnded, RunStoppedError, ToolOutputs
from kimi_jupyter.tools import Edited, Tool, ToolReply, calling

from .executor import Execution, execute
from .loop import file_steps
from .modes import DEFAULT_CAP, StepBudget
from .outputs import UNTRUSTED, default_limits, merged, output_parts
from .steps import TOOL_STATUS, StepRecord, StepStatus

__all__ = ["RUN_CODE", "CellAgent", "preview", "run_code_schema"]

RUN_CODE = "run_code"
CODE_DESCRIPTION = (
    "Python code to run in the user's kernel, in the notebook's namespace; returns printed "
    "output, the value of the last expression, errors with traceback, and figures as images"
)
_TOOL_DESCRIPTION = (
    "Run Python code in the user's Jupyter kernel and get back what it printed and showed. "
    "The user approves each run first (or skips it, or edits the code) unless they chose "
    "auto; variables persist between runs."
)
_STOPPED = "the user stopped the answer"


def run_code_schema() -> FunctionSchema:
    """The one tool of a cell agent, as the model sees it."""
    code = {"type": "string", "description": CODE_DESCRIPTION}
    parameters = {"type": "object", "properties": {"code": code}, "required": ["code"],
                  "additionalProperties": False}  # fmt: skip
    return FunctionSchema(RUN_CODE, _TOOL_DESCRIPTION, parameters)


def agent_options(chat: Chat, options: AskOptions, run_code: Tool, cap: int) -> AskOptions:
    """`options` as a cell agent turn sends them: the cell's `--tools` and `run_code`, and
    room for `cap` runs, the refusal of one more and the answer after it."""
    offered = [t for t in chat.context.tools.resolve(options.tools) if t.name != RUN_CODE]
    return replace(options, tools=[*offered, run_code], max_steps=cap + 2)


def previewed_tool() -> Tool:
    """`run_code` as `--dry-run` shows it: the schema the model would get; it never runs."""

    def run_code(code: str) -> ToolReply:
        raise KimiError("a dry run runs nothing")

    return Tool(run_code, run_code_schema())


class CellAgent:
    """One `%%kimi --agent` turn: `prompt` answered with `run_code` (and the cell's own
    `--tools`), each run approved unless `auto`, at most `cap` runs; the code runs in
    `shell`'s namespace on the thread that follows `self.run`."""

    def __init__(
        self,
        chat: Chat,
        prompt: str,
        *objects: Part | str,
        shell: Any,
        auto: bool = False,
        cap: int = DEFAULT_CAP,
        session: str | None = None,
        cell_id: str | None = None,
        options: AskOptions | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.chat, self.shell = chat, shell
        self.mode: Literal["ask", "auto"] = "auto" if auto else "ask"
        self.budget = StepBudget(cap)
        self.limits = limits or default_limits()
        self.steps: list[StepRecord] = []
        self.outputs: dict[str, tuple[dict[str, Any], ...]] = {}  # by call id, for the views
        ours = agent_options(chat, options or AskOptions(), self.tool(), self.budget.cap)
        self.run = AnswerRun(chat, prompt, *objects, session=session, cell_id=cell_id,
                             options=ours)  # fmt: skip
        self.run.finisher = self._recorded

    def tool(self) -> Tool:
        """`run_code`, bound to this turn (its approval is asked inside, after the cap)."""

        def run_code(code: str) -> ToolReply:
            return self._run_code(code)

        return Tool(run_code, run_code_schema())

    def _run_code(self, code: str) -> ToolReply:
        """One `run_code` call, on the run's worker thread."""
        call = calling() or ToolCall(f"run_code-{len(self.steps)}", RUN_CODE,
                                     json.dumps({"code": code}, ensure_ascii=False))  # fmt: skip
        number = len(self.steps) + 1
        if not self.budget.take():
            refusal = self.budget.refusal("code runs")
            self.steps.append(StepRecord(number, RUN_CODE, {"code": code}, "refused",
                                         message="the step cap"))  # fmt: skip
            return ToolReply((TextPart(refusal),), "refused", refusal)
        edited = False
        if self.mode == "ask":
            verdict = self.run.approvals.ask(call)
            if isinstance(verdict, Edited):
                new = verdict.arguments.get("code")
                if isinstance(new, str) and new != code:
                    code, edited = new, True
            elif verdict is not True:
                status: StepStatus = "stopped" if verdict == _STOPPED else "skipped"
                why = "" if verdict is False else str(verdict)
                return self._settled(number, code, status, Execution(), why)
        try:
            execution = self.run.on_main(lambda: execute(self.shell, code, number))
        except RunStoppedError:
            return self._settled(number, code, "stopped", Execution(), _STOPPED)
        except KeyboardInterrupt:  # Ctrl-C outside the code itself: the run is stopped
            return self._settled(number, code, "stopped", Execution(), "interrupted")
        self.outputs[call.id] = execution.outputs
        self.run.report(ToolOutputs(call, code, execution.outputs))
        if execution.interrupted:
            self.run.stop()
            return self._settled(number, code, "stopped", execution, "interrupted")
        if execution.error is not None:
            return self._settled(number, code, "failed", execution, execution.error, edited)
        return self._settled(number, code, "edited_and_done" if edited else "done", execution)

    def _settled(self, number: int, code: str, status: StepStatus, execution: Execution,
                 message: str = "", edited: bool = False) -> ToolReply:  # fmt: skip
        self.steps.append(StepRecord(number, RUN_CODE, {"code": code}, status, None, message))
        edited = edited or status == "edited_and_done"
        head = _status_line(status, message, truncate(code, self.limits.max_text_chars), edited)
        parts: list[Part] = [TextPart(head)]
        if execution.outputs:
            body = output_parts(execution.outputs, self.limits)
            parts = [TextPart(f"{head}\n{UNTRUSTED}"), *body]
        elif status in ("done", "edited_and_done", "failed"):
            parts = [TextPart(f"{head}\n[no outputs]")]
        ran = json.dumps({"code": code}, ensure_ascii=False)
        return ToolReply(tuple(merged(parts)), TOOL_STATUS[status],
                         preview(status, execution, message), ran)  # fmt: skip

    def _recorded(self, ended: RunEnded) -> RunEnded:
        """The step records, filed with the turn (in the session too) before the end shows."""
        agent = {"mode": self.mode, "surface": "cell", "cap": self.budget.cap,
                 "steps": [record.to_json() for record in self.steps]}  # fmt: skip
        return file_steps(self.run, ended, agent)


def _status_line(status: StepStatus, message: str, code: str, edited: bool) -> str:
    """Our words only: an error's text comes after the untrusted preface, its name here."""
    note = f" ({message})" if message else ""
    if status == "skipped":
        return f"skipped: the user did not approve running that code; nothing ran{note}."
    if status == "stopped":
        return f"stopped: the user stopped the agent{note}. Do not continue."
    name = message.partition(":")[0]
    line = "done: your code ran." if status != "failed" else f"failed: your code raised {name}."
    if edited:
        line += f" The user edited your code before approving it; this code was run:\n{code}"
    return line


def preview(status: StepStatus, execution: Execution, message: str = "") -> str:
    """What people read of a step in its panel: the outputs as plain text."""
    lines: list[str] = []
    for output in execution.outputs:
        kind = output.get("output_type")
        if kind == "stream":
            lines.append(str(output.get("text", "")).rstrip("\n"))
        elif kind == "error":
            lines.append(f"{output.get('ename')}: {output.get('evalue')}")
        else:
            data = output.get("data") or {}
            text = data.get("text/plain")
            image = any(k.startswith("image/") for k in data)
            if isinstance(text, str) and not image:
                lines.append(text)
            elif image:
                lines.append("[image]")
    if not lines and status in ("skipped", "stopped"):
        lines.append(f"{status}{': ' + message if message else ''}")
    return "\n".join(lines)
