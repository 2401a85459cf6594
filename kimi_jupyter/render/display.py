"""Show one answer live in the notebook (or terminal), then leave the static bundle behind."""

from __future__ import annotations

import sys
from typing import Any

from kimi_jupyter.chat import Chat, ChatStream
from kimi_jupyter.client import RetryNotice
from kimi_jupyter.conversation import Part
from kimi_jupyter.errors import StreamError
from kimi_jupyter.events import ToolCall
from kimi_jupyter.render.bundle import one_line, static_bundle
from kimi_jupyter.render.text import TextView
from kimi_jupyter.turn import Turn


def show_turn(
    chat: Chat,
    prompt: str,
    *objects: Part | str,
    session: str,
    view: str,
    cell_id: str | None = None,
    options: dict[str, Any] | None = None,
    note: str | None = None,
) -> Turn:
    """Stream the answer into a live view; on any ending, replace it with the saved output.

    Ctrl-C or Stop keeps the partial answer (marked stopped); a broken stream keeps it too,
    with a notice, and then re-raises so the caller can say what happened in one line.
    Tool calls that need confirming are asked in the view: Run / Skip buttons, a terminal
    prompt, or (headless, where nobody can answer) skipped with a line on stderr.
    """
    opts = dict(options or {})
    if not opts.pop("stream", True):
        turn = chat.ask(prompt, *objects, session=session, cell_id=cell_id, stream=False, **opts)
        _show_final(turn, session, view)
        return turn
    stream = chat.stream(prompt, *objects, session=session, cell_id=cell_id, **opts)
    if view == "widget":
        return _show_widget(chat, stream, session, note)
    if view == "static":  # headless runs: no widgets at all, only what the notebook keeps
        stream.confirm = _skip_unattended
        failure = _pump(chat, stream, lambda _event: None, lambda _text: None)
        _show_final(stream.turn, session, "widget")
        if failure is not None:
            raise failure
        return stream.turn
    text = TextView()
    stream.confirm = text.confirm
    if note:
        text.notify(note)
    failure = _pump(chat, stream, text.add, text.notify)
    text.finish(stream.turn)
    if failure is not None:
        raise failure
    return stream.turn


def _show_widget(chat: Chat, stream: ChatStream, session: str, note: str | None) -> Turn:
    from IPython.display import display

    from kimi_jupyter.render.widget import LiveView

    live = LiveView(on_stop=stream.close, note=note)
    stream.confirm = live.confirm
    handle = display(live.widget, display_id=True)
    failure: BaseException | None = None
    try:
        failure = _pump(chat, stream, live.add, live.notify)
    except BaseException:  # an error before the first byte: nothing to keep on screen
        handle.update({"text/plain": ""}, raw=True)
        live.close()
        raise
    live.finish(stream.turn.status)
    handle.update(static_bundle(stream.turn, session), raw=True)
    live.close()
    if failure is not None:
        raise failure
    return stream.turn


def _pump(chat: Chat, stream: ChatStream, add: Any, notify: Any) -> StreamError | None:
    """Feed events to a view; returns the stream error to raise once the view is final."""

    def on_retry(notice: RetryNotice) -> None:
        notify(f"retrying in {notice.delay:.1f} s: {notice.error}")

    chat.on_retry = on_retry
    try:
        for event in stream:
            add(event)
    except KeyboardInterrupt:
        pass  # the stream has recorded the partial answer as stopped
    except StreamError as exc:
        return exc
    finally:
        chat.on_retry = None
    return None


def _skip_unattended(call: ToolCall) -> bool:
    """Nobody can click Run in a headless run: skip the call, and say why where it shows."""
    name = one_line(call.name, 60)
    sys.stderr.write(f"kimi: skipped {name}: it needs confirming, and a headless run cannot"
                     " ask (the widget or text view can)\n")  # fmt: skip
    return False


def _show_final(turn: Turn, session: str, view: str) -> None:
    if view == "widget":
        from IPython.display import display

        display(static_bundle(turn, session), raw=True)
    else:
        TextView().finish(turn)
