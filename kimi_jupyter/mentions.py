"""`@` mentions in a prompt: find them, and resolve them in a namespace without running code.

Grammar: `@name`, then any of `.attr`, `["key"]`, `['key']`, `[0]`, `[-1]`. So `@df`,
`@df.T`, `@results["auc"]`, `@Out[3]`, `@In[3]` and `@_` all work; `@last` and `@error`
are answered by providers the caller passes in. Only attribute and item access happen (never
a call). An `@word` whose name is not defined (an e-mail address, a decorator in a code
question) stays plain text; a defined name whose attribute or item is missing, or whose
access raises anything at all, is a one-line `MentionError` naming the mention.

`@In[n]` is cell n; negative indices count back over the code cells that are not questions
(`%%kimi`/`%kimi`, as `@last` does), so `@In[-1]` is never the asking cell itself.

`@notebook` and `@cell:N` (N counted from 1, top to bottom; or `@cell:ID`, a cell id) name
the notebook, not kernel objects: `prompting.gather` answers them (`context.notebook`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kimi_jupyter.errors import KimiError, one_line

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STEP = rf"\.{_NAME}|\[(?:-?\d+|\"[^\"\n]*\"|'[^'\n]*')\]"
_CELL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"  # a position or an nbformat cell id
_MENTION = re.compile(
    rf"(?<![\w@.])@(?:cell:(?P<cell>{_CELL})|(?P<name>{_NAME})(?P<path>(?:{_STEP})*))"
)
_STEPS = re.compile(_STEP)
# A question, as typed (`%%kimi`, `%kimi`) or as IPython stores it in `In`.
_QUESTION = re.compile(
    r"^\s*%%?kimi\b|get_ipython\(\)\.run_(?:cell|line)_magic\(\s*['\"]kimi['\"]", re.M
)


def is_question(code: str) -> bool:
    """Whether a cell (as typed, or as stored in `In`) asks Kimi with `%%kimi`/`%kimi`."""
    return _QUESTION.search(code) is not None


class MentionError(KimiError):
    """A mention names something that exists, but its attribute or item does not."""


@dataclass(frozen=True)
class Mention:
    """One `@…` as written in the prompt."""

    text: str
    name: str
    path: tuple[str | int, ...]  # attribute names are "." + name; keys are str or int
    start: int
    end: int


def find_mentions(prompt: str) -> list[Mention]:
    """Every `@…` in the prompt, in order (duplicates included)."""
    return [
        Mention(m.group(0), f"cell:{m['cell']}", (), m.start(), m.end())
        if m["cell"]
        else Mention(m.group(0), m["name"], tuple(_parse_path(m["path"])), m.start(), m.end())
        for m in _MENTION.finditer(prompt)
    ]


def cell_ref(mention: Mention) -> str | None:
    """What `@cell:REF` names (a position from 1, or a cell id); None for other mentions."""
    return mention.name[5:] if mention.name.startswith("cell:") else None


def is_notebook(mention: Mention) -> bool:
    """Whether the mention is `@notebook` (the whole notebook, whatever `notebook` is here)."""
    return mention.name == "notebook" and not mention.path


def input_number(mention: Mention, namespace: Mapping[str, Any]) -> int | None:
    """N for `@In[N]` (a negative N counted back as `resolve` does), else None."""
    if mention.name != "In" or len(mention.path) != 1 or not isinstance(mention.path[0], int):
        return None
    index = mention.path[0]
    if index >= 0:
        return index
    history = namespace.get("In")
    return Inputs(history).number(index) if isinstance(history, list) else None


class _NotFound:
    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Any = _NotFound()  # the name is not defined: leave the mention as text


def resolve(
    mention: Mention,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None = None,
) -> Any:
    """The object a mention names, or `NOT_FOUND` if its name is not defined."""
    provider = (providers or {}).get(mention.name)
    value = provider() if provider is not None else namespace.get(mention.name, NOT_FOUND)
    if value is NOT_FOUND:
        return NOT_FOUND
    if mention.name == "In" and provider is None and isinstance(value, list):
        value = Inputs(value)
    for step in mention.path:
        value = _step(value, step, mention)
    return value


def _step(value: Any, step: str | int, mention: Mention) -> Any:
    if isinstance(step, str) and step.startswith("."):
        attribute = step[1:]
        if attribute.startswith("__"):
            raise MentionError(f"{mention.text}: dunder attributes are not followed")
        try:
            return getattr(value, attribute)
        except AttributeError:
            raise MentionError(
                f"{mention.text}: {type(value).__name__} has no attribute {attribute!r}"
            ) from None
        # A property is user code: it may raise anything, and the prompt must still go.
        except Exception as exc:
            raise MentionError(
                f"{mention.text}: reading .{attribute} raised {one_line(exc, 160)}"
            ) from exc
    try:
        return value[step]
    except (KeyError, IndexError, TypeError) as exc:
        raise MentionError(f"{mention.text}: {_describe_missing(value, step, exc)}") from None
    except Exception as exc:  # `__getitem__` is user code too
        raise MentionError(
            f"{mention.text}: reading [{step!r}] raised {one_line(exc, 160)}"
        ) from exc


class Inputs(list[str]):
    """`In` as mentions read it: `[n]` is cell n, negative indices count back over the code
    cells that are not questions (so `@In[-1]` is the last one before the question)."""

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int) or index >= 0:
            return super().__getitem__(index)
        numbers = self._code_numbers()
        if -index > len(numbers):
            raise IndexError(f"there are {len(numbers)} code cells before this question")
        return super().__getitem__(numbers[index])

    def number(self, index: int) -> int | None:
        """Which cell `self[index]` is (`In[n]`'s n), or None if there is no such cell."""
        numbers = self._code_numbers()
        return numbers[index] if -len(numbers) <= index < len(numbers) else None

    def _code_numbers(self) -> list[int]:
        """The n of each `In[n]` that holds code (not empty, not a question to Kimi)."""
        return [n for n, text in enumerate(self) if text.strip() and not is_question(text)]


def _describe_missing(value: Any, step: str | int, exc: Exception) -> str:
    if (
        isinstance(value, Mapping)
        and isinstance(step, int)
        and value
        and all(isinstance(k, int) for k in value)
    ):
        keys = sorted(value)
        shown = ", ".join(map(str, keys[-8:]))
        return f"no entry {step} (there are {len(keys)}: … {shown})"
    if isinstance(exc, TypeError):
        return f"{type(value).__name__} cannot be indexed with {step!r}"
    if isinstance(value, Inputs) and exc.args:
        return f"no cell {step} ({exc.args[0]})"
    return f"no entry {step!r} in this {type(value).__name__}"


def _parse_path(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for match in _STEPS.finditer(path):
        step = match.group(0)
        if step.startswith("."):
            steps.append(step)
        elif step[1] in "\"'":
            steps.append(step[2:-2])
        else:
            steps.append(int(step[1:-1]))
    return steps
