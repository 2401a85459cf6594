"""`%%kimi` and `%kimi`: parse, build the prompt, call `Chat`, show the answer.

The magic talks no HTTP and renders nothing itself: `Chat` does the first, the views in
`render/` the second. `KimiError`s become one-line `UsageError`s.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Enum, Int, Unicode, default

# Only what the magic class itself needs is imported here: `%load_ext` stays fast, and the
# HTTP client, Markdown renderer, converters and views load with the first question.
from kimi_jupyter import _comm
from kimi_jupyter._magic_line import shell_words, split_options
from kimi_jupyter.capture import CellCapture
from kimi_jupyter.errors import KimiError
from kimi_jupyter.kernel import KernelContext

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat
    from kimi_jupyter.conversation import Part
    from kimi_jupyter.options import AskOptions
    from kimi_jupyter.structured import Shape
    from kimi_jupyter.tools import Tool
    from kimi_jupyter.turn import Turn


def _display_object(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def _parts_of(parts: Any) -> Any:
    from kimi_jupyter.prompting import PartsOf

    return PartsOf(parts)


_FIX_PROMPT = (
    "This cell raised an error. Explain the cause in one or two sentences, then give the "
    "corrected code. @error"
)


@magics_class
class KimiMagics(Magics):
    """Ask Kimi-K2.6 from a cell. Settings here beat KIMI_* environment variables."""

    model = Unicode(None, allow_none=True, help="Model; default $KIMI_MODEL").tag(config=True)
    base_url = Unicode(None, allow_none=True, help="Default $KIMI_BASE_URL").tag(config=True)
    session = Unicode("default", help="Session used when a cell names none").tag(config=True)
    thinking = Bool(True, help="Let the model think before answering").tag(config=True)
    max_tokens = Int(None, allow_none=True, help="Default max_completion_tokens").tag(config=True)
    view = Enum(
        ["auto", "widget", "text", "static"],
        help="widget, text, static (only the saved output, for papermill) or auto; "
        "default $KIMI_VIEW, else auto",
    ).tag(config=True)

    @default("view")
    def _default_view(self) -> str:
        wanted = os.environ.get("KIMI_VIEW", "auto")
        return wanted if wanted in ("auto", "widget", "text", "static") else "auto"

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._chat: Chat | None = None
        self._chat_settings: dict[str, Any] = {}
        self.capture = CellCapture()
        if shell is not None and hasattr(shell, "display_pub"):
            self.capture.install(shell)
        # One context per kernel: a reloaded extension keeps the sessions, serves `@last`
        # from its own capture.
        self.context = KernelContext.current()
        self.context.providers.update(self._providers())
        if shell is not None:  # the JupyterLab chat panel's comm target, in a kernel only
            _comm.register(shell, self._get_chat, self._panel_parts)

    @magic_arguments()
    @argument("-s", "--session", help="Named session (default: 'default')")
    @argument("--new", action="store_true", help="Start the session afresh")
    @argument("--system", help="System prompt for the session")
    @argument("--no-thinking", action="store_true", help="Answer without thinking")
    @argument(
        "--keep-thinking",
        action="store_true",
        help="Replay all earlier thinking (thinking.keep='all')",
    )
    @argument("--max-tokens", type=int, help="max_completion_tokens (thinking counts too)")
    @argument(
        "--temperature",
        type=float,
        help="Sampling temperature (kimi-k2.6 allows only its fixed value)",
    )
    @argument(
        "--top-p", type=float, help="Nucleus sampling (kimi-k2.6 allows only its fixed value)"
    )
    @argument("--stop", action="append", help="Stop sequence (repeatable, at most 5)")
    @argument("--model", help="Model for this cell")
    @argument("--no-stream", action="store_true", help="Wait for the whole answer")
    @argument(
        "--json", action="store_true", help="Ask for a JSON object; it becomes the cell's result"
    )
    @argument("--schema", help="Name of a dict or pydantic model: the JSON schema of the answer")
    @argument(
        "--tools",
        nargs="*",
        help="@tool functions the model may call (names; none given: every registered one)",
    )
    @argument("--web-search", action="store_true", help="Let Kimi search the web ($web_search)")
    @argument("--max-steps", type=int, help="Most requests one answer may take with tools")
    @argument("--code", action="store_true", help="Ask for code and insert it as the next cell")
    @argument("-o", "--out", help="Store the answer in this variable")
    @argument("--dry-run", action="store_true", help="Show what would be sent; send nothing")
    @argument(
        "--agent",
        action="store_true",
        help="Let Kimi run code in this kernel (run_code), each run after your Run / Skip / Edit",
    )
    @argument("--auto", action="store_true", help="With --agent: run every step without asking")
    @argument("question", nargs="*", help="The question (with %%%%kimi: the cell body)")
    @no_var_expand
    @line_cell_magic
    def kimi(self, line: str, cell: str | None = None) -> Any:
        """Ask Kimi. `%%kimi [options]` + question, or `%kimi [options] question`."""
        if line.split(maxsplit=1)[:1] == ["map"]:  # `%kimi map …` / `%%kimi map …`
            return self._map(line, cell)
        if cell is None:  # `%kimi [options] free text`: the text may hold quotes (doesn't)
            words, prompt = split_options(self.kimi.parser, line)
            args = self.kimi.parser.parse_args(words)
            args.question = prompt.split()
        else:
            args = self.kimi.parser.parse_args(shell_words(line))
            prompt = cell
        if cell is not None and args.question:
            raise UsageError(
                f"%%kimi: unexpected text after the options: {' '.join(args.question)!r}"
            )
        if cell is None and args.question and args.question[0] in SUBCOMMANDS:
            rest = shell_words(prompt)[1:]  # `%kimi history "my session"`: quotes group words
            return self._command(SUBCOMMANDS[args.question[0]], rest, args)
        if not prompt.strip():
            raise UsageError("%%kimi: write the question in the cell (or after %kimi)")
        return self._ask(prompt.strip(), args)

    def _ask(self, prompt: str, args: Any) -> Any:
        from dataclasses import replace

        from kimi_jupyter.render.display import show_turn
        from kimi_jupyter.render.dryrun import dry_run_bundle
        from kimi_jupyter.structured import CODE_INSTRUCTION, check_variable_name

        name = args.session or self.session
        namespace = self.shell.user_ns if self.shell is not None else {}
        if args.auto and not args.agent:
            raise UsageError("%%kimi: --auto only goes with --agent (it runs every step unasked)")
        try:
            chat = self._get_chat()
            # Everything that can fail on bad input happens before the session is touched.
            shape = self._shape(args, namespace)
            out = check_variable_name(args.out) if args.out else None
            context = self.context.gather(prompt, namespace)
            options = replace(self._options(args), response_format=shape.response_format)
            text = prompt + shape.instruction + (CODE_INSTRUCTION if args.code else "")
            if args.dry_run:
                if args.agent:  # what the model would get: run_code too
                    options = self._agent_options(chat, options, args)
                message, payload = chat.preview(text, *context.parts, session=name,
                                                options=options)  # fmt: skip
                _display(dry_run_bundle(message, payload, note=context.note))
                return None
            if args.new:
                chat.sessions.new(name, system=args.system)
            elif args.system is not None:
                chat.sessions.get(name, system=args.system)
            if args.agent:
                turn = self._agent(chat, text, context.parts, name, options, args, context.note)
                return self._result(turn, shape, out, args, namespace)
            turn = show_turn(chat, text, *context.parts, session=name, cell_id=self._cell_id(),
                             view=self._view(), options=options, note=context.note)  # fmt: skip
            return self._result(turn, shape, out, args, namespace)
        except KimiError as exc:
            raise UsageError(str(exc)) from None

    @staticmethod
    def _agent_cap(args: Any) -> int:
        from kimi_jupyter.agent.modes import DEFAULT_CAP

        return DEFAULT_CAP if args.max_steps is None else min(args.max_steps, DEFAULT_CAP)

    def _agent_options(self, chat: Chat, options: AskOptions, args: Any) -> AskOptions:
        from kimi_jupyter.agent.cell import agent_options, previewed_tool

        return agent_options(chat, options, previewed_tool(), self._agent_cap(args))

    def _agent(self, chat: Chat, text: str, parts: list[Part], session: str,
               options: AskOptions, args: Any, note: str | None) -> Turn:  # fmt: skip
        """`--agent`: the answer with `run_code`, each run in this kernel on this thread."""
        from kimi_jupyter.agent.cell import CellAgent

        if self.shell is None:
            raise KimiError("--agent runs code in a kernel: use it in IPython or Jupyter")
        cap = self._agent_cap(args)
        agent = CellAgent(chat, text, *parts, shell=self.shell, auto=args.auto, cap=cap,
                          session=session, cell_id=self._cell_id(), options=options)  # fmt: skip
        from kimi_jupyter.render.display import follow_run

        return follow_run(agent.run, session, self._view(), note=note, outputs=agent.outputs)

    def _shape(self, args: Any, namespace: dict[str, Any]) -> Shape:
        from kimi_jupyter.structured import Shape, json_shape, schema_shape

        if args.schema:
            return schema_shape(args.schema, namespace)
        return json_shape() if args.json else Shape()

    def _result(
        self, turn: Turn, shape: Shape, out: str | None, args: Any, namespace: dict[str, Any]
    ) -> Any:
        """`--json`/`--schema`: the parsed value is the cell's result; `-o` stores it."""
        from kimi_jupyter.structured import first_code_block

        if args.code:
            from kimi_jupyter.terminal import bidi_notice, strip_bidi

            code = first_code_block(turn.answer)
            if code is None:
                raise KimiError("--code: the answer has no code block")
            code, removed = strip_bidi(code)
            if removed:  # invisible direction changes would make the cell read differently
                sys.stderr.write(bidi_notice(removed) + "\n")
            if self.shell is not None:
                self.shell.set_next_input(code, replace=False)  # a new cell below, in Jupyter
            value: Any = code
        else:
            value = shape.parse(turn.answer) if turn.status == "done" else turn.answer
        if out is not None:
            namespace[out] = value
        return value if shape.response_format is not None and out is None else None

    def _command(self, command: Subcommand, rest: list[str], args: Any) -> Any:
        """`%kimi NAME …`: one of `SUBCOMMANDS` (`%kimi?` lists them)."""
        session = args.session or (rest[0] if rest and command.takes_session else self.session)
        try:
            result = command.run(self, session, rest, args)
        except KimiError as exc:
            raise UsageError(str(exc)) from None
        if isinstance(result, dict):
            _display(result)
            return None
        return result

    def _open_chat(self, session: str) -> None:
        """`%kimi chat [SESSION]`: the chat widget, on this kernel's sessions and settings."""
        from kimi_jupyter.chat import Chat
        from kimi_jupyter.chat_widget import ChatWidget

        self._get_chat()  # brings `_chat_settings` up to date with the traitlets
        chat = Chat(session, context=self.context, **self._chat_settings)
        _display_object(ChatWidget(session, chat=chat))

    def _retry(self, session_name: str, args: Any) -> Any:
        from kimi_jupyter.render.display import show_turn

        session = self._get_chat().sessions.get(session_name)
        with session.lock:
            if not session.exchanges:
                raise KimiError(f"session {session_name!r} has nothing to retry")
            last = session.exchanges.pop()
        content = last.prompt.content
        prompt = content if isinstance(content, str) else getattr(content[0], "text", "")
        parts = () if isinstance(content, str) else content[1:]
        count = len(session.exchanges)
        try:
            show_turn(self._get_chat(), prompt, *parts, session=session_name, view=self._view(),
                      options=self._options(args))  # fmt: skip
        except KimiError:
            if len(session.exchanges) == count:  # nothing arrived: put the old turn back
                session.record(last)
            raise
        return None

    def _map(self, line: str, cell: str | None) -> None:
        """`%kimi map DF "template {col}" …` / `%%kimi map DF …`: the progress view ends in
        the summary, so the report is not the cell's result (`Chat.map` returns it)."""
        from kimi_jupyter.batch import map_magic

        view = self._view()
        view = "text" if view == "static" else view  # the progress line: no widget state
        rest = line.strip().removeprefix("map").strip()
        try:
            map_magic(self.shell, rest, cell, self._get_chat(), view=view)
        except KimiError as exc:
            raise UsageError(str(exc)) from None

    def _options(self, args: Any) -> AskOptions:
        """The cell's flags (and this magic's traitlets) as the one options type."""
        from kimi_jupyter.options import AskOptions

        return AskOptions(
            thinking=self.thinking and not args.no_thinking,
            keep_thinking=args.keep_thinking,
            max_completion_tokens=args.max_tokens or self.max_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            stop=args.stop,
            model=args.model,
            stream=not args.no_stream,
            tools=self._offered_tools(args),
            web_search=True if args.web_search else None,
            max_steps=args.max_steps,
        )

    def _offered_tools(self, args: Any) -> Any:
        """`--tools f g` (or `f,g`; bare: every registered tool); None when not given."""
        if args.tools is None:
            return None
        names = [n for word in args.tools for n in word.split(",") if n]
        return [self._tool(n) for n in names] if names else True

    def _tool(self, name: str) -> Tool:
        from kimi_jupyter.tools import Tool

        known = self.context.tools.get(name)
        if known is not None:
            return known
        found = (self.shell.user_ns if self.shell is not None else {}).get(name)
        attached = getattr(found, "__kimi_tool__", None)
        if isinstance(attached, Tool):
            return attached
        if callable(found):
            raise KimiError(f"--tools: {name} is not a tool yet; decorate it with @tool")
        return self.context.tools.resolve([name])[0]  # raises: lists the registered ones

    def _panel_parts(self, prompt: str) -> list[Part]:
        namespace = self.shell.user_ns if self.shell is not None else {}
        return self.context.gather(prompt, namespace).parts

    def _providers(self) -> dict[str, Callable[[], Any]]:
        """`@last` and `@error`, served from this magic's capture (converters load on use)."""
        return {
            "last": self.capture.last_mention,
            "error": lambda: _parts_of(self.capture.error_parts()),
        }

    def _get_chat(self) -> Chat:
        from kimi_jupyter.chat import Chat

        explicit: dict[str, Any] = {
            name: value
            for name, value in (("model", self.model), ("base_url", self.base_url))
            if value
        }
        if self._chat is None or self._chat_settings != explicit:
            chat = Chat(self.session, context=self.context, **explicit)
            self._chat, self._chat_settings = chat, explicit
        return self._chat

    def _view(self) -> str:
        """`auto`: widgets where a frontend shows them, only the saved output in a headless
        run (nbclient, papermill: see `display.frontend_shows_widgets`), text in a terminal."""
        if self.view != "auto":
            return str(self.view)
        if getattr(self.shell, "kernel", None) is None:
            return "text"
        from kimi_jupyter.render.display import frontend_shows_widgets

        return "widget" if frontend_shows_widgets(self._cell_id()) else "static"

    def _cell_id(self) -> str | None:
        from kimi_jupyter.render._frontend import current_cell_id

        return current_cell_id()


