"""Show one answer live in the notebook (or terminal), then leave the static bundle behind."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from kimi_jupyter.chat import Chat
from kimi_jupyter.conversation import Part
from kimi_jupyter.options import AskOptions
from kimi_jupyter.render.bundle import Outputs, one_line, static_bundle
from kimi_jupyter.render.text import TextView
from kimi_jupyter.run import AnswerRun, ApprovalRequested, RunEnded, RunEvent
from kimi_jupyter.turn import Turn


def show_turn(
    chat: Chat,
    prompt: str,
    *objects: Part | str,
    session: str,
    view: str,
    cell_id: str | None = None,
    options: AskOptions | None = None,
    note: str | None = None,
) -> Turn:
    """Run the answer with a live view listening; on any ending, leave the saved output.

    Ctrl-C or Stop keeps the partial answer (marked stopped); a failure keeps what was
    recorded, with a notice, and then raises its `KimiError` so the caller can say what
    happened in one line. Approvals are asked in the view: Run / Skip buttons, a terminal
    prompt, or (headless, where nobody can answer) skipped with a line on stderr.
    """
    options = options or AskOptions()
    run = AnswerRun(chat, prompt, *objects, session=session, cell_id=cell_id, options=options)
    return follow_run(run, session, view, note=note, watch=options.stream is not False)


def follow_run(
    run: AnswerRun,
    session: str,
    view: str,
    *,
    note: str | None = None,
    outputs: Outputs | None = None,
    watch: bool = True,
) -> Turn:
    """`show_turn` for a run made elsewhere (the cell agent's): follow it in the live view
    `view` names (not `watch`: nothing streams, so wait), then leave the saved output,
    with what code calls showed (`outputs`); a failure raises its `KimiError` after that."""
    if not watch:  # nothing to watch: wait, then show the answer
        ended = run.follow(Unattended(run).add)
        _show_final(ended, session, "widget" if view == "static" else view, outputs)
    elif view == "widget":
        ended = _follow_in_widget(run, session, note, outputs)
    elif view == "static":  # headless runs: no widgets at all, only what the notebook keeps
        ended = run.follow(Unattended(run).add)
        _show_final(ended, session, "widget", outputs)
    else:
        text = TextView(control=run)
        if note:
            text.notify(note)
        ended = run.follow(text.add)
        if ended.recorded:
            text.finish(ended.turn)
    if ended.error is not None:
        raise ended.error
    return ended.turn


def frontend_shows_widgets(cell_id: str | None) -> bool:
    """Whether the client that asked for this cell displays widgets (else: a headless run).

    nbclient and papermill keep the state of every widget model they see in the saved
    notebook, closed or not (about a hundred per live answer), so a headless run must open
    none. They send no cell id with an execute request and do not start their kernels
    through a Jupyter server; JupyterLab, Notebook 7 and VS Code send the cell id, and a
    kernel a Jupyter server started has `JPY_SESSION_NAME`.
    """
    return cell_id is not None or "JPY_SESSION_NAME" in os.environ


def execute_metadata() -> dict[str, Any]:
    """The metadata of the execute request this kernel is running (empty outside one)."""
    from IPython import get_ipython

    from kimi_jupyter.context.notebook import request_metadata

    return request_metadata(get_ipython())  # `@notebook` reads the page's cells from it too


def _follow_in_widget(
    run: AnswerRun, session: str, note: str | None, outputs: Outputs | None
) -> RunEnded:
    """The lab extension's one-model view where the page says it draws it (JupyterLab,
    Notebook 7 with our extension), else the core-widget view (VS Code, Colab, a JupyterLab
    without the extension)."""
    from IPython.display import display

    from kimi_jupyter.render.lab_live import LabLiveView, extension_draws_live
    from kimi_jupyter.render.widget import LiveView

    with _BusyStatus():  # from before the view opens: the page's replies to that say idle
        if extension_draws_live(execute_metadata()):
            live: LabLiveView | LiveView = LabLiveView(control=run, note=note)
        else:
            live = LiveView(control=run, note=note)
        handle = display(live.widget, display_id=True)
        try:
            ended = run.follow(live.add)
        finally:
            live.close()
    if ended.recorded:
        handle.update(static_bundle(ended.turn, session, outputs), raw=True)
    else:  # it failed before anything arrived: nothing to keep on screen
        handle.update({"text/plain": ""}, raw=True)
    return ended


class _BusyStatus:
    """Says "busy" again for this cell, every `every` seconds, until its answer ends.

    JupyterLab and Notebook 7 show the last status message they saw, whatever request it
    answered. While a cell runs, the page sends requests of its own on the control channel:
    `debug_request`s, and a `create_subshell_request` when the first widget comm opens
    (JupyterLab ≥ 4.4 sends widget messages on a subshell). The kernel answers each with
    busy then idle, so the indicator said "Idle" for the rest of the cell (measured: idle in
    80 of 80 samples; a plain `tqdm` loop opens no widget and stays "Busy"). The kernel is
    busy with this cell until its reply, so it says so, for this cell's request, from a
    timer rather than on events: the idle comes when the view opens, before the first token
    (it lasted about a second when only events re-announced).
    """

    def __init__(self, every: float = 0.2) -> None:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        publish = getattr(kernel, "_publish_status", None)
        self._publish = publish if kernel is not None and callable(publish) else None
        self._parent = kernel.get_parent("shell") if kernel is not None and publish else None
        self._every = every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _BusyStatus:
        if self._publish is not None:
            self._thread = threading.Thread(target=self._run, name="kimi-busy", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        assert self._publish is not None
        while not self._done.wait(self._every):
            self._publish("busy", "shell", self._parent)  # iopub sends are thread-safe


class Unattended:
    """Nobody can click Run here (a headless run, or no live view): skip, and say why."""

    def __init__(self, run: AnswerRun) -> None:
        self._run = run

    def add(self, event: RunEvent) -> None:
        if isinstance(event, ApprovalRequested):
            name = one_line(event.call.name, 60)
            sys.stderr.write(f"kimi: skipped {name}: it needs confirming, and a headless run "
                             "cannot ask (the widget or text view can)\n")  # fmt: skip
            self._run.answer(event.call.id, False)


def _show_final(ended: RunEnded, session: str, view: str, outputs: Outputs | None) -> None:
    if not ended.recorded:
        return
    if view == "widget":
        from IPython.display import display

        display(static_bundle(ended.turn, session, outputs), raw=True)
    else:
        TextView().finish(ended.turn)
