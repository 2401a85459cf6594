"""Letting a widget's clicks reach the kernel while a cell is still running."""

from __future__ import annotations

from typing import Any


def handle_clicks_on_any_shell(widget: Any) -> None:
    """Let a Stop (or Run / Skip) click be handled while the cell is still running.

    JupyterLab ≥ 4.4 sends widget messages on a subshell, but ipykernel ≥ 7 routes a comm's
    messages back to the shell that last published on it: here the main shell, busy with
    this very answer, so the click would wait for the answer to end. Forgetting that route
    lets the subshell handle the click (`AnswerRun.stop` and `answer` are thread-safe).
    """
    comm = getattr(widget, "comm", None)
    if comm is not None:
        vars(comm).pop("_reply_subshell_id", None)
