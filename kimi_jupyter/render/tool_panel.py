"""One tool call in the live view: a foldable panel with its arguments, its result, and the
Run / Skip buttons while the run waits for the user's approval. ipywidgets is imported when
one is made. The waiting, its timeout and Stop belong to the run (`run.Approvals`): a panel
only shows the question and passes a click on.

The title is plain text in every frontend (an Accordion title); the body is escaped HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kimi_jupyter.events import ToolCall, ToolResult
from kimi_jupyter.render._clicks import handle_clicks_on_any_shell
from kimi_jupyter.render.bundle import (
    pretty_arguments,
    result_title,
    tool_text_html,
    tool_title,
)
from kimi_jupyter.render.html import sanitize

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
        body = tool_text_html("Arguments", pretty_arguments(call.arguments))
        shared = {"layout": layout, "style": style} if style is not None else {"layout": layout}
        self.arguments = w.HTML(sanitize(body), **shared)
        self.output = w.HTML("", **shared)
        self.body = w.VBox([self.arguments, self.output])
        self.accordion = w.Accordion([self.body], titles=(tool_title(call.name, self.status),))
        self.accordion.add_class("kimi-tool")
        self.run_button: Any = None
        self.skip_button: Any = None
        self._buttons: Any = None

    @property
    def waiting(self) -> bool:
        return self._buttons is not None

    def set_status(self, status: str) -> None:
        self.status = status
        self.accordion.set_title(0, tool_title(self.call.name, status))

    def finish(self, result: ToolResult) -> None:
        """Show how the call ended, and its result (escaped)."""
        self.result, self.status = result, result.status
        if result.preview:
            self.output.value = sanitize(tool_text_html("Result", result.preview))
        self.accordion.set_title(0, result_title(result))

    def widgets(self) -> list[Any]:
        return [self.arguments, self.output, self.body, self.accordion]

    def show_buttons(self, decide: Callable[[bool], None]) -> None:
        """Show Run / Skip and open the panel; a click calls `decide(run)` (from whatever
        thread the click arrives on: the run takes the first answer)."""
        import ipywidgets as w

        if self._buttons is not None:
            return
        self.run_button = w.Button(description="Run", icon="play", button_style="success",
                                   tooltip=f"Run {self.call.name}")  # fmt: skip
        self.skip_button = w.Button(description="Skip", icon="forward",
                                    tooltip="Do not run it; the model is told so")  # fmt: skip
        self.run_button.on_click(lambda _: decide(True))
        self.skip_button.on_click(lambda _: decide(False))
        for button in (self.run_button, self.skip_button):
            handle_clicks_on_any_shell(button)
        self._buttons = w.HBox([self.run_button, self.skip_button])
        self._buttons.add_class("kimi-tool-confirm")
        self.body.children = (self.arguments, self.output, self._buttons)
        self.set_status(WAITING)
        self.accordion.selected_index = 0

    def hide_buttons(self, run: bool) -> None:
        """The question is settled (`run`: it runs now; else skipped)."""
        self.set_status(RUNNING if run else "skipped")
        buttons, self._buttons = self._buttons, None
        if buttons is None:
            return
        self.body.children = (self.arguments, self.output)
        for widget in (self.run_button, self.skip_button, buttons):
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

    def end(self, phase: str) -> None:
        """The answer ended (`phase`) before some calls did: say so in their titles."""
        for panel in self.panels.values():
            if panel.result is None:
                panel.set_status(phase)

    def widgets(self) -> list[Any]:
        mine = [w for panel in self.panels.values() for w in panel.widgets()]
        return mine + ([self.box] if self.box is not None else [])
