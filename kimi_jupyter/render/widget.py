"""The live view: ipywidgets core widgets only, so it works wherever widgets do.

Work and traffic grow linearly with the answer: finished blocks, and the complete lines or
rows of a block still open, are frozen (`chunks.py`); frozen HTML rides at the head of the
tail widget until there is about `STAGE` bytes of it, then gets one widget of its own (in
pages of at most `PAGE`, so no children list grows without bound), since every widget costs
an open and a close message whatever it holds. Only the open tail, kept to about a
kilobyte whatever the text, is rendered and resent, code is coloured within one budget per
answer, and repaints are coalesced to at most one per
`interval` seconds; `finish` always flushes. Widgets share one Layout and one Style, since
each of those is a widget (a message) of its own. Tool calls are rare: each one gets its own
foldable panel (`tool_panel.py`) at once, between the thinking and the answer.

The view is a listener of a `run.AnswerRun`: `add` takes its events, Stop and Run / Skip
go back through `control` (the run). It keeps no stream, no approval and no timeout.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

from kimi_jupyter.events import ContentDelta, Event, ReasoningDelta, ToolFinished, ToolStarted
from kimi_jupyter.render._clicks import handle_clicks_on_any_shell
from kimi_jupyter.render.bundle import TOOL_CSS, one_line
from kimi_jupyter.render.chunks import MarkdownChunker, Piece, PlainChunker
from kimi_jupyter.render.html import HIGHLIGHT_CSS, HighlightBudget, render_markdown, render_text
from kimi_jupyter.render.live import Control, Progress
from kimi_jupyter.render.tool_panel import ToolPanels, ToolPanelsView
from kimi_jupyter.run import ApprovalRequested, ApprovalSettled

PAGE = 8
STAGE = 1024  # bytes of frozen HTML that get a widget of their own
LIVE_HIGHLIGHT_CHARS = 200_000
# The answer wears JupyterLab's rendered-Markdown classes, as the finished turn does, and
# the widgets inside give up their own font, line height, margins and flex layout, so the
# switch to the saved output keeps every table, code block and line where it was. Code
# blocks take the frame the lab extension gives them (`.jp-KimiTurn-codeBlock > pre`).
ANSWER_CLASSES = (
    "jp-RenderedHTMLCommon",
    "jp-RenderedMarkdown",
    "jp-KimiTurn-answer",
    "kimi-answer",
)
_INNER = ".kimi-live :is(.kimi-answer,.kimi-reasoning) "
_CSS = (
    "<style>.kimi-live .kimi-thinking{opacity:.75;white-space:normal;font-size:.92em}"
    ".kimi-live .kimi-status{opacity:.7;font-size:.85em}"
    ".kimi-live .kimi-joined thead{display:none}"
    ".kimi-live .kimi-joined>:first-child{margin-top:0}"
    f"{_INNER}.jupyter-widgets,{_INNER}:is(.widget-html-content,.widget-htmlmath-content)"
    "{display:block;margin:0;height:auto;min-height:0;font-size:inherit;line-height:inherit;"
    "color:inherit}"
    ".kimi-live .kimi-answer,.kimi-live .kimi-reasoning{display:block}"
    ".kimi-live .kimi-reasoning{font-family:var(--jp-content-font-family);"
    "line-height:var(--jp-content-line-height);font-size:var(--jp-content-font-size1)}"
    ".kimi-live .kimi-answer pre{margin:.5em 0;padding:6px 8px;"
    "border:1px solid var(--jp-border-color2);border-radius:var(--jp-border-radius);"
    "background:var(--jp-cell-editor-background);overflow-x:auto}"
    + TOOL_CSS
    + HIGHLIGHT_CSS
    + "</style>"
)


class _Pane:
    """A growing text: frozen widgets in pages, then one tail widget that is repainted.

    The chunker decides what is frozen; only its open tail (a bounded size) is rendered
    again on each repaint, so the work for a whole answer is linear in its length.
    """

    def __init__(self, factory: Callable[[str], Any], render: Callable[[Piece, bool], str],
                 chunker: PlainChunker | MarkdownChunker,
                 classes: tuple[str, ...]) -> None:  # fmt: skip
        import ipywidgets as w

        self._factory, self._render, self._chunker = factory, render, chunker
        self._incoming: list[str] = []
        self._painted: list[str] = []
        self.pending = 0
        self.rendered = 0  # characters handed to `render` so far: linear in the text
        self._tail_chars = 0
        self._staged = ""  # frozen HTML shown in the tail until there is enough of it
        self._tail = factory("")
        self._pages: list[Any] = []
        # classes given at creation: `add_class` later would be one more message each
        self.box = w.VBox([self._tail], layout=self._tail.layout, _dom_classes=classes)
        self.widgets: list[Any] = [self._tail, self.box]

    @property
    def text(self) -> str:
        """Everything painted so far."""
        return "".join(self._painted)

    def append(self, text: str) -> None:
        self._incoming.append(text)
        self.pending += len(text)

    @property
    def tail_size(self) -> int:
        return self._tail_chars + self.pending

    def repaint(self) -> None:
        if not self._incoming:
            return
        new = "".join(self._incoming)
        self._incoming.clear()
        self.pending = 0
        self._painted.append(new)
        pieces = [piece for piece in self._chunker.feed(new) if piece.source.strip()]
        self._staged += "".join(self._rendered(piece, True) for piece in pieces)
        tail = self._chunker.tail()
        value = self._rendered(tail, False) if tail.source.strip() else ""
        # A widget costs messages, so frozen HTML rides in the tail until the two together
        # would outgrow STAGE: then it gets a widget of its own, and the tail stays small.
        if self._staged and len(self._staged) + len(value) > STAGE:
            self._add_frozen(self._staged)
            self._staged = ""
        self._tail_chars = len(tail.source) + len(self._staged)
        value = self._staged + value
        if value != self._tail.value:
            self._tail.value = value

    def _rendered(self, piece: Piece, frozen: bool) -> str:
        self.rendered += len(piece.source)
        return self._render(piece, frozen)

    def _add_frozen(self, value: str) -> None:
        import ipywidgets as w

        block = self._factory(value)
        self.widgets.append(block)
        if self._pages and len(self._pages[-1].children) < PAGE:
            page = self._pages[-1]
            page.children = (*page.children, block)
            return
        page = w.VBox([block], layout=self._tail.layout)
        self._pages.append(page)
        self.widgets.append(page)
        self.box.children = (*self._pages, self._tail)


class LiveView(ToolPanelsView):
    """Streams one answer into widgets: status line, thinking pane, tool calls, answer, Stop.

    `add` takes the run's events (`run.RunEvent`); Stop and Run / Skip go to `control`.
    """

    def __init__(
        self,
        *,
        control: Control | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.05,
        note: str | None = None,
    ) -> None:
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLMathStyle, HTMLStyle

        self._clock, self._interval = clock, interval
        # the status line and the thinking title tick once a second: each is a message
        self._status_interval, self._last_status = 1.0, float("-inf")
        self._answering = False
        self._max_latency = 0.25
        self.progress = Progress(started=clock(), note=note)
        self._last_paint = float("-inf")
        layout, html_style, math_style = w.Layout(), HTMLStyle(), HTMLMathStyle()
        self._shared = [layout, html_style, math_style]
        self._control = control
        html_widget = lambda value: w.HTML(value, layout=layout, style=html_style)  # noqa: E731
        math_widget = lambda value: w.HTMLMath(value, layout=layout, style=math_style)  # noqa: E731
        self.thinking = _Pane(html_widget, _thinking_html, PlainChunker(), ("kimi-reasoning",))
        self.answer = _Pane(math_widget, _answer_renderer(), MarkdownChunker(), ANSWER_CLASSES)
        self._style = w.HTML(_CSS, layout=layout, style=html_style)  # sent once
        status = _status_html(self.progress.status_text(self.progress.started))
        self.status = w.HTML(status, layout=layout, style=html_style)
        self.stop_button = w.Button(description="Stop", icon="stop", tooltip="Stop the answer")
        if control is not None:
            self.stop_button.on_click(lambda _: self.stop())
            handle_clicks_on_any_shell(self.stop_button)
        self.accordion = w.Accordion([self.thinking.box], titles=("Thinking",))
        self.accordion.layout.display = "none"
        self._header = w.HBox([self.stop_button, self.status, self._style], layout=layout)
        self.widget = w.VBox(
            [self._header, self.accordion, self.answer.box],
            layout=w.Layout(width="100%"),
            _dom_classes=("kimi-live",),
        )
        self.repaints = 0
        self.tools = ToolPanels(self._place_tools, layout, html_style)

    def _stream_event(self, event: Event) -> None:
        now = self._clock()
        was_answering = self.progress.answer_started is not None
        self.progress.add(event, now)
        if isinstance(event, ReasoningDelta):
            self.thinking.append(event.text)
            if self.accordion.layout.display == "none":
                self.accordion.layout.display = None
                self.accordion.selected_index = 0
        elif isinstance(event, ContentDelta):
            self.answer.append(event.text)
        elif isinstance(event, (ToolStarted, ToolFinished)):
            self._tool_event(event)
            return
        if not was_answering and self.progress.answer_started is not None:
            self.accordion.selected_index = None  # fold the thinking once the answer starts
        if self._due(now):
            self.repaint()

    def _approval(self, event: ApprovalRequested | ApprovalSettled) -> None:
        """Run / Skip in the call's panel while the run waits; the run decides the rest."""
        call = event.call
        panel = self.tools.get(call, confirm=True)
        if isinstance(event, ApprovalRequested):
            panel.show_buttons(lambda run: self._answer(call.id, run),
                               edit=lambda arguments: self._edited(call.id, arguments))  # fmt: skip
            self.status.value = _status_html(f"waiting for you: run {one_line(call.name, 40)}?")
            return
        panel.hide_buttons(event.run)
        if event.notice:  # kept in the status line until the answer ends
            self.progress.note = "; ".join(filter(None, (self.progress.note, event.notice)))
            self.notify(self.progress.status_text(self._clock()))

    def stop(self) -> None:
        """What Stop does: end the answer (the run skips a Run / Skip still waiting)."""
        self.stop_button.disabled = True
        if self._control is not None:
            self._control.stop()

    def _place_tools(self, box: Any) -> None:
        self.widget.children = (self._header, self.accordion, box, self.answer.box)

    def _due(self, now: float) -> bool:
        """At most one repaint per `interval`, and only once the new text is worth resending
        the unfinished tail for (or `max_latency` has passed): bytes stay linear in the text.
        """
        waited = now - self._last_paint
        if waited < self._interval:
            return False
        pane = self.answer if self.progress.answer_started is not None else self.thinking
        return waited >= self._max_latency or pane.pending * 4 >= pane.tail_size + 200

    def repaint(self, *, final: bool = False) -> None:
        now = self._clock()
        self._last_paint = now
        self.repaints += 1
        self.thinking.repaint()
        self.answer.repaint()
        answering = self.progress.answer_started is not None
        if (
            now - self._last_status >= self._status_interval
            or final
            or answering != self._answering
        ):
            self._last_status, self._answering = now, answering  # a new phase shows at once
            self.accordion.set_title(0, self.progress.thinking_title(now))
            self.status.value = _status_html(self.progress.status_text(now))

    def notify(self, text: str) -> None:
        """A one-off status message, e.g. `retrying in 2.0 s`."""
        self.status.value = _status_html(text)

    def finish(self, phase: str) -> None:
        """Always called at the end (done, stopped, failed): the last state is painted."""
        self.progress.phase = phase
        self.stop_button.disabled = True
        self.tools.end(phase)
        self.repaint(final=True)

    def close(self) -> None:
        """Close every widget, with the Layout and Style widgets each one made for itself."""
        for widget in (*self.thinking.widgets, *self.answer.widgets, self.status,
                       self._style, self.stop_button, self.accordion, self._header, self.widget,
                       *self.tools.widgets(), *self._shared):  # fmt: skip
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None:
                    part.close()


def _answer_renderer() -> Callable[[Piece, bool], str]:
    """Markdown pieces of one answer, sharing one highlighting budget: every time the tail is
    rendered again counts, so colouring costs a bounded amount whatever the answer is."""
    budget = HighlightBudget(LIVE_HIGHLIGHT_CHARS)

    def render(piece: Piece, frozen: bool) -> str:
        value = render_markdown(piece.source, highlight=budget)
        return f"<div class='kimi-joined'>{value}</div>" if piece.joined else value

    return render


def _thinking_html(piece: Piece, frozen: bool) -> str:
    return f"<div class='kimi-thinking'>{render_text(piece.source)}</div>"


def _status_html(text: str) -> str:
    return f"<span class='kimi-status'>{html.escape(text)}</span>"
