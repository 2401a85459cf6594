"""The notebook itself as context: `@notebook` and `@cell:N`, from wherever it is visible.

Where the cells come from, in order: what the chat panel sent with its question
(`supplied`); what the lab extension added to the execute request of the asking cell
(`{"kimi_jupyter": {"notebook": {"cells": [...], "current": i, "name": ...}}}` in its
metadata, read with `request_metadata`); else the notebook file the kernel was started for
(`__session__` / `JPY_SESSION_NAME`, set by jupyter_server), read as JSON "as last
saved". Without any of them the notebook is not visible from this kernel (VS Code,
nbclient): `find_notebook` answers None and the mention is one line. `@cell:N` counts cells
from 1, top to bottom, as they are in the notebook; `@cell:ID` names a cell by its id.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimi_jupyter.errors import KimiError, one_line

from .outputs import multiline

__all__ = [
    "METADATA_KEY",
    "Notebook",
    "find_notebook",
    "from_message",
    "read_saved",
    "request_metadata",
    "supplied",
]

METADATA_KEY = "kimi_jupyter"  # the lab extension's key in execute requests' metadata

_supplied: ContextVar[Notebook | None] = ContextVar("kimi_notebook", default=None)


@dataclass(frozen=True)
class Notebook:
    """The cells of one notebook (nbformat JSON), and which one is asking, if known."""

    name: str
    cells: tuple[Mapping[str, Any], ...]
    current: int | None = None  # 0-based index of the asking cell
    saved: bool = False  # read from the file on disk: unsaved edits and outputs are missing

    def index_of(self, ref: str) -> int | None:
        """The cell `@cell:ref` names: its position counted from 1, else its id."""
        if ref.isdigit():
            position = int(ref)
            return position - 1 if 1 <= position <= len(self.cells) else None
        return next((i for i, c in enumerate(self.cells) if c.get("id") == ref), None)

    def ran_as(self, count: int) -> int | None:
        """The cell whose execution count is `count` (`In[count]`), if it is still shown."""
        return next(
            (i for i, c in enumerate(self.cells) if c.get("execution_count") == count), None
        )

    def recent(self, how_many: int) -> list[int]:
        """The cells just above the asking one; without one, the last ones run."""
        if self.current is not None:
            return list(range(max(0, self.current - how_many), self.current))
        ran = [(c.get("execution_count"), i) for i, c in enumerate(self.cells)]
        counted = sorted((n, i) for n, i in ran if isinstance(n, int))
        if not counted:
            return list(range(max(0, len(self.cells) - how_many), len(self.cells)))
        return sorted(i for _, i in counted[-how_many:])


@contextmanager
def supplied(notebook: Notebook | None) -> Iterator[None]:
    """Mentions gathered in the block read this notebook (the panel's question sends it)."""
    token = _supplied.set(notebook)
    try:
        yield
    finally:
        _supplied.reset(token)


def from_message(data: object, name: str = "") -> Notebook | None:
    """A notebook as the page sends it (`{"cells": [...], "current": i, "name": s}`), else
    None. Cells that are not objects are dropped; the kernel bounds everything it sends."""
    if not isinstance(data, Mapping) or not isinstance(data.get("cells"), list):
        return None
    cells = tuple(c for c in data["cells"] if isinstance(c, Mapping))
    current = data.get("current")
    if isinstance(current, bool) or not isinstance(current, int):
        current = None
    if current is not None and not 0 <= current < len(cells):
        current = None
    given = data.get("name")
    return Notebook(str(given) if isinstance(given, str) and given else name, cells, current)


def request_metadata(shell: object) -> dict[str, Any]:
    """The metadata of the execute request `shell`'s kernel is running (empty outside one)."""
    kernel = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent() if kernel is not None else None
    except (AttributeError, TypeError):
        return {}
    metadata = (parent or {}).get("metadata") if isinstance(parent, Mapping) else None
    return metadata if isinstance(metadata, dict) else {}


def find_notebook(namespace: Mapping[str, Any], prompt: str = "") -> Notebook | None:
    """The notebook this question is asked in, from the first place that shows it."""
    given = _supplied.get()
    if given is not None:
        return given
    ours = request_metadata(_shell()).get(METADATA_KEY)
    live = from_message(ours.get("notebook")) if isinstance(ours, Mapping) else None
    if live is not None:
        return live
    path = _session_path(namespace)
    return read_saved(path, prompt) if path is not None else None


def read_saved(path: Path, prompt: str = "") -> Notebook:
    """The notebook file as last saved; the asking cell is the last one holding `prompt`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise KimiError(f"the notebook file {path.name} cannot be read: {one_line(exc)}") from exc
    if not isinstance(document, dict) or document.get("nbformat") != 4:
        raise KimiError(f"the notebook file {path.name} is not an nbformat 4 notebook")
    found = document.get("cells")
    cells = tuple(c for c in found if isinstance(c, Mapping)) if isinstance(found, list) else ()
    current = None
    if prompt.strip():
        holding = [i for i, c in enumerate(cells) if prompt.strip() in _source(c)]
        current = holding[-1] if holding else None
    return Notebook(path.name, cells, current, saved=True)


def _shell() -> object:
    """The running IPython shell, if IPython is loaded at all (this module never imports it)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def _session_path(namespace: Mapping[str, Any]) -> Path | None:
    """The notebook file jupyter_server started this kernel for, if it is on this disk."""
    for name in (namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        for path in (Path(name), Path.cwd() / Path(name).name):
            if path.is_file():
                return path
    return None


def _source(cell: Mapping[str, Any]) -> str:
    return multiline(cell.get("source"))
