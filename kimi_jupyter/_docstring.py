"""The argument descriptions in a docstring: Google (`Args:`), NumPy (`Parameters` +
`----------`) and Sphinx (`:param x:`) styles, for the schemas `_schema` builds."""

from __future__ import annotations

import inspect
import re

_GOOGLE_HEADER = re.compile(
    r"(Args|Arguments|Parameters|Params|Attributes|Keyword Args|Keyword Arguments):\s*"
)
_GOOGLE_ITEM = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")
_NUMPY_HEADER = re.compile(r"(Parameters|Attributes|Other Parameters|Keyword Arguments)\s*")
_NUMPY_RULE = re.compile(r"\s*-{3,}\s*")
_SPHINX = re.compile(
    r":(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?\*{0,2}(\w+):(.*)"
)


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """A docstring's summary (its first paragraph) and its per-argument descriptions, from
    Google (`Args:`), NumPy (`Parameters` + `----------`) or Sphinx (`:param x:`) sections."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip() or _GOOGLE_HEADER.fullmatch(line) or line.startswith(":"):
            break
        if i + 1 < len(lines) and _NUMPY_RULE.fullmatch(lines[i + 1]):
            break
        summary.append(line.strip())
    docs = {**_sphinx_docs(lines), **_numpy_docs(lines), **_google_docs(lines)}
    return " ".join(summary), {name: " ".join(text.split()) for name, text in docs.items()}


def _google_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    section: int | None = None  # the indentation of the current `Args:` line
    item: int | None = None  # the indentation of its entries
    name = ""
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if _GOOGLE_HEADER.fullmatch(line.strip()):
            section, item, name = indent, None, ""
        elif section is None or not line.strip():
            continue
        elif indent <= section:
            section = None
        elif (item is None or indent == item) and (match := _GOOGLE_ITEM.fullmatch(line.strip())):
            item, name = indent, match.group(1)
            docs[name] = match.group(2)
        elif name:
            docs[name] += " " + line
    return docs


def _numpy_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    in_section = False
    names: list[str] = []
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and _NUMPY_RULE.fullmatch(lines[i + 1]):
            in_section, names = bool(_NUMPY_HEADER.fullmatch(line)), []
        elif not in_section or not line.strip() or _NUMPY_RULE.fullmatch(line):
            continue
        elif not line[0].isspace():  # `name : type`, or `x, y : float`
            names = [n.strip().lstrip("*") for n in line.split(":", 1)[0].split(",")]
            docs.update((n, "") for n in names if n.isidentifier())
        else:
            for n in names:
                docs[n] = docs.get(n, "") + " " + line
    return docs


def _sphinx_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    name = ""
    for line in lines:
        if match := _SPHINX.fullmatch(line):
            name = match.group(1)
            docs[name] = match.group(2)
        elif name and line[:1].isspace():
            docs[name] += " " + line
        else:
            name = ""
    return docs
