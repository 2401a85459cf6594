"""Progress views for `Chat.map`: a widget bar with Stop, one updating text line, or nothing.

Views only paint: `batch` keeps the state (a `MapProgress`) and calls `update` from the
calling thread as often as it likes; each view repaints at most once per `interval` and
always paints the end (`finish`). ipywidgets is imported only by the widget view.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from kimi_jupyter.errors import KimiError

if TYPE_CHECKING:
    from kimi_jupyter.batch import MapReport


@dataclass
class MapProgress:
    """What a running map has done so far (rows this run sends, not the skipped ones)."""

    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    tokens: int = 0
    retries: int = 0

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def eta(self, now: float) -> float | None:
        """Seconds left at the pace so far (None before the first row finishes)."""
        if not self.finished:
            return None
        return (now - self.started) / self.finished * (self.total - self.finished)

    def line(self, now: float) -> str:
        parts = [f"kimi map: {self.finished:,}/{self.total:,} rows"]
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        parts += [f"{self.tokens:,} tokens", f"{now - self.started:.1f} s"]
        if self.retries:
            parts.append(f"{self.retries:,} retries")
        eta = self.eta(now)
        parts.append("ETA …" if eta is None else f"ETA {eta:.0f} s")
        return " · ".join(parts)


class ProgressView(Protocol):
    """What `run_map(view=...)` accepts besides "widget", "text" and "none"."""

    def update(self, progress: MapProgress) -> None: ...

    def finish(self, report: MapReport) -> None: ...


class NoProgress:
    """Shows nothing (`view="none"`)."""

    def update(self, progress: MapProgress) -> None:
        return

    def finish(self, report: MapReport) -> None:
        return


class TextProgress:
    """One line rewritten in place with `\\r`, then the summary on its own line."""

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.25,
    ) -> None:
        self._out = out or sys.stdout
        self._clock, self._interval = clock, interval
        self._last = float("-inf")
        self._width = 0

    def update(self, progress: MapProgress) -> None:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._draw(progress.line(now))

    def finish(self, report: MapReport) -> None:
        self._draw(report.summary())
        self._out.write("\n")
        self._out.flush()

    def _draw(self, text: str) -> None:
        self._out.write("\r" + text.ljust(self._width))
        self._out.flush()
        self._width = len(text)


class WidgetProgress:
    """An IntProgress bar, a label and a Stop button; replaced by the summary at the end."""

    def __init__(
        self,
        total: int,
        on_stop: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        import ipywidgets as w
        from IPython.display import display

        from kimi_jupyter.render._clicks import handle_clicks_on_any_shell

        self._clock, self._interval = clock, interval
        self._last = float("-inf")
        # no description: the label's line starts with "kimi map:", one header is enough
        self.bar = w.IntProgress(value=0, min=0, max=max(total, 1))
        self.label = w.HTML()
        self.stop_button = w.Button(
            description="Stop", icon="stop", tooltip="Stop; keep the rows finished so far"
        )
        self.stop_button.on_click(lambda _: on_stop())
        handle_clicks_on_any_shell(self.stop_button)  # a click must not wait for the map
        self.box = w.HBox([self.bar, self.label, self.stop_button])
        show: Any = display  # untyped
        self._handle = show(self.box, display_id=True)

    def update(self, progress: MapProgress) -> None:
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        self.bar.value = progress.finished
        if progress.failed:
            self.bar.bar_style = "warning"
        self.label.value = html.escape(progress.line(now))

    def finish(self, report: MapReport) -> None:
        self.stop_button.disabled = True
        if self._handle is not None:
            bundle = {"text/plain": report.summary(), "text/html": report._repr_html_()}
            self._handle.update(bundle, raw=True)
        for widget in (self.bar, self.label, self.stop_button, self.box):
            widget.close()


def make_view(
    view: str | ProgressView | None, total: int, on_stop: Callable[[], None]
) -> ProgressView:
    """The view for `view`: a name, a view object, or None (the widget where the cell's
    frontend shows widgets, else text: a terminal, or a headless nbclient/papermill run)."""
    if view is None:
        view = _default_view()
    if not isinstance(view, str):
        return view
    if view == "widget":
        return WidgetProgress(total, on_stop)
    if view == "text":
        return TextProgress()
    if view == "none":
        return NoProgress()
    raise KimiError(f"map: view must be 'widget', 'text' or 'none', not {view!r}")


def _default_view() -> str:
    ipython = sys.modules.get("IPython")  # never import IPython just to find out
    shell = ipython.get_ipython() if ipython is not None else None
    if getattr(shell, "kernel", None) is None:
        return "text"
    from kimi_jupyter.render._frontend import shows_widgets

    if not shows_widgets():  # nbclient and papermill would save every widget model
        return "text"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "text"
    return "widget"
