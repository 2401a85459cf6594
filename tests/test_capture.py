"""`@last` and `@error` through a real InteractiveShell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from kimi_jupyter.capture import CellCapture
from kimi_jupyter.conversation import MediaPart, TextPart
from kimi_jupyter.errors import KimiError

from helpers import png


@pytest.fixture
def shell() -> Iterator[tuple[InteractiveShell, CellCapture]]:
    start_ipython()
    ip = InteractiveShell.instance()
    capture = CellCapture(keep=3)
    capture.install(ip)
    yield ip, capture
    capture.uninstall()


def test_last_is_what_the_previous_cell_displayed(
    shell: tuple[InteractiveShell, CellCapture],
) -> None:
    ip, capture = shell
    ip.user_ns["PNG"] = png(4, 3)
    ip.run_cell("from IPython.display import Image, display\ndisplay(Image(data=PNG))\n'done'")
    parts = capture.last_parts()
    assert isinstance(parts[0], TextPart)
    assert "display(Image(data=PNG))" in parts[0].text
    images = [p for p in parts if isinstance(p, MediaPart)]
    assert [p.mime for p in images] == ["image/png"]
    assert images[0].data == ip.user_ns["PNG"]
    assert any(isinstance(p, TextPart) and p.text == "'done'" for p in parts)


def test_kimi_cells_do_not_become_last(shell: tuple[InteractiveShell, CellCapture]) -> None:
    ip, capture = shell
    ip.run_cell("print('x')\n41 + 1")
    ip.run_cell("%%kimi --bogus\nwhat was @last")  # fails, and is not recorded
    (_header, value) = capture.last_parts()
    assert isinstance(value, TextPart)
    assert value.text == "42"


def test_memory_is_bounded_to_the_last_cells(shell: tuple[InteractiveShell, CellCapture]) -> None:
    ip, capture = shell
    for i in range(10):
        ip.run_cell(f"{i} * 2")
    assert len(capture.cells) == 3


def test_error_is_the_traceback_without_colour_and_the_code(
    shell: tuple[InteractiveShell, CellCapture],
) -> None:
    ip, capture = shell
    ip.run_cell("values = [1, 2]\nvalues[5]")
    (part,) = capture.error_parts()
    assert isinstance(part, TextPart)
    assert "values[5]" in part.text
    assert "IndexError: list index out of range" in part.text
    assert "\x1b[" not in part.text


def test_nothing_yet_is_a_clear_error() -> None:
    capture = CellCapture()
    with pytest.raises(KimiError, match="@last: the previous cells displayed nothing"):
        capture.last_parts()
    with pytest.raises(KimiError, match="@error: no cell has raised an error yet"):
        capture.error_parts()
