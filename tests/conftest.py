"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from kimi_jupyter.tools import Toolbox


@pytest.fixture
def no_kimi_env(monkeypatch: pytest.MonkeyPatch) -> Iterable[None]:
    for name in (
        "KIMI_API_KEY",
        "MOONSHOT_API_KEY",
        "ANYFAST_API_KEY",
        "KIMI_BASE_URL",
        "KIMI_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return


@pytest.fixture
def toolbox(monkeypatch: pytest.MonkeyPatch) -> Toolbox:
    """A fresh kernel's worth of registered tools: `@tool` fills this one, then it is gone."""
    fresh = Toolbox()
    monkeypatch.setattr(Toolbox, "_default", fresh)
    return fresh
