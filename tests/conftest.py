"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterable

import pytest


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
