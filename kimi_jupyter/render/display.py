"""Show one answer live in the notebook (or terminal), then leave the static bundle behind."""

from __future__ import annotations

import sys

from kimi_jupyter.chat import Chat
from kimi_jupyter.conversation import Part
from kimi_jupyter.options import AskOptions
from kimi_jupyter.render.bundle import one_line, static_bundle
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
    if options.stream is False:  # nothing to watch: wait, then show the answer
        ended = run.follow(_Unattended(run).add)
        _show_final(ended, session, "widget" if view == "static" else view)
    elif view == "widget":
        ended = _follow_in_widget(run, session, note)
    elif view == "static":  # headless runs: no widgets at all, only what the notebook keeps
        ended = run.follow(_Unattended(run).add)
        _show_final(ended, session, "widget")
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


def _follow_in_widget(run: AnswerRun, session: str, note: str | None) -> RunEnded:
    from IPython.display import display

    from kimi_jupyter.render.widget import LiveView

    live = LiveView(control=run, note=note)
    handle = display(live.widget, display_id=True)
    try:
        ended = run.follow(live.add)
    finally:
        live.close()
    if ended.recorded:
        handle.update(static_bundle(ended.turn, session), raw=True)
    else:  # it failed before anything arrived: nothing to keep on screen
        handle.update({"text/plain": ""}, raw=True)
    return ended


class _Unattended:
    """Nobody can click Run here (a headless run, or no live view): skip, and say why."""

    def __init__(self, run: AnswerRun) -> None:
        self._run = run

    def add(self, event: RunEvent) -> None:
        if isinstance(event, ApprovalRequested):
            name = one_line(event.call.name, 60)
            sys.stderr.write(f"kimi: skipped {name}: it needs confirming, and a headless run "
                             "cannot ask (the widget or text view can)\n")  # fmt: skip
            self._run.answer(event.call.id, False)


def _show_final(ended: RunEnded, session: str, view: str) -> None:
    if not ended.recorded:
        return
    if view == "widget":
        from IPython.display import display

        display(static_bundle(ended.turn, session), raw=True)
    else:
        TextView().finish(ended.turn)
