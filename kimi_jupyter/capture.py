"""What recent cells displayed (for `@last`) and the last error (for `@error`).

With the inline backend a figure is closed once its cell ends, so `@last` cannot look the
figure up later: it has to be recorded as it is displayed. Only image/png, image/jpeg and
text/plain are kept, for the last few cells, within a byte budget.

`@last` is the previous cell that is not a question (`%%kimi`/`%kimi` cells are skipped,
so asking twice about the same plot works): if that cell displayed nothing, `@last` says
so instead of reaching further back, and its text names the cell (`In[7]`).
"""

from __future__ import annotations

import base64
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kimi_jupyter.conversation import Part, TextPart
from kimi_jupyter.errors import KimiError
from kimi_jupyter.mentions import is_question

KEPT_MIMES = ("image/png", "image/jpeg", "text/plain")
_TEXT_LIMIT = 4_000


@dataclass
class CellRecord:
    """One cell: its code, what it displayed (mime, data) in order, and its error if any."""

    code: str
    shown: list[tuple[str, bytes | str]] = field(default_factory=list)
    error: str | None = None
    number: int | None = None  # its `In[n]`, when the cell was stored in the history

    def size(self) -> int:
        return sum(len(data) for _, data in self.shown)

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

    def install(self, shell: Any) -> None:
        publisher = shell.display_pub
        original = publisher.publish

        def publish(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            self.record(data)
            return original(data, *args, **kwargs)

        publisher.publish = publish
        shell.events.register("pre_run_cell", self.pre_run_cell)
        shell.events.register("post_run_cell", self.post_run_cell)
        self._shell = shell
        self._original_publish = original

    def uninstall(self) -> None:
        shell = getattr(self, "_shell", None)
        if shell is None:
            return
        shell.display_pub.publish = self._original_publish
        shell.events.unregister("pre_run_cell", self.pre_run_cell)
        shell.events.unregister("post_run_cell", self.post_run_cell)
        self._shell = None

    def pre_run_cell(self, info: Any) -> None:
        self._current = CellRecord(code=getattr(info, "raw_cell", "") or "")

    def record(self, data: dict[str, Any]) -> None:
        if self._current is None:
            return
        for mime in KEPT_MIMES:
            if mime in data:
                self._current.shown.append((mime, data[mime]))
                break  # the richest kept form only

    def post_run_cell(self, result: Any) -> None:
        cell, self._current = self._current, None
        if cell is None or is_question(cell.code):
            return  # asking about @last must not make the question itself "last"
        info = getattr(result, "info", None)
        if getattr(info, "store_history", False):
            cell.number = getattr(result, "execution_count", None)
        shell = getattr(self, "_shell", None)
        value = result.result
        # An object with `_ipython_display_` showed itself through display_pub (recorded
        # above); formatting it again would display it a second time.
        if value is not None and shell is not None and not hasattr(value, "_ipython_display_"):
            formatted, _ = shell.display_formatter.format(value)
            self.record_into(cell, formatted)
        if result.error_in_exec is not None:
            cell.error = _user_traceback(result.error_in_exec)
            self.last_error = cell
        self.cells.append(cell)
        while sum(c.size() for c in self.cells) > self.max_bytes and len(self.cells) > 1:
            self.cells.popleft()

    def record_into(self, cell: CellRecord, data: dict[str, Any]) -> None:
        current, self._current = self._current, cell
        self.record(data)
        self._current = current

    def last_parts(self) -> list[Part]:
        """Everything the previous cell displayed, as content parts (images within the
        converters' limits)."""
        from kimi_jupyter.context import Limits
        from kimi_jupyter.context.media import media_part

        cell = self._previous()
        parts: list[Part] = [
            TextPart(f"@last: the output of {cell.label}\n```python\n{cell.code}\n```")
        ]
        limits = Limits()
        for mime, data in cell.shown:
            if mime == "text/plain":
                text = data if isinstance(data, str) else data.decode("utf-8", "replace")
                parts.append(TextPart(text[:_TEXT_LIMIT]))
            else:
                raw = base64.b64decode(data) if isinstance(data, str) else data
                parts.append(media_part(raw, f"@last ({cell.label})", limits))
        return parts

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
