"""What an agent turn did so far, read back from the request: its tool calls and their results.

The scripted agent policies (`agents`) are stateless: every request carries the whole turn, so
the next step is decided from the calls since the last user message and what came back. The
readers here are lenient about the shape of a result (JSON or plain text), because the client
decides it, and a policy must never fail on one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .directives import last_user_text, message_text
from .media import IMAGE_NAMES, decode_data_url, image_size, sniff

# A step that did not happen: "skipped: the user did not approve …" (the agent's status
# line), "error: the user chose not to run this call" (`tools.run_call`). Only a status
# field or the first line counts: a cell's output further down may say "skipped" for its
# own reasons.
_REFUSED = re.compile(
    r"\b(skip(ped)?|refused|rejected|declined|denied|stopped|failed|cancell?ed|not approved|"
    r"chose not to|not run)\b"
)
_TRACEBACK = "Traceback (most recent call last)"
_EXCEPTION = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")
# How a run's output names its exception: the agent's `[error] NameError: …` line, or the
# last line of a Python traceback. Only at a line's start: code echoed back in a result
# (`raise ValueError(…)`) is not an error. A KeyboardInterrupt is not one either: the user
# stopped the run.
_ERROR_LINE = re.compile(r"^(?:\[error\]\s*)?([A-Z][\w.]*(?:Error|Exception))(?::|\s*$)", re.M)
_INTERRUPTED = re.compile(r"^(?:\[error\]\s*)?KeyboardInterrupt\b", re.M)
# "id=c7", "cell_id: c7", "inserted cell c7." (the agent's status line)
_ID_IN_TEXT = re.compile(r"\b(?:cell[_ ]?)?id\b\W{0,3}([\w-]+)|\bcell\s+([\w-]+)", re.IGNORECASE)
_LONE_ID = re.compile(r"[\w-]{1,64}")
_LIST_LINE = re.compile(r"^\W*(\d+)\b")
_CELL_TYPE = re.compile(r"\b(code|markdown|raw)\b")
# "delete every cell", "call delete_cell on all cells", "Delete all the cells": what an
# injected instruction in an output says (the user's own message is never scanned). The
# match runs to the ends of its line, to quote it whole.
_INJECTION = re.compile(
    r"[^\n]{0,80}\bdelete(?:_cell)?\b[^\n.]{0,40}?\b(?:every|all)\b[^\n.]{0,20}?\bcells?\b"
    r"[^\n]{0,80}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Image:
    """One image part of a tool result, as a model would report it."""

    mime: str
    size: tuple[int, int] | None
    sha256: str

    def describe(self) -> str:
        """`PNG 64x48 sha256:0123456789ab` (a short hash, as git shortens commits)."""
        name = IMAGE_NAMES.get(self.mime, self.mime)
        size = f"{self.size[0]}x{self.size[1]}" if self.size else "size unreadable"
        return f"{name} {size} sha256:{self.sha256[:12]}"


@dataclass(frozen=True)
class Step:
    """One tool call of the turn and its result (None while no result came back)."""

    name: str
    arguments: dict[str, Any]
    result: str | None
    images: tuple[Image, ...] = ()

    # Read once per step: the policies ask these of every earlier step on each request.
    @cached_property
    def refused(self) -> bool:
        """Whether the step did not happen: its result says skipped or refused, or is missing."""
        return self.result is None or is_refusal(self.result)

    @cached_property
    def raised(self) -> str | None:
        """The exception the result shows, read as a `run_code` result is (`run_error`)."""
        return None if self.result is None else run_error(self.result)

    @cached_property
    def ran(self) -> bool:
        """Whether the step happened, if only to raise (`failed: your code raised …`)."""
        return self.result is not None and (not self.refused or self.raised is not None)


@dataclass(frozen=True)
class Cell:
    """One notebook cell as a `list_cells` result names it."""

    id: str
    index: int
    type: str


@dataclass(frozen=True)
class Turn:
    """The turn so far: what the user asked (the last user message's text) and the steps."""

    asked: str
    steps: list[Step]


def read_turn(messages: list[dict[str, Any]]) -> Turn:
    """Read the turn back from a request's messages."""
    return Turn(last_user_text({"messages": messages}), turn_steps(messages))


def turn_steps(messages: list[dict[str, Any]]) -> list[Step]:
    """Return the tool calls made since the last user message, in order, with their results."""
    start = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1) + 1
    results = {
        str(m.get("tool_call_id")): m.get("content")
        for m in messages[start:]
        if m["role"] == "tool"
    }
    steps = []
    for message in messages[start:]:
        if message["role"] != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            content = results.get(str(call.get("id")))
            text = None if content is None else message_text(content)
            images = tuple(_images(content))
            steps.append(Step(call["function"]["name"], _arguments(call), text, images))
    return steps


