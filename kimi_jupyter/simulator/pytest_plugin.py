"""The `simulator` pytest fixture (import it into a conftest.py to use it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Simulator


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """Yield a started `Simulator()` on a free 127.0.0.1 port; stop it afterwards."""
    with Simulator() as sim:
        yield sim
