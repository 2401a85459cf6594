"""A step's result as the content parts of its tool message: what the model reads next.

What a cell printed or displayed is data, never an instruction: whenever a result carries
notebook content (sources, outputs, cell summaries, a kernel value) it opens with
`UNTRUSTED`. Text is bounded by `Limits.max_text_chars` for the whole result; `image/png`
and `image/jpeg` outputs become image parts through the mention converters' caps
(`context.media`), at most `MAX_IMAGES` per result; tracebacks lose their ANSI colours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kimi_jupyter.context import Limits
from kimi_jupyter.context._common import truncate
from kimi_jupyter.context.outputs import MAX_IMAGES, UNTRUSTED, ImageCap, merged, output_pieces
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.tools import RESULT_CHARS

from .steps import AgentStep, StepResult

__all__ = [
    "MAX_IMAGES",
    "UNTRUSTED",
    "default_limits",
    "merged",
    "output_parts",
    "result_parts",
]


_DONE = {
    "list_cells": "listed the notebook's cells",
    "read_cell": "read cell {cell}",
    "insert_cell": "inserted cell {cell}",
    "edit_cell": "changed cell {cell}",
    "delete_cell": "deleted cell {cell}",
    "run_cell": "ran cell {cell}",
}
_VERB = {
    "list_cells": "listing the cells",
    "read_cell": "reading that cell",
    "insert_cell": "inserting that cell",
    "edit_cell": "that edit",
    "delete_cell": "deleting that cell",
    "run_cell": "running that cell",
}


def default_limits() -> Limits:
    """What one step's result may add: a tool result's text budget, the usual image caps."""
    return Limits(max_text_chars=RESULT_CHARS)


def result_parts(step: AgentStep, result: StepResult, limits: Limits | None = None) -> list[Part]:
    """The tool message for `step`: a status line, then the notebook content it returned
    (cells, source, outputs), its text within `limits.max_text_chars` all together."""
    limits = limits or default_limits()
    head = _status_line(step, result, limits)
    pieces: list[str | MediaPart] = []
    if result.cells:
        pieces.append(json.dumps([dict(c) for c in result.cells], ensure_ascii=False, default=str))
    if result.source is not None and step.tool == "read_cell":
        pieces.append(f"[source]\n{result.source}")
    pieces.extend(_output_pieces(result.outputs, limits))
    ran = result.status in ("done", "edited_and_done")
    if ran and not result.outputs and step.tool in ("run_cell", "read_cell"):
        pieces.append("[no outputs]")
    if not pieces:
        return [TextPart(head)]
    return merged([TextPart(f"{head}\n{UNTRUSTED}"), *_bounded(pieces, limits.max_text_chars)])


def output_parts(outputs: Sequence[Mapping[str, Any]], limits: Limits) -> list[Part]:
    """nbformat outputs as text and image parts, in order, the text within the limits."""
    return _bounded(_output_pieces(outputs, limits), limits.max_text_chars)


def _output_pieces(outputs: Sequence[Mapping[str, Any]], limits: Limits) -> list[str | MediaPart]:
    capped = ImageCap(MAX_IMAGES)
    return [
        capped(piece, f"output {number}")
        for number, output in enumerate(outputs, 1)
        for piece in output_pieces(output, f"output {number}", limits)
    ]


def _status_line(step: AgentStep, result: StepResult, limits: Limits) -> str:
    cell = result.cell_id or str(step.args.get("cell_id", "?"))
    note = f" ({result.message})" if result.message else ""
    if result.status in ("done", "edited_and_done"):
        done = _DONE.get(step.tool, step.tool).format(cell=cell)
        line = f"done: {done}{note}."
        if result.status == "edited_and_done":
            line += " The user edited your code before approving it; this source was used:"
            line += f"\n{truncate(result.source or '', limits.max_text_chars)}"
        return line
    verb = _VERB.get(step.tool, step.tool)
    if result.status == "skipped":
        return f"skipped: the user did not approve {verb}; nothing changed{note}."
    if result.status == "stopped":
        return f"stopped: the user stopped the agent before {verb}{note}. Do not continue."
    return f"{result.status}: {verb} did not happen{note}."


def _bounded(pieces: Sequence[str | MediaPart], budget: int) -> list[Part]:
    parts: list[Part] = []
    left_out = 0
    for piece in pieces:
        if isinstance(piece, MediaPart):
            parts.append(piece)
        elif budget <= 0:
            left_out += 1
        else:
            text = truncate(piece, budget)
            budget -= len(text)
            parts.append(TextPart(text))
    if left_out:
        parts.append(TextPart(f"[{left_out} more output(s) left out: the result is full]"))
    return merged(parts)