@dataclass(frozen=True)
class Subcommand:
    """One `%kimi NAME …` command: what it runs, and whether its first word is a session."""

    run: Callable[[KimiMagics, str, list[str], Any], Any]
    takes_session: bool = False
    help: str = ""


def _session_command(
    pick: Callable[[Any], Callable[..., Any]],
) -> Callable[[KimiMagics, str, list[str], Any], Any]:
    """A command of `commands.py` that takes (sessions, session); imported when it runs."""

    def run(magics: KimiMagics, session: str, _rest: list[str], _args: Any) -> Any:
        from kimi_jupyter import commands

        return pick(commands)(magics._get_chat().sessions, session)

    return run


def _file_command(name: str) -> Callable[[KimiMagics, str, list[str], Any], Any]:
    def run(magics: KimiMagics, session: str, rest: list[str], _args: Any) -> Any:
        from kimi_jupyter import commands

        if len(rest) != 1:
            raise KimiError(f"usage: %kimi {name} PATH.ipynb [-s SESSION]")
        command = commands.save if name == "save" else commands.load
        return command(magics._get_chat().sessions, session, rest[0])

    return run


def _version(_m: KimiMagics, _s: str, _r: list[str], _a: Any) -> str:
    from kimi_jupyter._meta import __version__

    return __version__


