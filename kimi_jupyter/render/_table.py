"""GFM tables as one token each, rendered to the same HTML as markdown-it's own table rule.

markdown-it makes four or five tokens per cell (about 3 µs each), which made a 10,000-row
table cost six times the same bytes of prose. Here the rows are kept as strings, and a cell
without markup skips the inline parser. The rule is markdown-it's (`rules_block/table.py`),
line for line, with the token pushes replaced by lists; tests compare the output with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it.common.utils import escapeHtml, mdTrim
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import (
    MAX_AUTOCOMPLETED_CELLS,
    escapedSplit,
    getLine,
    table,
)
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def table_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Validate with markdown-it's rule, then keep the cells in one `kimi_table` token."""
    if not table(state, start, end, True):
        return False
    if silent:
        return True
    aligns = [_align(t) for t in getLine(state, start + 1).split("|") if mdTrim(t)]
    header = [mdTrim(c) for c in _cells(mdTrim(getLine(state, start)))]
    rows, line = _body(state, start + 2, end, len(header))
    token = state.push("kimi_table", "table", 0)
    token.map = [start, line]
    token.meta = {"aligns": aligns, "header": header, "rows": rows}
    state.line = line
    return True


def _align(column: str) -> str:
    column = mdTrim(column)
    if column.endswith(":"):
        return "center" if column.startswith(":") else "right"
    return "left" if column.startswith(":") else ""


def _cells(line: str) -> list[str]:
    columns = escapedSplit(line)
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    return columns


def _body(state: StateBlock, line: int, end: int, count: int) -> tuple[list[list[str]], int]:
    terminators = state.md.block.ruler.getRules("blockquote")
    old_parent, state.parentType = state.parentType, "table"
    rows: list[list[str]] = []
    autocompleted = 0
    while line < end:
        if state.sCount[line] < state.blkIndent:
            break
        if any(rule(state, line, end, True) for rule in terminators):
            break
        text = mdTrim(getLine(state, line))
        if not text or state.is_code_block(line):
            break
        columns = _cells(text)
        autocompleted += count - len(columns)
        if autocompleted > MAX_AUTOCOMPLETED_CELLS:
            break
        rows.append([mdTrim(c) if c else "" for c in columns[:count]])
        line += 1
    state.parentType = old_parent
    return rows, line


def render_table(
    inline: Callable[[RendererHTML, str, OptionsDict, EnvType], str], meaningful: re.Pattern[str]
) -> Callable[[RendererHTML, list[Token], int, OptionsDict, EnvType], str]:
    """The renderer rule; `inline` renders a cell with markup, plain cells are escaped."""

    def render(
        self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        meta = tokens[idx].meta
        aligns: list[str] = meta["aligns"]
        opens = {
            tag: [f'<{tag} style="text-align:{a}">' if a else f"<{tag}>" for a in aligns]
            for tag in ("th", "td")
        }

        def row(tag: str, cells: list[str]) -> str:
            out = ["<tr>\n"]
            for i, open_tag in enumerate(opens[tag]):
                cell = cells[i] if i < len(cells) else ""
                plain = meaningful.search(cell) is None
                body = escapeHtml(cell) if plain else inline(self, cell, options, env)
                out.append(f"{open_tag}{body}</{tag}>\n")
            out.append("</tr>\n")
            return "".join(out)

        parts = ["<table>\n<thead>\n", row("th", meta["header"]), "</thead>\n"]
        if meta["rows"]:
            parts.append("<tbody>\n")
            parts.extend(row("td", cells) for cells in meta["rows"])
            parts.append("</tbody>\n")
        parts.append("</table>\n")
        return "".join(parts)

    return render
