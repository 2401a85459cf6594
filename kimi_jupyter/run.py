"""`AnswerRun`: one answer from request to final record, the same for every surface.

The `%%kimi` cell, the text view, the chat widget, the lab panel (and later the agent) are
listeners of a run; none of them iterates a stream, keeps Stop, retry notices or approval
logic of its own, and nothing of one run is stored on `Chat`.

```
run = AnswerRun(chat, "Why is @df empty?", *parts, session="eda")
ended = run.follow(view.add)      # events on this thread; Ctrl-C stops, the end still comes
run.start(panel_listener)         # or: events on the run's worker thread, return at once
run.answer(call_id, True)         # an approval, from any thread; the first answer wins
run.answer(call_id, True, arguments={"code": "..."})  # approved with the user's edit
run.stop()                        # from any thread; a waiting approval is skipped
value = run.on_main(func)         # from a tool, on the worker: func runs on `follow`'s thread
```

Events are the stream's (`events.Event`) plus the run's own below. `RunEnded` always comes,
exactly once, whatever is raised underneath: done, stopped or failed, with the record so far
and, when it failed, a `KimiError` whose text is one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .chat import Chat
from .client import RetryNotice
from .conversation import Part
from .errors import KimiError, one_line
from .events import Event, ToolCall
from .options import AskOptions
from .tools import Edited
from .turn import Status, Turn

__all__ = [
    "AnswerRun",
    "ApprovalRequested",
    "ApprovalSettled",
    "Approvals",
    "Listener",
    "RetryScheduled",
    "RunEnded",
    "RunEvent",
    "RunStoppedError",
    "ToolOutputs",
    "approval_timeout",
]

_log = logging.getLogger("kimi_jupyter")
_POLL_SECONDS = 0.1  # how often a waiting `follow` looks up, so Ctrl-C is seen at once


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """This run's request failed and is sent again after `delay` seconds."""

    attempt: int
    delay: float
    message: str

    @property
    def text(self) -> str:
        return f"retrying in {self.delay:.1f} s: {self.message}"


SettledBy = Literal["user", "timeout", "stopped"]
_UNANSWERED = {"timeout": "nobody answered in time", "stopped": "the user stopped the answer"}


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """A `@tool(confirm=True)` call waits for `AnswerRun.answer`; skipped after `timeout` s."""

    call: ToolCall
    timeout: float