def _list_sessions(magics: KimiMagics, _s: str, _r: list[str], _a: Any) -> Any:
    from kimi_jupyter import commands

    return commands.list_sessions(magics._get_chat().sessions)


def _usage(magics: KimiMagics, _s: str, _r: list[str], _a: Any) -> Any:
    from kimi_jupyter import commands

    return commands.usage(magics._get_chat().sessions)


def _tools(magics: KimiMagics, _s: str, _r: list[str], _a: Any) -> Any:
    from kimi_jupyter import commands

    return commands.list_tools(magics.context.tools)


SUBCOMMANDS: dict[str, Subcommand] = {
    "reset": Subcommand(_session_command(lambda c: c.reset), True, "forget a session's turns"),
    "undo": Subcommand(_session_command(lambda c: c.undo), True, "drop the last turn"),
    "history": Subcommand(_session_command(lambda c: c.history), True, "list a session's turns"),
    "chat": Subcommand(lambda m, s, _r, _a: m._open_chat(s), True, "open the chat widget"),
    "retry": Subcommand(lambda m, s, _r, a: m._retry(s, a), False, "ask the last question again"),
    "fix": Subcommand(lambda m, _s, _r, a: m._ask(_FIX_PROMPT, a), False, "explain the last error"),
    "sessions": Subcommand(_list_sessions, False, "list the sessions"),
    "usage": Subcommand(_usage, False, "tokens used, per session"),
    "save": Subcommand(_file_command("save"), False, "save a session as PATH.ipynb"),
    "load": Subcommand(_file_command("load"), False, "rebuild a session from PATH.ipynb"),
    "tools": Subcommand(_tools, False, "list the @tool functions"),
    "version": Subcommand(_version, False, "kimi-jupyter's version"),
    "map": Subcommand(lambda m, _s, _r, _a: None, False, 'DF "TEMPLATE {col}": ask once per row'),
}
"""`%kimi NAME`: the subcommands, in the order `%kimi?` lists them (`map` is parsed apart)."""


def _subcommand_help() -> str:
    """The subcommand listing at the end of `%kimi?`, made from `SUBCOMMANDS` so it cannot drift."""
    usage = {
        name: name + (" [SESSION]" if c.takes_session else "") for name, c in SUBCOMMANDS.items()
    }
    width = max(map(len, usage.values()))
    rows = [f"  {usage[name]:<{width}}  {c.help}" for name, c in SUBCOMMANDS.items()]
    return "\nsubcommands (`%kimi NAME ...`; any other text is a question):\n" + "\n".join(rows)


# `magic_arguments` wrote the options into the docstring; the subcommands follow them.
KimiMagics.kimi.__doc__ = (KimiMagics.kimi.__doc__ or "") + _subcommand_help() + "\n"
