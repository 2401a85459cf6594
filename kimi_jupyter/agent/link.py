"""`CommLink`: the frontend reached over the chat comm, as a `NotebookFrontend`.

`perform` sends `agent_propose` and waits (on the agent's worker thread) for the
`agent_result` of exactly that step, which the comm handler passes to `deliver` on the
kernel's main thread. Only the step that waits can be answered, and only once: any other
result is a one-line `ProtocolError` and changes nothing. Stop (`release`) ends the wait as
`stopped`; no answer within `timeout` seconds fails the step, so the kernel never hangs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from kimi_jupyter.protocol import AgentResultRequest, ProtocolError, ToFrontend

from .steps import AgentStep, StepResult

__all__ = ["STEP_TIMEOUT", "CommLink"]

STEP_TIMEOUT = 3600.0  # an approval, then a cell that may run for minutes


@dataclass
class _Waiting:
    turn: str
    step: int
    answered: threading.Event = field(default_factory=threading.Event)
    result: StepResult | None = None


class CommLink:
    """One agent turn's side of the comm: at most one step waits at a time."""

    def __init__(self, send: Callable[[ToFrontend], None], *, timeout: float = STEP_TIMEOUT):
        self._send, self.timeout = send, timeout
        self._waiting: _Waiting | None = None
        self._released = threading.Event()
        self._lock = threading.Lock()

    def perform(self, step: AgentStep) -> StepResult:
        """Propose `step` and block until its result, Stop or the timeout."""
        waiting = _Waiting(step.turn_id, step.step)
        with self._lock:
            if self._released.is_set():
                return StepResult("stopped", message="the turn was stopped")
            self._waiting = waiting
        self._send(step.to_message())
        waiting.answered.wait(self.timeout)
        with self._lock:
            self._waiting = None
            if waiting.result is not None:
                return waiting.result
            if self._released.is_set():
                return StepResult("stopped", message="the turn was stopped")
        return StepResult("failed", message=f"the notebook did not answer in {self.timeout:g} s")

    def deliver(self, message: AgentResultRequest) -> None:
        """The frontend's `agent_result` (already checked by `protocol.parse`)."""
        got = f"step {message['step']} of agent turn {message['id']!r}"
        with self._lock:
            waiting = self._waiting
            if waiting is None:
                raise ProtocolError(f"agent_result for {got}, but no step is waiting: ignored")
            if (message["id"], message["step"]) != (waiting.turn, waiting.step):
                raise ProtocolError(
                    f"agent_result for {got}, but step {waiting.step} of {waiting.turn!r} "
                    "is waiting: ignored"
                )
            waiting.result, self._waiting = StepResult.from_message(message), None
            waiting.answered.set()

    def release(self) -> None:
        """Stop: the waiting step ends as stopped, and so does every later one."""
        with self._lock:
            self._released.set()
            if self._waiting is not None:
                self._waiting.answered.set()
