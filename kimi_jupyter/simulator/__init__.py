"""An offline, spec-faithful stand-in for the Kimi chat-completions endpoint.

`Simulator` serves `/v1/models` and `/v1/chat/completions` on 127.0.0.1 with auth,
validation, SSE streaming (reasoning, tool calls, usage) in four wire flavours, and fault
modes. Answers describe what arrived, so tests can assert what a client sent. Requests can
steer it with `[[sim: key=value ...]]` in the last user message (see `directives`).

In a conftest.py: `from kimi_jupyter.simulator import simulator` gives a pytest fixture;
pytest is imported only then, so this package works without it.
"""

from __future__ import annotations

from typing import Any

from .directives import FLAVOURS
from .faults import FAULTS
from .server import Simulator

__all__ = ["FAULTS", "FLAVOURS", "Simulator", "simulator"]


def __getattr__(name: str) -> Any:
    if name == "simulator":  # lazily, so importing the simulator never needs pytest
        from .pytest_plugin import simulator

        return simulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