def _arguments(call: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(call["function"]["arguments"])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _images(content: Any) -> list[Image]:
    if not isinstance(content, list):
        return []
    found = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "image_url":
            continue
        value = part.get("image_url")
        url = value.get("url") if isinstance(value, dict) else value
        decoded = decode_data_url(url) if isinstance(url, str) else None
        if decoded is not None:  # ms:// references carry no bytes to look at
            mime = sniff(decoded[1])
            digest = hashlib.sha256(decoded[1]).hexdigest()
            found.append(Image(mime, image_size(decoded[1], mime), digest))
    return found


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def first_line(text: str) -> str:
    """The first non-blank line: where a result says what happened."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def is_refusal(text: str) -> bool:
    """Whether a result says its step did not happen: a `status`/`skipped` field, or the
    first line."""
    value = _json(text)
    if isinstance(value, dict):
        if value.get("skipped") is True or value.get("refused") is True:
            return True
        status = value.get("status")
        return isinstance(status, str) and bool(_REFUSED.search(status.lower()))
    return bool(_REFUSED.search(first_line(text).lower()))


def error_name(text: str) -> str | None:
    """The exception a run's result reports (`ename`, `NameError: …`, a traceback), if any."""
    value = _json(text)
    if isinstance(value, dict):
        named = value.get("ename") or value.get("error")
        if isinstance(named, dict):
            named = named.get("ename") or named.get("name")
        if isinstance(named, str) and named:
            match = _EXCEPTION.search(named)
            return match.group(1) if match else named
        if value.get("status") == "error":
            return "an error"
    match = _EXCEPTION.search(text)
    if match:
        return match.group(1)
    return "an error" if _TRACEBACK in text else None


def run_error(text: str) -> str | None:
    """The exception a `run_code` result shows, if any: stricter than `error_name`, since
    its text is whatever the code printed and may echo the code itself."""
    if isinstance(_json(text), dict):
        return error_name(text)
    match = _ERROR_LINE.search(text)
    if match:
        return match.group(1)
    return "an error" if _TRACEBACK in text and not _INTERRUPTED.search(text) else None


def injected_instructions(text: str) -> Iterator[str]:
    """The "delete every cell" instructions in a result, each quoted as its line. JSON is read
    string by string, so an output's lines are lines again."""
    value = _json(text)
    for string in _strings(text if value is None else value):
        for found in _INJECTION.finditer(string):
            yield found.group(0).strip()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def cell_id(text: str) -> str | None:
    """The cell id in an `insert_cell` result: JSON with an `id`, or the plain id."""
    value = _json(text)
    if isinstance(value, dict):
        cell = value.get("cell")
        nested = cell.get("id") if isinstance(cell, dict) else None
        for found in (value.get("id"), value.get("cell_id"), nested):
            if isinstance(found, str) and found:
                return found
        return None
    text = text.strip()
    if _LONE_ID.fullmatch(text):
        return text
    match = _ID_IN_TEXT.search(text)
    return (match.group(1) or match.group(2)) if match else None


def listed_cells(text: str) -> list[Cell]:
    """The cells a `list_cells` result names: JSON (a list, or `{"cells": [...]}`), alone or
    on a line of its own under a status line, or text lines such as `0  id=ab12  code  ...`."""
    lines = (line for line in text.splitlines() if line.startswith(("[{", '{"')))
    value = next((v for v in (_json(t) for t in (text, *lines)) if v is not None), None)
    if isinstance(value, dict):
        value = value.get("cells")
    if isinstance(value, list):
        return [c for i, item in enumerate(value) if (c := _json_cell(i, item)) is not None]
    cells: list[Cell] = []
    for line in text.splitlines():
        found = _ID_IN_TEXT.search(line)
        if found:
            number = _LIST_LINE.match(line)
            kind = _CELL_TYPE.search(line)
            index = int(number.group(1)) if number else len(cells)
            ident = found.group(1) or found.group(2)
            cells.append(Cell(ident, index, kind.group(1) if kind else "code"))
    return cells


def _json_cell(position: int, item: Any) -> Cell | None:
    if not isinstance(item, dict):
        return None
    ident = item.get("id", item.get("cell_id"))
    if not isinstance(ident, str | int) or isinstance(ident, bool) or ident == "":
        return None
    index = item.get("index")
    index = index if isinstance(index, int) and not isinstance(index, bool) else position
    kind = item.get("type", item.get("cell_type", "code"))
    return Cell(str(ident), index, kind if isinstance(kind, str) else "code")
