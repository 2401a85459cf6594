"""The live view where the lab extension draws it: one widget model, the text sent once.

The core-widget view (`widget.py`) has to send HTML and open widgets as the text grows,
since a core widget can only show a value it is sent whole. Where our JupyterLab extension
runs (JupyterLab 4, Notebook 7; it says so in the metadata of each execute request, see
`extension_draws_live`), one `KimiLiveModel` takes the new text of the thinking and the
answer as custom messages and renders it with the very Markdown path that draws the saved
turn record (`labextension/src/celllive.ts`): each character of the text crosses once, the
status line ticks in the page, and the last live frame is laid out as the saved turn is.

Its messages (kernel → page, content of one custom message, every key optional):
`thinking` / `answer` (text to append), `reasoning` / `tokens` (delta counts so far),
`phase`, `note`, `notice` (a one-off status, e.g. a retry), `end` (done, stopped, failed).
Page → kernel: `{"stop": true}`. Tool calls, rare, keep their core-widget panels
(`tool_panel.py`), shown in the model's `tools` slot.

The model text in these messages is what the turn record holds too: the page renders it as
untrusted Markdown (raw HTML as text, guarded sanitizer, no URL resolver).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
from traitlets import Instance, Unicode

from kimi_jupyter.events import ContentDelta, Event, ReasoningDelta, ToolFinished, ToolStarted
from kimi_jupyter.render._clicks import handle_clicks_on_any_shell
from kimi_jupyter.render.bundle import one_line
from kimi_jupyter.render.live import Control, Progress
from kimi_jupyter.render.tool_panel import ToolPanels, ToolPanelsView
from kimi_jupyter.run import ApprovalRequested, ApprovalSettled

# The execute-request metadata key the extension sets, and the live protocol it speaks.
METADATA_KEY = "kimi_jupyter"
LIVE_PROTOCOL = 1
MODULE = "kimi-jupyter"
MODULE_VERSION = f"^{LIVE_PROTOCOL}.0.0"
# A message costs about 600 bytes of headers whatever it carries: send when there is this
# much new text, or when the oldest unsent text has waited `max_latency`.
SEND_CHARS = 2048


def extension_draws_live(metadata: Mapping[str, Any] | None) -> bool:
    """Whether the execute request (its `metadata`) came from a page where our extension
    draws `KimiLiveModel` (it adds `{"kimi_jupyter": {"live": 1}}`)."""
    mine = (metadata or {}).get(METADATA_KEY)
    return isinstance(mine, Mapping) and mine.get("live") == LIVE_PROTOCOL


class LiveTurnWidget(w.DOMWidget):  # type: ignore[misc]
    """The model the extension draws; all of its text arrives as custom messages."""

    _model_name = Unicode("KimiLiveModel").tag(sync=True)
    _model_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode("KimiLiveView").tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    tools = Instance(w.Box, allow_none=True).tag(sync=True, **w.widget_serialization)


class LabLiveView(ToolPanelsView):
    """Streams one answer into a `LiveTurnWidget`; same listener contract as `LiveView`."""

    def __init__(
        self,
        *,
        control: Control | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.05,
        max_latency: float = 0.25,
        note: str | None = None,
    ) -> None:
        self._clock, self._interval, self._max_latency = clock, interval, max_latency
        self._control = control
        self.progress = Progress(started=clock(), note=note)
        self._layout = w.Layout(width="100%")
        self.widget = LiveTurnWidget(layout=self._layout)
        self.widget.on_msg(self._on_msg)
        handle_clicks_on_any_shell(self.widget)
        self._pending: dict[str, list[str]] = {"thinking": [], "answer": []}
        self._pending_chars = 0
        self._oldest: float | None = None
        self._sent: dict[str, Any] = {"phase": None, "note": None}
        self._last_send = float("-inf")
        self._stopped = False
        self.repaints = 0
        self.tools = ToolPanels(self._place_tools, self._layout)
        if note:
            self._send({"note": note})
            self._sent["note"] = note

    # -- the run's events --------------------------------------------------------------

    def _stream_event(self, event: Event) -> None:
        now = self._clock()
        self.progress.add(event, now)
        if isinstance(event, ReasoningDelta | ContentDelta):
            kind = "thinking" if isinstance(event, ReasoningDelta) else "answer"
            self._pending[kind].append(event.text)
            self._pending_chars += len(event.text)
            if self._oldest is None:
                self._oldest = now
        elif isinstance(event, ToolStarted | ToolFinished):
            self._tool_event(event)
            return
        if self._due(now):
            self.repaint()

    def _due(self, now: float) -> bool:
        if now - self._last_send < self._interval:
            return False
        if self.progress.phase != self._sent["phase"]:
            return True  # a new phase shows at once (the answer starts, a tool runs)
        waited = now - self._oldest if self._oldest is not None else 0.0
        return self._pending_chars >= SEND_CHARS or waited >= self._max_latency

    def _approval(self, event: ApprovalRequested | ApprovalSettled) -> None:
        call = event.call
        panel = self.tools.get(call, confirm=True)
        if isinstance(event, ApprovalRequested):
            panel.show_buttons(lambda run: self._answer(call.id, run),
                               edit=lambda arguments: self._edited(call.id, arguments))  # fmt: skip
            self.progress.phase = f"waiting for you: run {one_line(call.name, 40)}?"
            self.repaint(final=True)
            return
        panel.hide_buttons(event.run)
        if event.notice:  # kept in the status line until the answer ends
            self.progress.note = "; ".join(filter(None, (self.progress.note, event.notice)))
        self.repaint(final=True)

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("stop") is True:
            self.stop()

    def stop(self) -> None:
        """What Stop does: end the answer (the run skips a Run / Skip still waiting)."""
        if self._stopped:
            return
        self._stopped = True
        if self._control is not None:
            self._control.stop()

    def _place_tools(self, box: Any) -> None:
        self.widget.tools = box

    # -- what goes to the page ---------------------------------------------------------

    def repaint(self, *, final: bool = False) -> None:
        """Send the new text, the counts and what changed (`final`: whatever the pacing)."""
        message: dict[str, Any] = {}
        for kind, pieces in self._pending.items():
            if pieces:
                message[kind] = "".join(pieces)
                pieces.clear()
        for key, value in (("phase", self.progress.phase), ("note", self.progress.note)):
            if value != self._sent[key]:
                message[key] = self._sent[key] = value
        if not message:
            return
        if "thinking" in message or "answer" in message:
            message["reasoning"] = self.progress.reasoning_deltas
            message["tokens"] = self.progress.tokens
        self._pending_chars, self._oldest = 0, None
        self._last_send = self._clock()
        self.repaints += 1
        self._send(message)

    def notify(self, text: str) -> None:
        """A one-off status message, e.g. `retrying in 2.0 s`."""
        self.repaint(final=True)
        self._send({"notice": text})

    def finish(self, phase: str) -> None:
        """Always called at the end (done, stopped, failed): the rest is sent."""
        self.progress.phase = phase
        self._stopped = True
        self.tools.end(phase)
        self.repaint(final=True)
        self._send({"end": phase})

    def _send(self, message: dict[str, Any]) -> None:
        self.widget.send(message)
        # each message sent routes the page's replies (Stop) to the main shell, busy with
        # this answer until it ends: route them to the page's subshell again
        handle_clicks_on_any_shell(self.widget)

    def close(self) -> None:
        """Close the model, its Layout, and the tool panels' widgets."""
        for widget in (*self.tools.widgets(), self.widget, self._layout):
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None:
                    part.close()
