"""`%kimi map` / `%%kimi map`: the line parser and the call into the map."""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING, Any, NoReturn

from kimi_jupyter.errors import KimiError
from kimi_jupyter.structured import schema_shape

from ._run import _map
from ._table import _shape

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat

    from ._report import MapReport

__all__ = ["map_magic"]


class _MagicParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise KimiError(f"%kimi map: {message}")


def _magic_parser() -> argparse.ArgumentParser:
    parser = _MagicParser(prog="%kimi map", add_help=False)
    parser.add_argument("df")
    parser.add_argument("template", nargs="?")
    parser.add_argument("--column", default="answer")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--schema")
    parser.add_argument("--retry-failed", action="store_true")
    parser.add_argument("--no-thinking", action="store_true")
    parser.add_argument("--max-tokens", type=int)
    return parser


def map_magic(
    shell: Any, line: str, cell: str | None, chat: Chat, *, view: str | None = None
) -> MapReport:
    """`%kimi map DF "template {col}" [options]`, or `%%kimi map DF [options]` + template.

    `line` is the text after `map`; DF and `--schema NAME` are looked up in
    `shell.user_ns`. `view` is "widget", "text", "none" or None (pick). Bad input raises
    a one-line `KimiError`.
    """
    try:
        args = _magic_parser().parse_args(shlex.split(line))
    except ValueError as exc:  # shlex: an unclosed quote
        raise KimiError(f"%kimi map: {exc} in {line!r}") from None
    if cell is not None and args.template is not None:
        raise KimiError("%%kimi map: the template is the cell body, not part of the first line")
    template = cell.strip() if cell is not None else args.template
    if not template:
        raise KimiError('usage: %kimi map DF "template with {column}" [--column C] '
                        "[--concurrency N] [--json] [--schema NAME] [--retry-failed]")  # fmt: skip
    namespace = shell.user_ns if shell is not None else {}
    if args.df not in namespace:
        raise KimiError(f"%kimi map: there is no variable {args.df!r}")
    shape = schema_shape(args.schema, namespace) if args.schema else _shape(args.json, None)
    options = {"thinking": False if args.no_thinking else None,
               "max_completion_tokens": args.max_tokens}  # fmt: skip
    return _map(chat, template, namespace[args.df], shape, column=args.column,
                concurrency=args.concurrency, retry_failed=args.retry_failed, view=view,
                prices=None, options=options)  # fmt: skip
