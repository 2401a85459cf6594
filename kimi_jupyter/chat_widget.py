"""`ChatWidget`: a chat with Kimi in the notebook, from ipywidgets core widgets only (no custom
JavaScript: JupyterLab, Notebook 7, VS Code, Colab). ipywidgets is imported when one is made.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import inspect
import json
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimi_jupyter import commands
from kimi_jupyter.chat import Chat
from kimi_jupyter.context import describe
from kimi_jupyter.conversation import Exchange, Part, TextPart
from kimi_jupyter.errors import KimiError
from kimi_jupyter.options import AskOptions
from kimi_jupyter.render._frontend import shows_widgets
from kimi_jupyter.render.bundle import (
    TURN_MIME,
    static_html,
    thinking_summary,
    tool_text_html,
    turn_record,
)
from kimi_jupyter.render.display import Unattended
from kimi_jupyter.render.html import render_text
from kimi_jupyter.render.widget import LiveView
from kimi_jupyter.run import AnswerRun, ApprovalRequested, RunEnded, RunEvent
from kimi_jupyter.turn import Turn

_CSS = (
    "<style>.kimi-chat-user{background:var(--jp-layout-color2,#f2f2f2);border-radius:6px;"
    "padding:.3em .6em;margin:.8em 0 .3em}.kimi-chat-notice{color:#b35900}</style>"
)
# The saved transcript shown when the widget cannot be (a notebook reopened without a
# kernel): hidden while the live chat is on screen, else the widget's output (JupyterLab's
# widget renderer is the one output node without a data-mime-type: "Loading widget...",
# "model not found") is hidden instead. CSS only, as no script runs in an output.
_SAVED_CSS = (
    "<style>.jp-OutputArea:has(.kimi-chat.widget-box) .kimi-chat-saved,"
    "body:not(:has(.jp-OutputArea)):has(.kimi-chat.widget-box) .kimi-chat-saved{display:none}"
    ".jp-OutputArea:has(>.jp-OutputArea-child .kimi-chat-saved)>.jp-OutputArea-child"
    ":has(>.jp-OutputArea-output:not([data-mime-type])):not(:has(.kimi-chat)){display:none}"
    "</style>"
)
# The lab extension appends this on Enter: a value change, so it reaches the kernel after
# every keystroke before it (a Send click could overtake value updates still buffered).
SEND_MARK = "\u2063"  # INVISIBLE SEPARATOR
_PLACEHOLDER = "Message Kimi (Enter sends). Mention kernel objects with @: @df, @fig, @last"
# Made on first use where no frontend shows them (see `ChatWidget.__getattr__`).
_CONTROLS = frozenset({"picker", "transcript", "input", "enter_sends", "keys_handled",
                       "send_button", "stop_button", "refresh_button", "clear_button",
                       "export_path", "export_button", "status", "widget"})  # fmt: skip


class ChatWidget:
    """A chat with Kimi in the notebook: transcript, input, Send, Stop, sessions, Clear, Export.

    It shares the kernel's sessions with `%%kimi`, its live view and its sanitized static
    HTML. Mentions resolve in the kernel's namespace (and `@last`/`@error` through the
    kernel context's providers); each answer is an `AnswerRun` on its worker thread, with
    the live view as its listener, so Stop and other cells run meanwhile. `close()` leaves
    a static transcript behind.
    Every `@tool` function of the kernel is offered: each call shows as a panel, and a
    `@tool(confirm=True)` call waits for its Run / Skip buttons (Stop skips it).

    Enter sends and Shift+Enter starts a new line where the kimi-jupyter lab extension is
    loaded (JupyterLab, Notebook 7): it handles the keys (Enter appends `SEND_MARK`) and
    unticks the fallback below, or (better) ticks the hidden `keys_handled` box and honours
    "Enter sends", which then stays on screen.
    Elsewhere (VS Code, Colab) core widgets report the text, not the keys, so the fallback
    sends when the text gains a newline typed at the very end; a newline typed between
    lines stays. To write several lines there, untick "Enter sends" (Send always works).

    In a headless run (nbclient, papermill: `display.frontend_shows_widgets`), which would
    save the state of every widget model, it opens none: it shows the static transcript,
    which `send`, `refresh`, `clear` and `close` bring up to date, and a notice goes to
    stderr. Its controls are made on first use (`chat.input` makes them anywhere).
    """

    picker: Any
    transcript: Any
    input: Any
    enter_sends: Any
    keys_handled: Any
    send_button: Any
    stop_button: Any
    refresh_button: Any
    clear_button: Any
    export_path: Any
    export_button: Any
    status: Any
    widget: Any

    def __init__(self, session: str = "default", *, chat: Chat | None = None) -> None:
        self.chat = chat if chat is not None else Chat(session)
        self.session = session
        self._run: AnswerRun | None = None
        self._live: LiveView | None = None  # the streaming answer's view
        self._result: Turn | None = None
        self._shown: list[Exchange] | None = None  # None: the transcript must be rebuilt
        self._syncing = False
        self._display_id: str | None = None  # the widget, or the static transcript headless
        self._saved_id: str | None = None  # the static transcript shown beside the widget
        self._built = False
        if shows_widgets():
            self._build()

    if not TYPE_CHECKING:  # mypy sees the annotations above, so a misspelt name still fails

        def __getattr__(self, name: str) -> Any:
            if name in _CONTROLS and not self.__dict__.get("_built", True):
                self._build()
                return getattr(self, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build(self) -> None:
        """Make the widgets (each opens a comm) and show the session in them."""
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLMathStyle

        self._built = True
        self._layout, self._style = w.Layout(), HTMLMathStyle()  # shared by every entry
        self._html = functools.partial(w.HTMLMath, layout=self._layout, style=self._style)
        auto, self._full = w.Layout(width="auto"), w.Layout(width="100%")
        button = functools.partial(w.Button, layout=auto)
        self.picker = w.Dropdown(description="Session", layout=auto)
        self.transcript = w.VBox(layout=self._full)
        self.input = w.Textarea(placeholder=_PLACEHOLDER, rows=3, layout=self._full)
        self.input.add_class("kimi-chat-input")  # the lab extension's key handling finds these
        self.enter_sends = w.Checkbox(True, description="Enter sends", indent=False, layout=auto)
        self.enter_sends.add_class("kimi-chat-enter")
        # Ticked by a lab extension that handles Enter itself and honours "Enter sends":
        # then a newline typed at the end (Shift+Enter) is a newline, not a send.
        self.keys_handled = w.Checkbox(False, indent=False, layout=w.Layout(display="none"))
        self.keys_handled.add_class("kimi-chat-keys")
        self.send_button = button(description="Send", icon="paper-plane", button_style="primary")
        self.send_button.add_class("kimi-chat-send")
        self.stop_button = button(description="Stop", icon="stop", tooltip="Stop the answer")
        self.refresh_button = button(icon="refresh", tooltip="Reload sessions and transcript")
        self.clear_button = button(description="Clear", icon="trash", tooltip="Forget the turns")
        self.export_path = w.Text(placeholder="<session>.ipynb", layout=w.Layout(width="14em"))
        self.export_button = button(description="Export", icon="download", tooltip="Save .ipynb")
        self.status = w.HTML()
        self.widget = self._assemble(w)
        self._set_busy(self.busy)  # made while a headless answer runs: Send waits for it
        self.refresh()

    def _assemble(self, w: Any) -> Any:
        self.send_button.on_click(lambda _: self.send(wait=False))
        self.stop_button.on_click(lambda _: self.stop())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.clear_button.on_click(lambda _: self.clear())
        self.export_button.on_click(lambda _: self.export())
        self.input.observe(self._on_typing, names="value")
        self.picker.observe(self._on_pick, names="value")
        controls = w.HBox([self.send_button, self.stop_button, self.enter_sends,
                           self.clear_button, self.export_path, self.export_button,
                           self.keys_handled])  # fmt: skip
        header = w.HBox([self.picker, self.refresh_button, w.HTML(_CSS)])
        rows = [header, self.transcript, self.input, controls, self.status]
        root = w.VBox(rows, layout=self._full)
        root.add_class("kimi-chat")
        return root

    @property
    def busy(self) -> bool:
        return self._run is not None

    def send(self, text: str | None = None, *, wait: bool = True) -> Turn | None:
        """Send `text`, else the input box's text, as Send does. With `wait`, return the
        answer's turn once it ends (None if nothing was sent or nothing arrived)."""
        typed = (self.input.value if self._built else "") if text is None else text
        if not self._submit(typed, text is None) or not wait:
            return None
        self.wait()
        return self._result

    def stop(self) -> None:
        """Stop the streaming answer; the partial answer is kept, marked stopped. A tool call
        waiting for Run / Skip is skipped."""
        if (run := self._run) is not None:
            run.stop()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the streaming answer (if any) has ended; Ctrl-C / ■ stops it."""
        if (run := self._run) is not None:
            run.wait(timeout)  # Ctrl-C stops it; the partial answer is kept, as in `%%kimi`

    def refresh(self) -> None:
        """Re-read the kernel's sessions: the picker, and the transcript if the turns changed."""
        if not self._built:
            self._show_static()
            return
        self._syncing = True
        self.picker.options = list(dict.fromkeys([*self.chat.sessions.names(), self.session]))
        self.picker.value = self.session
        self._syncing = False
        exchanges, shown = self._exchanges(), self._shown
        if not self.busy and (shown is None or list(map(id, exchanges)) != list(map(id, shown))):
            self._rebuild(exchanges)

    def clear(self) -> None:
        """Forget the current session's turns (as `%kimi reset`) and empty the transcript."""
        if not self._command(commands.reset):
            return
        if self._built:
            self._rebuild([])
        else:
            self._show_static()

    def export(self, path: str | None = None) -> Path | None:
        """Write the session to a notebook (as `%kimi save`): `path`, the path box, or
        `<session>.ipynb`. Returns where it went (None on failure, with a notice)."""
        typed = self.export_path.value.strip() if self._built else ""
        name = path or typed or f"{self.session}.ipynb"
        target = Path(name).expanduser().resolve()
        return target if self._command(commands.save, str(target)) else None

    def _command(self, command: Callable[..., dict[str, str]], *args: str) -> bool:
        """Run a `%kimi` session command; its one line goes to the status line or a notice."""
        if self.busy:  # while an answer streams, only its worker thread edits the transcript
            return False
        try:
            line = command(self.chat.sessions, self.session, *args)["text/plain"]
        except (KimiError, OSError) as exc:
            self._notice(str(exc))
            return False
        self._status(line)
        return True

    def close(self) -> None:
        """Stop any answer, put a static transcript where the chat was shown (what a saved
        notebook keeps, readable without a kernel), and close every widget."""
        self.stop()
        self.wait()
        if self._display_id is not None:
            from IPython.display import update_display as update

            update(self._static_bundle(), raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]
        if self._saved_id is not None:  # the transcript above says it all now
            from IPython.display import update_display as update

            update({"text/plain": ""}, raw=True, display_id=self._saved_id)  # type: ignore[no-untyped-call]
            self._saved_id = None
        if self._built:
            _close_tree(self.widget)

    def _transcript_html(self) -> str:
        turns = "".join(_prompt_html(e.prompt.content) + _turn_html(e.turn)
                        for e in self._exchanges())  # fmt: skip
        return _CSS + turns

    def _static_bundle(self) -> dict[str, str]:
        """The transcript without widgets: shown headless, and where the chat was on `close`."""
        return {"text/html": f"<div class='kimi-chat'>{self._transcript_html()}</div>",
                "text/plain": f"Kimi chat, session {self.session!r}"}  # fmt: skip

    def _show_static(self) -> None:
        """Bring the transcript shown headless (instead of the widgets) up to date."""
        if self._display_id is None or self._built:
            return
        from IPython.display import update_display as update

        update(self._static_bundle(), raw=True, display_id=self._display_id)  # type: ignore[no-untyped-call]

    def _save_transcript(self) -> None:
        """Refresh the static transcript that stands in for the widget without a kernel."""
        if self._saved_id is None:
            return
        from IPython.display import update_display as update

        update(self._saved_bundle(), raw=True, display_id=self._saved_id)  # type: ignore[no-untyped-call]

    def _saved_bundle(self) -> dict[str, str]:
        page = f"<div class='kimi-chat-saved'>{_SAVED_CSS}{self._transcript_html()}</div>"
        return {"text/html": page, "text/plain": f"Kimi chat, session {self.session!r}"}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        show: Any = display  # untyped
        self._display_id = self._display_id or uuid.uuid4().hex  # so `close` can replace it
        if not self._widgets_shown():
            show(self._static_bundle(), raw=True, display_id=self._display_id)
            return
        self.refresh()
        show(self.widget, display_id=self._display_id)
        self._saved_id = self._saved_id or uuid.uuid4().hex
        show(self._saved_bundle(), raw=True, display_id=self._saved_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if not self._widgets_shown():
            return self._static_bundle()
        return self.widget._repr_mimebundle_(**kwargs)

    def _widgets_shown(self) -> bool:
        """Whether a display shows the widgets (made now where a frontend shows them) or,
        in a headless run, the static transcript (nbclient would save every widget model)."""
        if not self._built and shows_widgets():
            self._build()
        return self._built

    def _on_typing(self, change: Mapping[str, Any]) -> None:
        """Enter: the lab extension's send mark ends the text; elsewhere (the fallback) `new`
        is `old` plus typed text whose only newline is its last character."""
        old, new = str(change["old"]), str(change["new"])
        if new.endswith(SEND_MARK):
            text = new.replace(SEND_MARK, "")
            if self.busy or not self._submit(text, from_input=True):
                self.input.value = text  # nothing sent: the message stays, mark removed
            return
        added = new[len(old) :] if new.startswith(old) else ""
        enter = added.endswith("\n") and "\n" not in added[:-1]
        if enter and self.enter_sends.value and not self.keys_handled.value and not self.busy:
            self._submit(new[:-1], from_input=True)

    def _on_pick(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"] and change["new"] != self.session:
            self.session, self._shown = str(change["new"]), None
            self.refresh()

    def _submit(self, text: str, from_input: bool) -> bool:
        import ipywidgets as w

        text, restore = text.strip(), (text.strip() if from_input else None)
        if not text or self.busy:
            return False
        self.refresh()  # turns that `%%kimi` cells added since
        try:
            context = self.chat.context.gather(text, _user_namespace())
        except KimiError as exc:
            self._notice(str(exc), restore)
            return False
        run = AnswerRun(self.chat, text, *context.parts, session=self.session,
                        options=AskOptions(tools=True))  # fmt: skip
        if not self._built:  # headless: nobody can click Run, the transcript shows the end
            self._run, self._result = run, None
            run.start(Unattended(run).add, self._ended_unseen)
            return True
        if from_input:
            self.input.value = ""
        self._status(context.note or "")
        live = LiveView(control=run, note=context.note)
        live.stop_button.layout.display = "none"  # the chat's own Stop stops it
        prompt = self._html(_prompt_html([TextPart(text), *context.parts]))
        entry = w.VBox([prompt, live.widget], layout=self._layout)
        self.transcript.children = (*self.transcript.children, entry)
        self._run, self._live, self._result = run, live, None
        self._set_busy(True)
        run.start(functools.partial(self._listen, live),
                  functools.partial(self._ended, entry, live, restore))  # fmt: skip
        return True

    def _listen(self, live: LiveView, event: RunEvent) -> None:
        """The live view's events; a call waiting for Run / Skip also shows what the tool
        does (its docstring) and its arguments, one per row."""
        live.add(event)
        if isinstance(event, ApprovalRequested):
            panel = live.tools.panels.get(event.call.id)
            found = self.chat.context.tools.get(event.call.name)
            doc = (inspect.getdoc(found.func) or found.schema.description) if found else ""
            if panel is not None:
                panel.arguments.value = confirm_html(doc or "", event.call.arguments)

    def _ended(self, entry: Any, live: LiveView, restore: str | None, event: RunEvent) -> None:
        """On the run's thread, at its end: the static answer takes the live view's place."""
        if not isinstance(event, RunEnded):
            return
        if event.recorded:
            entry.children = (entry.children[0], self._answer(event.turn))
            recorded = [e for e in self._exchanges() if e.turn is event.turn]
            self._shown = None if self._shown is None else [*self._shown, *recorded]
            self._save_transcript()
        else:  # nothing arrived: the session is unchanged, and so is the transcript
            self.transcript.children = [c for c in self.transcript.children if c is not entry]
            _close_tree(entry, keep=(self._layout, self._style))
        live.close()
        if event.error is not None:
            self._notice(str(event.error), restore)
        self._result = event.turn if event.recorded else None
        self._run = self._live = None
        self._set_busy(False)

    def _ended_unseen(self, event: RunEvent) -> None:
        """On the run's thread, at the end of an answer sent without widgets."""
        if not isinstance(event, RunEnded):
            return
        if event.error is not None:
            self._notice(str(event.error))
        self._result = event.turn if event.recorded else None
        self._run = None
        self.refresh()

    def _exchanges(self) -> list[Exchange]:
        return list(self.chat.sessions.get(self.session).exchanges)

    def _rebuild(self, exchanges: list[Exchange]) -> None:
        old, self._shown = self.transcript.children, exchanges
        self.transcript.children = [
            self._answer(e.turn, _prompt_html(e.prompt.content)) for e in exchanges
        ]
        for child in old:
            _close_tree(child, keep=(self._layout, self._style))
        self._save_transcript()

    def _answer(self, turn: Turn, prompt: str | None = None) -> Any:
        """A finished answer (after its prompt, if given) as the turn's static bundle in an
        Output: the lab extension renders its turn record with Copy and Insert buttons,
        other frontends its HTML (thinking above the answer, folded)."""
        import ipywidgets as w

        asked = {"text/html": _CSS + prompt, "text/plain": ""} if prompt else None
        shown = [{"output_type": "display_data", "metadata": {}, "data": asked}] if asked else []
        bundle = {"text/html": _turn_html(turn), "text/plain": turn.answer,
                  TURN_MIME: turn_record(turn, self.session)}  # fmt: skip
        shown.append({"output_type": "display_data", "metadata": {}, "data": bundle})
        answer = w.Output(layout=self._layout)
        answer.outputs = tuple(shown)
        answer.add_class("kimi-chat-answer")
        return answer

    def _notice(self, message: str, restore: str | None = None) -> None:
        line = " ".join(message.split())
        if not self._built:  # no transcript widget to show it in
            sys.stderr.write(f"kimi: {line}\n")
            return
        notice = self._html(f"<div class='kimi-chat-notice'>⚠ {html.escape(line)}</div>")
        self.transcript.children = (*self.transcript.children, notice)
        if restore is not None:  # the unsent message goes back, before anything typed since
            current = self.input.value.strip()
            self.input.value = restore if current in ("", restore) else f"{restore}\n{current}"

    def _status(self, text: str) -> None:
        if self._built:
            self.status.value = f"<small>{html.escape(text)}</small>"

    def _set_busy(self, busy: bool) -> None:
        for control in (self.send_button, self.picker, self.refresh_button, self.clear_button,
                        self.export_button):  # fmt: skip
            control.disabled = busy
        self.stop_button.disabled = not busy


def _prompt_html(content: str | Sequence[Part]) -> str:
    """The user's message as escaped text, with a line for each object it mentioned."""
    parts = [TextPart(content)] if isinstance(content, str) else list(content)
    head = parts[0] if parts else None
    text = head.text if isinstance(head, TextPart) else ""
    extras = "".join(f"<br>+ {html.escape(describe(p))}" for p in parts if p is not head)
    return f"<div class='kimi-chat-user'>{render_text(text)}<small>{extras}</small></div>"


def _turn_html(turn: Turn) -> str:
    """`static_html` with the thinking folded above the answer, as in the live view."""
    page = static_html(dataclasses.replace(turn, reasoning=""))
    if not turn.reasoning:
        return page
    tokens = turn.usage.reasoning_tokens if turn.usage else None
    summary = html.escape(thinking_summary(turn.timings.reasoning, tokens))
    body = f"<div class='kimi-thinking'>{render_text(turn.reasoning)}</div>"
    thinking = f"<details class='kimi-chat-thinking'><summary>{summary}</summary>{body}</details>"
    at = page.index("</style>") + len("</style>")  # inside the turn's div, so its CSS applies
    return page[:at] + thinking + page[at:]


def confirm_html(doc: str, arguments: str) -> str:
    """What a tool does and the arguments it would get, escaped: a name and a value a row."""
    try:
        values = json.loads(arguments)
    except ValueError:
        values = None
    if not isinstance(values, dict):
        rows = tool_text_html("Arguments", arguments)
    else:
        cells = "".join(
            f"<tr><th style='text-align:left;vertical-align:top;padding-right:1em'>"
            f"{html.escape(str(k))}</th><td><pre class='kimi-tool-text'>"
            f"{html.escape(v if isinstance(v, str) else json.dumps(v, indent=2))}</pre></td></tr>"
            for k, v in values.items()
        )
        rows = f"<div class='kimi-tool-label'>Arguments</div><table>{cells}</table>"
    said = f"<div class='kimi-tool-doc' style='white-space:pre-wrap'>{html.escape(doc)}</div>"
    return (said if doc else "") + rows


def _user_namespace() -> Mapping[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _close_tree(widget: Any, keep: tuple[Any, ...] = ()) -> None:
    """Close a widget, its children, and the Layout/Style widgets it does not share."""
    for child in getattr(widget, "children", ()):
        _close_tree(child, keep)
    for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None and not any(part is k for k in keep):
            part.close()
