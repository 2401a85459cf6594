"""Who asked for the cell being run: its cell id, and whether that client shows widgets."""

from __future__ import annotations


def current_cell_id() -> str | None:
    """The `cellId` of the execute request being run (JupyterLab, Notebook 7 and VS Code
    send one); None outside a kernel, and for nbclient or papermill."""
    from kimi_jupyter.render.display import execute_metadata

    cell_id = execute_metadata().get("cellId")
    return str(cell_id) if cell_id else None


def shows_widgets() -> bool:
    """`display.frontend_shows_widgets` for the cell being run: False in a headless run."""
    from kimi_jupyter.render.display import frontend_shows_widgets

    return frontend_shows_widgets(current_cell_id())