@dataclass(frozen=True, slots=True)
class ApprovalSettled:
    """The approval of `call` is decided: by the user, by the timeout, or by Stop."""

    call: ToolCall
    run: bool
    by: SettledBy

    @property
    def notice(self) -> str | None:
        if self.by == "timeout":
            return f"no answer in time: {self.call.name} skipped"
        return None


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The last event of every run. `recorded`: the exchange is in the session (a failure
    before anything arrived leaves the session as it was)."""

    status: Status
    turn: Turn
    error: KimiError | None = None
    recorded: bool = True


@dataclass(frozen=True, slots=True)
class ToolOutputs:
    """What a tool call produced for people to see (the cell agent's `run_code`: the code as
    run and its nbformat outputs), before its `ToolFinished`; the model gets the tool's own
    bounded parts."""

    call: ToolCall
    code: str
    outputs: tuple[dict[str, Any], ...]


class RunStoppedError(KimiError):
    """`AnswerRun.on_main` did not run its function: the run was stopped first."""


RunEvent = Event | RetryScheduled | ApprovalRequested | ApprovalSettled | ToolOutputs | RunEnded
Listener = Callable[[RunEvent], None]


def approval_timeout(default: float = 300.0) -> float:
    """`KIMI_CONFIRM_TIMEOUT` seconds (default 300): an approval nobody gives is a Skip, so a
    frontend that cannot deliver clicks, or a headless run, never hangs the kernel."""
    try:
        value = float(os.environ.get("KIMI_CONFIRM_TIMEOUT", default))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    run: bool = False
    by: SettledBy = "user"
    arguments: dict[str, Any] | None = None


@dataclass
class _MainCall:
    """A function a tool hands to the thread that follows the run (`AnswerRun.on_main`)."""

    func: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    state: Literal["waiting", "running", "cancelled"] = "waiting"
    value: Any = None
    error: BaseException | None = None


class Approvals:
    """The one approval policy: the first answer wins, no answer within `timeout` is Skip,
    and Stop skips what waits and everything asked after it."""

    def __init__(self, timeout: float, emit: Callable[[RunEvent], None]) -> None:
        self.timeout, self._emit = timeout, emit
        self._waiting: dict[str, _Pending] = {}
        self._released = False
        self._lock = threading.Lock()

    def ask(self, call: ToolCall) -> bool | str | Edited:
        """On the run's worker thread: block until the call is approved or skipped. True:
        run it; `Edited`: run it with the user's arguments; False: the user said no; a
        string: why it was skipped without a "no"."""
        pending = _Pending()
        with self._lock:
            if self._released:
                pending.by = "stopped"
                pending.done.set()
            else:
                self._waiting[call.id] = pending
        if not pending.done.is_set():
            self._emit(ApprovalRequested(call, self.timeout))
            pending.done.wait(self.timeout)
            with self._lock:
                self._waiting.pop(call.id, None)
                if not pending.done.is_set():
                    pending.by = "timeout"
                    pending.done.set()
        self._emit(ApprovalSettled(call, pending.run, pending.by))
        if pending.by != "user":
            return _UNANSWERED[pending.by]
        if pending.run and pending.arguments is not None:
            return Edited(pending.arguments)
        return pending.run

    def answer(self, call_id: str, run: bool, *, arguments: dict[str, Any] | None = None) -> bool:
        """From any thread; False when no approval of that call is waiting. `arguments`
        (with `run`): the user edited the call; it runs with these instead."""
        with self._lock:
            pending = self._waiting.get(call_id)
            if pending is None or pending.done.is_set():
                return False
            pending.run = run
            pending.arguments = dict(arguments) if run and arguments is not None else None
            pending.done.set()
            return True

    def release(self) -> None:
        """Stop: what waits is skipped, and so is everything asked from now on."""
        with self._lock:
            self._released = True
            for pending in self._waiting.values():
                if not pending.done.is_set():
                    pending.by = "stopped"
                    pending.done.set()


class AnswerRun:
    """One answer of `chat`: request, stream, tool steps, approvals, record, end."""

    def __init__(
        self,
        chat: Chat,
        prompt: str,
        *objects: Part | str,
        session: str | None = None,
        cell_id: str | None = None,
        options: AskOptions | None = None,
        timeout: float | None = None,
    ) -> None:
        self.chat, self.prompt, self.objects = chat, prompt, objects
        self.session = session or chat.session_name
        self.cell_id, self.options = cell_id, options or AskOptions()
        self.approvals = Approvals(timeout or approval_timeout(), self._emit)
        self.ended: RunEnded | None = None
        self.finisher: Callable[[RunEnded], RunEnded] | None = None
        self._listeners: list[Listener] = []
        self._queue: queue.Queue[RunEvent | _MainCall] | None = None
        self._mains: list[_MainCall] = []
        self._stream: Any = None
        self._stopped = False
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped

    def start(self, *listeners: Listener) -> AnswerRun:
        """Run on a worker thread; `listeners` hear every event there. Returns at once."""
        self._listeners = list(listeners)
        self._launch()
        return self

    def follow(self, *listeners: Listener) -> RunEnded:
        """Run on a worker thread, and hand its events to `listeners` on this thread until
        the end. Ctrl-C here (or in a listener) is Stop: the end still comes, and the
        partial answer is kept. Functions a tool hands over (`on_main`) run here too,
        between events."""
        self._listeners, self._queue = list(listeners), queue.Queue()
        self._launch()
        while True:
            try:
                event = self._queue.get(timeout=_POLL_SECONDS)
                if isinstance(event, _MainCall):
                    self._run_main(event)
                    continue
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                self.stop()
                continue
            self._deliver(event)
            if isinstance(event, RunEnded):
                return event

    def on_main(self, func: Callable[[], Any]) -> Any:
        """From a tool function on the run's worker thread: run `func` on the thread that
        follows the run (a kernel's main thread, where user code belongs) and return what
        it returned, or raise what it raised. Stop before it starts: `RunStoppedError`. Only a
        followed run has such a thread (`KimiError` otherwise)."""
        if self._queue is None or threading.current_thread() is not self._worker:
            raise KimiError("only a followed run's tools can hand work to its thread")
        item = _MainCall(func)
        with self._lock:
            if self._stopped:
                raise RunStoppedError("the user stopped the answer")
            self._mains.append(item)
        self._queue.put(item)
        item.done.wait()
        with self._lock:
            self._mains.remove(item)
        if item.state == "cancelled":
            raise RunStoppedError("the user stopped the answer")
        if item.error is not None:
            raise item.error
        return item.value

    def report(self, event: ToolOutputs) -> None:
        """From a tool function: what its call produced, for the views (before its end)."""
        self._emit(event)

    def _run_main(self, item: _MainCall) -> None:
        with self._lock:
            if item.state != "waiting":
                return
            item.state = "running"
        try:
            item.value = item.func()
        except KeyboardInterrupt as exc:  # Ctrl-C in the handed-over work: Stop
            item.error = exc
            self.stop()
        except BaseException as exc:  # noqa: BLE001 - the worker raises it in its tool
            item.error = exc
        finally:
            item.done.set()

    def wait(self, timeout: float | None = None) -> RunEnded | None:
        """Block until the run has ended (None after `timeout`); Ctrl-C stops it."""
        try:
            self._finished.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            self._finished.wait()
        return self.ended

    def stop(self) -> None:
        """End the answer where it is (kept, marked stopped); skip any waiting approval."""
        with self._lock:
            self._stopped = True
            stream = self._stream
            for item in self._mains:  # not started yet: it never will
                if item.state == "waiting":
                    item.state = "cancelled"
                    item.done.set()
        self.approvals.release()
        if stream is not None:
            stream.close()

    def answer(self, call_id: str, run: bool, *, arguments: dict[str, Any] | None = None) -> bool:
        """Approve (`run`) or skip the waiting call `call_id`; False if none is waiting.
        `arguments`: approved as the user edited it."""
        return self.approvals.answer(call_id, run, arguments=arguments)

    def _launch(self) -> None:
        self._worker = threading.Thread(target=self._work, name="kimi-answer", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        try:
            ended = self._answer()
        except KimiError as exc:  # a StreamError's partial answer is already recorded
            ended = self._failed(exc)
        except BaseException as exc:  # noqa: BLE001 - whatever broke, the end must come
            error = KimiError(f"the answer failed: {one_line(exc)}")
            ended = self._failed(error)
        self._end(ended)

    def _failed(self, error: KimiError) -> RunEnded:
        stream = self._stream
        if stream is not None and stream.recorded:
            return RunEnded("failed", stream.turn, error)
        message = str(error)
        turn = Turn(status="failed", error=message)
        if stream is not None:
            turn = replace(stream.turn, status="failed", error=message)
        return RunEnded("failed", turn, error, recorded=False)

    def _answer(self) -> RunEnded:
        request = self.chat.prepare(self.prompt, *self.objects, session=self.session,
                                    cell_id=self.cell_id, options=self.options,
                                    on_retry=self._retry)  # fmt: skip
        from ._stream import ChatStream, WholeAnswer

        if not request.streams:  # one closable wait, so Stop and Ctrl-C end it too
            whole = WholeAnswer(request)
            self._hold(whole)
            turn = whole.run()
            return RunEnded(turn.status, turn)
        stream = ChatStream(request)
        stream.confirm = self.approvals.ask
        self._hold(stream)
        with contextlib.closing(iter(stream)) as events:
            for event in events:
                self._emit(event)
        return RunEnded(stream.turn.status, stream.turn)

    def _hold(self, answer: Any) -> None:
        """Keep what `stop()` must close; close it now if Stop came first."""
        with self._lock:
            self._stream = answer
            stopped = self._stopped
        if stopped:
            answer.close()

    def _retry(self, notice: RetryNotice) -> None:
        self._emit(
            RetryScheduled(notice.attempt, notice.delay, one_line(notice.error, named=False))
        )

    def _emit(self, event: RunEvent) -> None:
        if self._queue is not None:
            self._queue.put(event)
        else:
            self._deliver(event)

    def _deliver(self, event: RunEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except KeyboardInterrupt:
                self.stop()
            except Exception as exc:  # noqa: BLE001 - a broken view must not lose the answer
                _log.error(
                    "kimi: a view failed on %s: %s",
                    type(event).__name__,
                    one_line(exc, named=False),
                )
                self.stop()

    def _end(self, ended: RunEnded) -> None:
        with self._lock:
            if self.ended is not None:
                return
        if self.finisher is not None:
            try:
                ended = self.finisher(ended)
            except Exception as exc:  # noqa: BLE001 - the end must come, as it was
                _log.error("kimi: finishing the run failed: %s", one_line(exc, named=False))
        with self._lock:
            self.ended = ended
        self._emit(ended)
        self._finished.set()
