"""What recent cells displayed (for `@last`) and the last error (for `@error`).

With the inline backend a figure is closed once its cell ends, so `@last` cannot look the
figure up later: it has to be recorded as it is displayed. Kept, for the last few cells and
within a byte budget: image/png, image/jpeg, text/plain, the JavaScript charts' mime data
(Plotly, Vega-Lite, Vega, Bokeh, HoloViews) and the chart objects the cell displayed or
returned, so `@last` can send a JavaScript chart as an image (`_charts_shown.py`).

`@last` is the previous cell that is not a question (`%%kimi`/`%kimi` cells are skipped,
so asking twice about the same plot works): if that cell displayed nothing, `@last` says
so instead of reaching further back, and its text names the cell (`In[7]`).
"""

from __future__ import annotations

import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_jupyter._charts_shown import Shown, is_chart, shown_from, shown_parts
from kimi_jupyter.conversation import Part, TextPart
from kimi_jupyter.errors import KimiError
from kimi_jupyter.mentions import is_question

if TYPE_CHECKING:
    from kimi_jupyter.prompting import PartsOf


@dataclass
class CellRecord:
    """One cell: its code, what it displayed in order, and its error if any."""

    code: str
    shown: list[Shown] = field(default_factory=list)
    error: str | None = None
    number: int | None = None  # its `In[n]`, when the cell was stored in the history

    def size(self) -> int:
        return sum(shown.size for shown in self.shown)

    @property
    def label(self) -> str:
        return f"In[{self.number}]" if self.number is not None else "the previous cell"


