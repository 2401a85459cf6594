"""Reading a `%kimi` line: leading options (values may be quoted) and the free text after them."""

from __future__ import annotations

import io
import re
import shlex
from typing import Any

from IPython.core.error import UsageError

_OPTION = re.compile(r"(?P<option>--?[A-Za-z][\w-]*)(?:(?P<equals>=)|\s+|$)")
_QUESTION = re.compile(r"^%kimi\s+(?P<text>.*\S)\s*$")


def shell_words(text: str) -> list[str]:
    """POSIX splitting, so `--system "Be terse."` loses its quotes."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"%kimi: {exc} in {text!r}") from None


def split_options(parser: Any, line: str) -> tuple[list[str], str]:
    """Leading options (values may be quoted) and the free text after them, left as typed."""
    words: list[str] = []
    rest = line.strip()
    while match := _OPTION.match(rest):
        option, rest = match["option"], rest[match.end() :]
        words.append(option)
        action = parser._option_string_actions.get(option)
        if match["equals"] or (action is not None and action.nargs != 0):
            value, rest = _first_word(rest, line)
            words.append(value)
        rest = rest.lstrip()
    return words, rest


def _first_word(text: str, line: str) -> tuple[str, str]:
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    try:
        word = lexer.get_token() or ""
    except ValueError as exc:
        raise UsageError(f"%kimi: {exc} in {line!r}") from None
    return word, text[stream.tell() :]


def protect_questions(lines: list[str]) -> list[str]:
    """Input transformer: `%kimi why is this?` is a question, not IPython's `obj?` help.

    Runs before IPython's help syntax; `%kimi?` alone still shows the magic's help.
    """
    out = []
    for line in lines:
        match = _QUESTION.match(line)
        if match and match["text"].endswith("?"):
            ending = "\n" if line.endswith("\n") else ""
            line = f"get_ipython().run_line_magic('kimi', {match['text']!r}){ending}"
        out.append(line)
    return out
