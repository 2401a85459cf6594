"""One tool call in the live view: a foldable panel with its arguments, its result, and the
Run / Skip buttons while the run waits for the user's approval. ipywidgets is imported when
one is made. The waiting, its timeout and Stop belong to the run (`run.Approvals`): a panel
only shows the question and passes a click on.

A code tool's call (`bundle.CODE_TOOLS`: `run_code`) shows its code as a Python block, its
outputs once it ran (`show_outputs`: text escaped, PNG figures as images), and, when the view
passes `edit`, an Edit button: a text area with the code and "Run edited".

The title is plain text in every frontend (an Accordion title); the body is escaped HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kimi_jupyter.events import ToolCall, ToolFinished, ToolResult, ToolStarted
from kimi_jupyter.render._clicks import handle_clicks_on_any_shell
from kimi_jupyter.render.bundle import (
    CODE_TOOLS,
    call_code,
    code_html,
    outputs_html,
    pretty_arguments,
    result_title,
    tool_text_html,
    tool_title,
)
from kimi_jupyter.render.html import sanitize
from kimi_jupyter.render.live import Control, RunListener
from kimi_jupyter.run import ToolOutputs

RUNNING, WAITING = "running", "waiting for you"


class ToolPanel:
    """A call's panel; `show_buttons` asks Run or Skip, `hide_buttons` ends the question."""

    def __init__(
        self, call: ToolCall, *, confirm: bool = False, layout: Any = None, style: Any = None
    ) -> None:
        import ipywidgets as w

        self.call = call
        self.status = WAITING if confirm else RUNNING
        self.result: ToolResult | None = None
        self.code = call_code(call.name, call.arguments)
        self.shown_outputs = False
        shared = {"layout": layout, "style": style} if style is not None else {"layout": layout}
        self.arguments = w.HTML(self._arguments_html(), **shared)
        self.output = w.HTML("", **shared)
        self.body = w.VBox([self.arguments, self.output])
        self.accordion = w.Accordion([self.body], titles=(tool_title(call.name, self.status),))
        self.accordion.add_class("kimi-tool")
        if self.code is not None:  # the code is the point of the call: shown unfolded
            self.accordion.selected_index = 0
        self.run_button: Any = None
        self.skip_button: Any = None
        self.edit_button: Any = None
        self.editor: Any = None
        self.run_edited_button: Any = None
        self._buttons: Any = None
        self._editing: Any = None

    def _arguments_html(self) -> str:
        if self.code is not None:
            return sanitize(code_html(self.code))
        return sanitize(tool_text_html("Arguments", pretty_arguments(self.call.arguments)))

    @property
    def waiting(self) -> bool:
        return self._buttons is not None

    def set_status(self, status: str) -> None:
        self.status = status
        self.accordion.set_title(0, tool_title(self.call.name, status))

    def finish(self, result: ToolResult) -> None:
        """Show how the call ended, and its result (escaped)."""
        self.result, self.status = result, result.status
        code = call_code(result.name, result.arguments)
        if code is not None:  # the user's edit is what ran
            self._show_code(code)
        if result.preview and not self.shown_outputs:
            self.output.value = sanitize(tool_text_html("Result", result.preview))
        self.accordion.set_title(0, result_title(result))

    def show_outputs(self, code: str, outputs: Sequence[Mapping[str, Any]]) -> None:
        """A code call ran: the code as it ran, then what it printed and showed."""
        self._show_code(code)
        self.output.value = outputs_html(outputs) if outputs else ""
        self.shown_outputs = True

    def _show_code(self, code: str) -> None:
        """The code as it ran, where the arguments are, if it is not what is shown."""
        if code != self.code:
            self.code = code
            self.arguments.value = self._arguments_html()

    def widgets(self) -> list[Any]:
        return [self.arguments, self.output, self.body, self.accordion]

    def show_buttons(
        self,
        decide: Callable[[bool], None],
        *,
        edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Show Run / Skip and open the panel; a click calls `decide(run)` (from whatever
        thread the click arrives on: the run takes the first answer). With `edit`, a code
        call also gets Edit: "Run edited" calls `edit(arguments)` with the user's code."""
        import ipywidgets as w

        if self._buttons is not None:
            return
        self.run_button = w.Button(description="Run", icon="play", button_style="success",
                                   tooltip=f"Run {self.call.name}")  # fmt: skip
        self.skip_button = w.Button(description="Skip", icon="forward",
                                    tooltip="Do not run it; the model is told so")  # fmt: skip
        self.run_button.on_click(lambda _: decide(True))
        self.skip_button.on_click(lambda _: decide(False))
        buttons = [self.run_button, self.skip_button]
        if edit is not None and self.code is not None:
            tip = "Change the code, then run your version"
            self.edit_button = w.Button(description="Edit", icon="edit", tooltip=tip)
            self.edit_button.on_click(lambda _: self._open_editor(edit))
            buttons.append(self.edit_button)
        for button in buttons:
            handle_clicks_on_any_shell(button)
        self._buttons = w.HBox(buttons)
        self._buttons.add_class("kimi-tool-confirm")
        self.body.children = (self.arguments, self.output, self._buttons)
        self.set_status(WAITING)
        self.accordion.selected_index = 0

    def _open_editor(self, edit: Callable[[dict[str, Any]], None]) -> None:
        """Edit: the code in a text area, and "Run edited" to run that instead."""
        import ipywidgets as w

        if self._editing is not None or self._buttons is None:
            return
        rows = min(30, max(4, (self.code or "").count("\n") + 2))
        self.editor = w.Textarea(value=self.code or "", rows=rows,
                                 layout=w.Layout(width="100%"))  # fmt: skip
        self.editor.add_class("kimi-tool-editor")
        self.run_edited_button = w.Button(description="Run edited", icon="play",
                                          button_style="warning",
                                          tooltip="Run the code as you edited it")  # fmt: skip
        self.run_edited_button.on_click(lambda _: edit(self._edited_arguments()))
        handle_clicks_on_any_shell(self.run_edited_button)
        self._editing = w.VBox([self.editor, self.run_edited_button])
        self.body.children = (self.arguments, self.output, self._buttons, self._editing)

    def _edited_arguments(self) -> dict[str, Any]:
        """The call's arguments with the code as the text area holds it."""
        try:
            arguments = json.loads(self.call.arguments) if self.call.arguments.strip() else {}
        except ValueError:
            arguments = {}
        if not isinstance(arguments, dict):
            arguments = {}
        arguments[CODE_TOOLS[self.call.name]] = str(self.editor.value)
        return arguments

    def hide_buttons(self, run: bool) -> None:
        """The question is settled (`run`: it runs now; else skipped)."""
        self.set_status(RUNNING if run else "skipped")
        buttons, self._buttons = self._buttons, None
        if buttons is None:
            return
        self.body.children = (self.arguments, self.output)
        parts = [self.run_button, self.skip_button, self.edit_button, buttons]
        parts += [self.editor, self.run_edited_button, self._editing]
        self._editing = None
        for widget in parts:
            if widget is None:
                continue
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None:
                    part.close()


class ToolPanels:
    """A live view's tool calls by call id, in one VBox made with the first (`place` puts
    that box on screen)."""

    def __init__(self, place: Callable[[Any], None], layout: Any = None, style: Any = None):
        self._place, self._layout, self._style = place, layout, style
        self.panels: dict[str, ToolPanel] = {}
        self.box: Any = None

    def get(self, call: ToolCall, *, confirm: bool = False) -> ToolPanel:
        """The call's panel, made now if it has none yet."""
        if (panel := self.panels.get(call.id)) is not None:
            return panel
        import ipywidgets as w

        panel = ToolPanel(call, confirm=confirm, layout=self._layout, style=self._style)
        self.panels[call.id] = panel
        if self.box is None:
            self.box = w.VBox([panel.accordion], layout=w.Layout(width="100%"))
            self.box.add_class("kimi-tools")
            self._place(self.box)
        else:
            self.box.children = (*self.box.children, panel.accordion)
        return panel

    def finish(self, result: ToolResult) -> None:
        self.get(ToolCall(result.call_id, result.name, result.arguments)).finish(result)

    def show_outputs(self, call: ToolCall, code: str, outputs: Sequence[Mapping[str, Any]]) -> None:
        self.get(call).show_outputs(code, outputs)

    def end(self, phase: str) -> None:
        """The answer ended (`phase`) before some calls did: say so in their titles."""
        for panel in self.panels.values():
            if panel.result is None:
                panel.set_status(phase)

    def widgets(self) -> list[Any]:
        mine = [w for panel in self.panels.values() for w in panel.widgets()]
        return mine + ([self.box] if self.box is not None else [])


class ToolPanelsView(RunListener):
    """What the widget views (`LiveView`, `LabLiveView`) do alike with tool calls: a panel
    per call in `tools`, painted after the text so far; Run / Skip / Run edited go to
    `_control`."""

    tools: ToolPanels
    _control: Control | None

    def repaint(self, *, final: bool = False) -> None:
        raise NotImplementedError

    def _tool_event(self, event: ToolStarted | ToolFinished) -> None:
        self.repaint(final=True)  # the text so far, then the call's panel, at once
        if isinstance(event, ToolStarted):
            self.tools.get(event.call, confirm=event.confirm)
        else:
            self.tools.finish(event.result)

    def _tool_outputs(self, event: ToolOutputs) -> None:
        self.repaint(final=True)  # the text so far, then the step's code and outputs
        self.tools.show_outputs(event.call, event.code, event.outputs)

    def _answer(self, call_id: str, run: bool) -> None:
        if self._control is not None:
            self._control.answer(call_id, run)

    def _edited(self, call_id: str, arguments: dict[str, Any]) -> None:
        """Run edited: approved, with the user's arguments."""
        if self._control is not None:
            self._control.answer(call_id, True, arguments=arguments)