class CellCapture:
    """Records displays of the last `keep` cells; installed on a shell by `install`."""

    def __init__(self, keep: int = 5, max_bytes: int = 50_000_000) -> None:
        self.cells: deque[CellRecord] = deque(maxlen=keep)
        self.max_bytes = max_bytes
        self._current: CellRecord | None = None
        self.last_error: CellRecord | None = None
        self._displaying: object = None  # the chart object whose display is being published
        self._pending: object = None  # a chart's bundle that `display()` is about to publish

    def install(self, shell: Any) -> None:
        publish_original = shell.display_pub.publish
        format_original = shell.display_formatter.format

        def publish(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            if data is self._pending:
                self._pending = None  # recorded, with its object, as it was formatted
            else:
                self.record(data, kwargs.get("metadata", args[0] if args else None))
            return publish_original(data, *args, **kwargs)

        def format(obj: Any, *args: Any, **kwargs: Any) -> Any:
            if self._current is None or not is_chart(obj):
                return format_original(obj, *args, **kwargs)
            outer, self._displaying = self._displaying, obj
            try:  # an `_ipython_display_` publishes its own bundle in here
                data, metadata = format_original(obj, *args, **kwargs)
            finally:
                self._displaying = outer
            if data:  # the displayhook's result, or what `display()` publishes next
                self.record(data, metadata, obj)
                self._pending = data
            return data, metadata

        shell.display_pub.publish = publish
        shell.display_formatter.format = format
        shell.events.register("pre_run_cell", self.pre_run_cell)
        shell.events.register("post_run_cell", self.post_run_cell)
        self._shell = shell
        self._originals = (publish, publish_original, format, format_original)

    def uninstall(self) -> None:
        shell = getattr(self, "_shell", None)
        if shell is None:
            return
        publish, publish_original, format, format_original = self._originals
        # Put back only what is still ours on top; an inner wrapper with no cell is inert.
        if shell.display_pub.publish is publish:
            shell.display_pub.publish = publish_original
        if shell.display_formatter.format is format:
            shell.display_formatter.format = format_original
        shell.events.unregister("pre_run_cell", self.pre_run_cell)
        shell.events.unregister("post_run_cell", self.post_run_cell)
        self._shell = None

    def pre_run_cell(self, info: Any) -> None:
        self._current = CellRecord(code=getattr(info, "raw_cell", "") or "")

    def record(self, data: dict[str, Any], metadata: object = None, obj: object = None) -> None:
        if self._current is None:
            return
        shown = shown_from(data, metadata, obj if obj is not None else self._displaying)
        if shown is not None:
            self._current.shown.append(shown)

    def post_run_cell(self, result: Any) -> None:
        cell, self._current = self._current, None
        self._displaying = self._pending = None
        if cell is None or is_question(cell.code):
            return  # asking about @last must not make the question itself "last"
        info = getattr(result, "info", None)
        if getattr(info, "store_history", False):
            cell.number = getattr(result, "execution_count", None)
        shell = getattr(self, "_shell", None)
        value = result.result
        # An object with `_ipython_display_` showed itself through display_pub (recorded
        # above), formatting it again would display it a second time; a chart was recorded
        # as the displayhook formatted it.
        if (
            value is not None
            and shell is not None
            and not hasattr(value, "_ipython_display_")
            and not is_chart(value)
        ):
            formatted, metadata = shell.display_formatter.format(value)
            self.record_into(cell, formatted, metadata)
        if result.error_in_exec is not None:
            cell.error = _user_traceback(result.error_in_exec)
            self.last_error = cell
        self.cells.append(cell)
        while sum(c.size() for c in self.cells) > self.max_bytes and len(self.cells) > 1:
            self.cells.popleft()

    def record_into(self, cell: CellRecord, data: dict[str, Any], metadata: object = None) -> None:
        current, self._current = self._current, cell
        self.record(data, metadata)
        self._current = current

    def last_parts(self) -> list[Part]:
        """Everything the previous cell displayed, as content parts: images as shown (within
        the converters' limits), JavaScript charts drawn as images where the kernel can."""
        return self.last_mention().parts

    def last_mention(self) -> PartsOf:
        """`last_parts`, with the figure each image came from where the kernel still has it
        (so `@fig` and `@last` for one figure send it once: `prompting.gather`)."""
        from kimi_jupyter.context import Limits
        from kimi_jupyter.prompting import PartsOf

        cell = self._previous()
        parts: list[Part] = [
            TextPart(f"@last: the output of {cell.label}\n```python\n{cell.code}\n```")
        ]
        sources: dict[int, object] = {}
        limits = Limits()
        drawn = any(shown.mime.startswith("image/") for shown in cell.shown)
        for shown in cell.shown:
            source = shown.obj if shown.obj is not None else shown.source and shown.source()
            drawn_parts = shown_parts(shown, cell.label, drawn=drawn, limits=limits)
            if source is not None:
                sources.update(
                    dict.fromkeys(range(len(parts), len(parts) + len(drawn_parts)), source)
                )
            parts.extend(drawn_parts)
        return PartsOf(parts, sources)

    def _previous(self) -> CellRecord:
        """The previous cell that is not a question, if it displayed something."""
        if not self.cells:
            raise KimiError(
                "@last: the previous cells displayed nothing (none has run since the "
                "extension was loaded)"
            )
        cell = self.cells[-1]
        if cell.shown:
            return cell
        if cell.error is not None:
            hint = "; it raised an error: mention @error"
        else:
            older = next((c for c in reversed(self.cells) if c.shown), None)
            hint = f"; {older.label} did: run it again to ask about it" if older else ""
        where = f" ({cell.label})" if cell.number is not None else ""
        raise KimiError(f"@last: the previous cell{where} displayed nothing{hint}")

    def error_parts(self) -> list[Part]:
        """The last traceback (no colour codes) and the code of the cell that raised it."""
        cell = self.last_error
        if cell is None or cell.error is None:
            raise KimiError("@error: no cell has raised an error yet")
        return [
            TextPart(
                f"@error: this cell\n```python\n{cell.code}\n```\nraised:\n```\n{cell.error}\n```"
            )
        ]


def _user_traceback(error: BaseException) -> str:
    """The traceback from the user's code down: IPython's own frames are noise to the model."""
    tb = error.__traceback__
    while tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith("IPython."):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).strip()
