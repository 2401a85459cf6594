"""Running code on this thread as a cell would (`%%kimi --agent`'s `run_code`): in the
shell's namespace, with IPython's transforms, the last expression's value shown, what it
printed and displayed captured as nbformat outputs, and the matplotlib figures it left open
rendered as PNGs and closed. The shell is used by duck typing: the agent imports no IPython
(STYLE rule 1); matplotlib is imported only when the code already loaded pyplot.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import linecache
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .outputs import default_limits

__all__ = ["STREAM_CHARS", "Execution", "execute"]

STREAM_CHARS = 200_000  # what one step keeps of its printed text (the model gets less)
_HERE = __file__


@dataclass(frozen=True)
class Execution:
    """What running code gave, as a cell would show it: nbformat output dicts in order;
    `error` ("Name: value") when it raised; `interrupted` by Ctrl-C (a kernel interrupt)."""

    outputs: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    interrupted: bool = False


def _quiet(shell: Any, code: str) -> bool:
    """A trailing `;` hides the value, as IPython reads it (a `;` in a comment does not)."""
    check = getattr(type(getattr(shell, "displayhook", None)), "semicolon_at_end_of_expression",
                    None)  # fmt: skip
    if callable(check):
        return bool(check(code))
    return code.rstrip().endswith(";")


def execute(shell: Any, code: str, number: int = 1) -> Execution:
    """Run `code` in `shell.user_ns` on this thread, as a cell: IPython's transforms (magics,
    `!`), the last expression's value shown, what it printed and displayed captured, and the
    matplotlib figures it left open rendered as PNGs and closed (so they show only here)."""
    sink = _Sink(shell)
    before = _open_figures()
    error: str | None = None
    interrupted = False
    with sink.capturing():
        try:
            value = _run_source(shell, code, number)
            if value is not None and not _quiet(shell, code):
                sink.result(value)
        except KeyboardInterrupt as exc:
            interrupted = True
            sink.outputs.append(_error_output(shell, exc))
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's code: an error output
            error = f"{type(exc).__name__}: {exc}"
            sink.outputs.append(_error_output(shell, exc))
    figures = _figure_outputs(before)
    outputs = [*sink.outputs, *figures]
    errors = [o for o in outputs if o["output_type"] == "error"]
    ordered = [o for o in outputs if o["output_type"] != "error"] + errors  # the error last
    return Execution(tuple(ordered), error, interrupted)


def _run_source(shell: Any, code: str, number: int) -> Any:
    transform = getattr(shell, "transform_cell", None)
    source = transform(code) if callable(transform) else code
    filename = f"<kimi run_code {number}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    last = None
    tail = tree.body[-1] if tree.body else None
    if isinstance(tail, ast.Expr):
        tree.body.pop()
        last = ast.Expression(tail.value)
    namespace = shell.user_ns
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - the user approved it
    if last is None:
        return None
    return eval(compile(last, filename, "eval"), namespace)  # noqa: S307 - as above


@dataclass
class _Sink:
    """Collects what the code prints and displays, in order, as nbformat outputs."""

    shell: Any
    outputs: list[dict[str, Any]] = field(default_factory=list)
    _chars: int = 0

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        publisher = getattr(self.shell, "display_pub", None)
        mine = vars(publisher) if publisher is not None and hasattr(publisher, "__dict__") else {}
        had, old = "publish" in mine, mine.get("publish")
        if publisher is not None:
            publisher.publish = self.display
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Writer(self, "stdout"), _Writer(self, "stderr")
        try:
            yield
        finally:
            sys.stdout, sys.stderr = out, err
            if publisher is not None and had:
                publisher.publish = old
            elif publisher is not None:
                del publisher.publish

    def stream(self, name: str, text: str) -> None:
        room = STREAM_CHARS - self._chars
        if room <= 0 or not text:
            return
        if len(text) > room:
            text = text[:room] + "\n[… more output left out]\n"
        self._chars += len(text)
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def display(self, data: Any = None, metadata: Any = None, *_: Any, **__: Any) -> None:
        if isinstance(data, dict):
            self.outputs.append({"output_type": "display_data", "data": dict(data),
                                 "metadata": dict(metadata or {})})  # fmt: skip

    def result(self, value: Any) -> None:
        formatter = getattr(self.shell, "display_formatter", None)
        data: dict[str, Any] | None = None
        metadata: dict[str, Any] = {}
        if formatter is not None:
            with contextlib.suppress(Exception):
                data, metadata = formatter.format(value)
        if not data:
            data = {"text/plain": repr(value)}
        self.outputs.append({"output_type": "execute_result", "execution_count": None,
                             "data": dict(data), "metadata": dict(metadata)})  # fmt: skip


class _Writer(io.StringIO):
    """sys.stdout / sys.stderr while the code runs (a StringIO, as IPython's capture)."""

    def __init__(self, sink: _Sink, name: str) -> None:
        super().__init__()
        self._sink, self._name = sink, name

    def write(self, text: str) -> int:
        self._sink.stream(self._name, str(text))
        return len(text)


def _error_output(shell: Any, exc: BaseException) -> dict[str, Any]:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _HERE:
        tb = tb.tb_next  # our own frames are not the user's business
    lines: list[str] = []
    formatter = getattr(shell, "InteractiveTB", None)
    if not isinstance(exc, SyntaxError) and formatter is not None:
        with contextlib.suppress(Exception):
            lines = list(formatter.structured_traceback(type(exc), exc, tb))
    if not lines:
        lines = traceback.format_exception(type(exc), exc, tb)
    return {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
            "traceback": [line.rstrip("\n") for line in lines]}  # fmt: skip


def _open_figures() -> dict[int, tuple[int, bool]]:
    """Open matplotlib figures (when pyplot is loaded): number → (identity, stale)."""
    if "matplotlib.pyplot" not in sys.modules:
        return {}
    from matplotlib._pylab_helpers import Gcf

    return {
        int(m.num): (id(m.canvas.figure), bool(m.canvas.figure.stale))
        for m in Gcf.get_all_fig_managers()
    }


def _figure_outputs(before: dict[int, tuple[int, bool]]) -> list[dict[str, Any]]:
    """The figures the code made or changed, as image/png outputs; they are closed."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt
    from matplotlib._pylab_helpers import Gcf

    from kimi_jupyter.context.figures import render_png
    from kimi_jupyter.errors import KimiError

    outputs: list[dict[str, Any]] = []
    for manager in Gcf.get_all_fig_managers():
        figure = manager.canvas.figure
        known = before.get(int(manager.num))
        if known is not None and known[0] == id(figure) and (known[1] or not figure.stale):
            continue  # open before, and not changed by this code
        try:
            part = render_png(figure, f"figure {manager.num}", default_limits())
        except KimiError as exc:
            outputs.append({"output_type": "stream", "name": "stderr", "text": f"{exc}\n"})
        else:
            data = {"image/png": base64.b64encode(part.data).decode("ascii"),
                    "text/plain": repr(figure)}  # fmt: skip
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        plt.close(figure)
    return outputs
