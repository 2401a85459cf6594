"""`ChatStream`: one answer's events, through as many tool steps as the model takes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .client import EventStream, KimiClient, OnRetry
from .config import Settings
from .conversation import Exchange, Message, Options, Session, with_meta
from .errors import KimiError, StreamError
from .events import (
    STEP_BREAK,
    ContentDelta,
    Event,
    ReasoningDelta,
    StepStarted,
    ToolCall,
    ToolFinished,
    ToolResult,
    ToolStarted,
    Usage,
)
from .tools import Confirm, Outcome, Tool, not_run, run_call
from .turn import Timings, Turn


@dataclass
class Request:
    """What every step of one answer shares: where it goes and what it may call."""

    client: Callable[[], KimiClient]
    settings: Callable[[], Settings]
    session: Session
    prompt: Message
    options: Options
    cell_id: str | None = None
    tools: Mapping[str, Tool] = field(default_factory=dict)
    max_steps: int = 8
    on_retry: OnRetry | None = None
    streams: bool = True  # False: one plain request (no tools), `complete`

    def complete(self) -> Turn:
        """One non-streamed request (no tools), recorded in the session."""
        return WholeAnswer(self).run()

    def stream(self, payload: dict[str, Any]) -> EventStream:
        return self.client().stream(payload, on_retry=self.on_retry)

    def payload(self, replies: Sequence[Message], last: bool) -> tuple[dict[str, Any], int]:
        options = self.options
        if last and options.tools:  # the last allowed step must answer in words
            options = dataclasses.replace(options, tool_choice="none")
        return self.session.request(
            self.prompt, self.settings(), options, cell_id=self.cell_id, replies=replies
        )


class WholeAnswer:
    """One non-streamed request (no tools), stoppable from any thread like a `ChatStream`:
    `close()` ends the wait at once and the turn is recorded as stopped."""

    def __init__(self, request: Request) -> None:
        self._request = request
        payload, self._dropped = request.payload((), last=True)
        self._call = request.client().completion(payload, on_retry=request.on_retry)
        self.turn = Turn(status="stopped", model=str(payload.get("model", "")))
        self.recorded = False  # the exchange is in the session

    def close(self) -> None:
        self._call.close()

    def run(self) -> Turn:
        """Wait for the answer and record it (a failure leaves the session as it was)."""
        request = self._request
        self.turn = with_meta(self._call.result(), dropped_exchanges=self._dropped)
        request.session.record(Exchange(request.prompt, self.turn, cell_id=request.cell_id))
        self.recorded = True
        return self.turn


class ChatStream:
    """Events of one answer; the exchange is recorded when it ends (done, stopped or failed).

    When the model calls tools, each call runs in this thread (`ToolStarted`, then
    `ToolFinished`), the results go back, and the next step streams on (`StepStarted`), up
    to `max_steps` requests. Set `confirm` before iterating to ask the user about
    `@tool(confirm=True)` calls (True: run); unset, a terminal prompt asks. Surfaces do not
    iterate this themselves: `run.AnswerRun` does, and they listen to it.
    """

    def __init__(self, request: Request) -> None:
        self._request = request
        self._payload, self._dropped = request.payload((), request.max_steps <= 1)
        self._events: EventStream = request.stream(self._payload)
        self._steps: list[Turn] = []
        self._replies: list[Message] = []
        self._results: list[ToolResult] = []
        self._start = time.monotonic()
        self._stopped = False
        self._limited = False
        self._step_done = False  # the current stream's turn is already in `_steps`
        self._spoken: set[type] = set()  # delta kinds that had text in an earlier step
        self._resume: set[type] = set()  # kinds whose next delta starts with STEP_BREAK
        self.confirm: Confirm | None = None
        self.recorded = False  # the exchange is in the session
        self.payload = self._payload
        self.turn: Turn = self._events.turn

    def close(self) -> None:
        """Stop the answer where it is; the partial answer is kept in the session."""
        self._stopped = True
        self._events.close()

    def __iter__(self) -> Generator[Event, None, None]:
        try:
            yield from self._iter_steps()
        except StreamError as exc:
            self._record(exc.partial or self._events.turn, error=str(exc))
            raise
        except KimiError as exc:
            if self._steps:  # tools already ran: keep them, the next ask can build on them
                self._record(self._events.turn, error=str(exc))
            raise  # else nothing arrived: the session is left as it was
        except BaseException:  # KeyboardInterrupt, GeneratorExit: the user stopped it
            self.close()  # stopped, not done, even when a tool call was cut short
            self._record(self._events.turn)
            raise
        self._record(self._events.turn)

    def _iter_steps(self) -> Iterator[Event]:
        request = self._request
        for step in range(1, request.max_steps + 1):
            if step > 1:
                yield StepStarted(step)
            for event in self._events:
                yield self._joined(event)
            turn = self._events.turn
            if not turn.tool_calls or turn.status != "done" or self._stopped:
                return
            self._steps.append(turn)
            self._step_done = True
            calls, reasoning = turn.tool_calls, turn.reasoning
            self._replies.append(
                Message("assistant", turn.answer, tool_calls=calls, reasoning=reasoning)
            )
            yield from self._run_calls(turn.tool_calls, step)
            if step == request.max_steps or self._stopped:
                return
            payload, _ = request.payload(self._replies, last=step + 1 == request.max_steps)
            self.payload = payload
            self._events, self._step_done = request.stream(payload), False
            self._resume = set(self._spoken)

    def _joined(self, event: Event) -> Event:
        """The one place a later step's text is joined to the text before it."""
        if isinstance(event, ReasoningDelta | ContentDelta) and event.text:
            kind = type(event)
            self._spoken.add(kind)
            if kind in self._resume:
                self._resume.discard(kind)
                text = STEP_BREAK + event.text
                return ContentDelta(text) if kind is ContentDelta else ReasoningDelta(text)
        return event

    def _run_calls(self, calls: Sequence[ToolCall], step: int) -> Iterator[Event]:
        request = self._request
        pending = list(calls)
        try:
            while pending:
                call = pending[0]
                offered = request.tools.get(call.name)
                runs = not self._stopped and step < request.max_steps
                yield ToolStarted(call, step, bool(runs and offered and offered.confirm))
                if self._stopped:
                    outcome = not_run(call, step, "the user stopped the answer")
                elif not runs:
                    self._limited = True
                    why = f"the limit of {request.max_steps} steps was reached"
                    outcome = not_run(call, step, why)
                else:
                    outcome = run_call(call, request.tools, step, self.confirm)
                self._answer(outcome)
                pending.pop(0)
                yield ToolFinished(outcome.result)
        finally:  # interrupted: every call still gets an answer, or the history is invalid
            for call in pending:
                self._answer(not_run(call, step, "the user stopped the answer"))

    def _answer(self, outcome: Outcome) -> None:
        self._replies.append(outcome.message)
        self._results.append(outcome.result)

    def _record(self, last: Turn, error: str | None = None) -> None:
        turn = self._combined(last)
        if error is not None and turn.error is None:
            turn = replace(turn, error=error)
        if self._stopped and turn.status == "done" and self._step_done:
            turn = replace(turn, status="stopped")  # stopped between steps, before an answer
        self.turn = with_meta(turn, dropped_exchanges=self._dropped)
        answer = None
        if self._replies:
            answered = not self._step_done
            answer = Message(
                "assistant",
                last.answer if answered else "",
                reasoning=last.reasoning if answered else None,
            )
        exchange = Exchange(
            self._request.prompt,
            self.turn,
            tuple(self._replies),
            cell_id=self._request.cell_id,
            answer=answer,
        )
        self._request.session.record(exchange)
        self.recorded = True

    def _combined(self, last: Turn) -> Turn:
        """One turn for the whole answer: every step's text, calls, results and tokens."""
        steps = self._steps if self._step_done else [*self._steps, last]
        if len(steps) == 1 and not self._results:
            return last
        usages = [t.usage for t in steps if t.usage is not None]
        first = steps[0].timings
        timings = Timings(
            first_token=first.first_token,
            reasoning=sum(t.timings.reasoning or 0.0 for t in steps) or None,
            total=time.monotonic() - self._start,
        )
        return replace(
            last,
            answer=STEP_BREAK.join(t.answer for t in steps if t.answer),
            reasoning=STEP_BREAK.join(t.reasoning for t in steps if t.reasoning),
            tool_calls=tuple(call for t in steps for call in t.tool_calls),
            tool_results=tuple(self._results),
            usage=Usage.total(usages) if usages else None,
            timings=timings,
            meta={**last.meta, "steps": len(steps)}
            | ({"step_limit": self._request.max_steps} if self._limited else {}),
        )
