"""The kernel side of the JupyterLab chat panel: the comm's messages, typed in `protocol.py`.

Each `ask` is an `AnswerRun` on its worker thread, and this server is its listener: the
run's events become `delta`s (only what is new, coalesced to at most 20 messages a second,
so traffic grows linearly), `status` (retry notices), `tool_start`/`tool_end`, `confirm`
and `confirm_end` (the run's approval policy: the first answer wins, a timeout skips, Stop
skips), and finally `done` or `error`, which always comes. Every `@tool` function of the
kernel is offered. An `agent_ask` is a `NotebookAgent` turn with the same listener, its
id the turn's: it reaches the notebook through a `CommLink` on this comm (`agent_propose`
out, the matching `agent_result` back in) and `inspect`s the kernel's namespace; `stop`
and the comm's close end it where it is (stopped, what it did kept).
Arguments and previews are the model's and the tool's text: the panel shows them as text,
never as HTML. Every error is one line; the key never crosses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from kimi_jupyter.agent.link import CommLink
from kimi_jupyter.agent.loop import NotebookAgent
from kimi_jupyter.agent.modes import StepBudget
from kimi_jupyter.chat import Chat
from kimi_jupyter.context.notebook import from_message, supplied
from kimi_jupyter.conversation import Part, Sessions
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import ContentDelta, ReasoningDelta, ToolFinished, ToolStarted
from kimi_jupyter.options import AskOptions
from kimi_jupyter.protocol import (
    PROTOCOL_VERSION,
    AgentAskRequest,
    AgentResultRequest,
    AskRequest,
    CallData,
    ErrorMessage,
    ProtocolError,
    ToFrontend,
    ToKernel,
    ToolResultData,
    ToolStartMessage,
    TurnEntry,
    parse_request,
)
from kimi_jupyter.render.bundle import turn_record
from kimi_jupyter.run import (
    AnswerRun,
    ApprovalRequested,
    ApprovalSettled,
    RetryScheduled,
    RunEnded,
    RunEvent,
)

__all__ = ["PanelServer"]

FLUSH_SECONDS = 0.05

Send = Callable[[ToFrontend], None]
Gather = Callable[[str], list[Part]]


class PanelServer:
    """Answers one comm's messages; `gather` turns a prompt's @mentions into parts, and
    `namespace` (the kernel's user namespace) is where an agent's `inspect` looks."""

    def __init__(
        self, send: Send, chat: Chat, gather: Gather, *, namespace: Mapping[str, Any] | None = None
    ) -> None:
        self._send, self._chat, self._gather = send, chat, gather
        self._namespace: Mapping[str, Any] = namespace if namespace is not None else {}
        self._runs: dict[str, AnswerRun] = {}
        self._links: dict[str, CommLink] = {}
        self._agents: dict[str, NotebookAgent] = {}
        self._lock = threading.Lock()

    @property
    def sessions(self) -> Sessions:
        return self._chat.sessions

    def handle(self, data: object) -> None:
        """One message from the frontend; whatever is wrong is answered with one line."""
        try:
            self._dispatch(parse_request(data))
        except KimiError as exc:
            request_id = data.get("id") if isinstance(data, dict) else None
            error: ErrorMessage = {"type": "error", "message": str(exc)}
            if isinstance(request_id, str):
                error["id"] = request_id
            self._send(error)

    def _dispatch(self, message: ToKernel) -> None:
        if message["type"] == "hello":
            if message["version"] != PROTOCOL_VERSION:
                raise KimiError(
                    f"this kernel's kimi-jupyter speaks protocol v{PROTOCOL_VERSION}, the page "
                    f"v{message['version']}: reload the page or restart the kernel"
                )
            self._send({"type": "sessions", "version": PROTOCOL_VERSION,
                        "sessions": self.sessions.names(),
                        "default": self._chat.session_name})  # fmt: skip
        elif message["type"] == "list_turns":
            self._list_turns(message["session"] or self._chat.session_name)
        elif message["type"] == "ask":
            self._ask(message)
        elif message["type"] == "agent_ask":
            self._agent_ask(message)
        elif message["type"] == "stop":
            self._stop(message["id"])
        elif message["type"] == "agent_result":
            self._agent_result(message)
        elif (run := self._run(message["id"])) is not None:  # confirm_reply
            run.answer(message["call_id"], message["run"])

    def _stop(self, request_id: str) -> None:
        with self._lock:
            agent = self._agents.get(request_id)
            run, link = self._runs.get(request_id), self._links.get(request_id)
        if agent is not None:
            agent.stop()  # the run's stop, and the step waiting on the link released
        elif run is not None:
            run.stop()
        if link is not None:
            link.release()

    def _run(self, request_id: str) -> AnswerRun | None:
        with self._lock:
            return self._runs.get(request_id)

    def _link(self, turn_id: str) -> CommLink | None:
        with self._lock:
            return self._links.get(turn_id)

    def link(self, turn_id: str) -> CommLink:
        """The notebook of agent turn `turn_id`, reached through this panel's comm."""
        link = CommLink(self._send)
        with self._lock:
            self._links[turn_id] = link
        return link

    def unlink(self, turn_id: str) -> None:
        with self._lock:
            self._links.pop(turn_id, None)

    def _agent_result(self, message: AgentResultRequest) -> None:
        link = self._link(message["id"])
        if link is None:
            raise ProtocolError(
                f"agent_result for agent turn {message['id']!r}, which is not running: ignored"
            )
        link.deliver(message)

    def _list_turns(self, name: str) -> None:
        session = self.sessions.get(name)
        turns: list[TurnEntry] = [
            {"prompt": _prompt_text(e.prompt.content), "record": turn_record(e.turn, name)}
            for e in list(session.exchanges)
        ]
        self._send({"type": "turns", "session": name, "turns": turns})

    def _ask(self, message: AskRequest) -> None:
        with supplied(from_message(message.get("notebook"))):  # what `@notebook` reads
            request_id, session, prompt, parts = self._question(message)
        run = AnswerRun(self._chat, prompt, *parts, session=session,
                        options=AskOptions(tools=True))  # fmt: skip
        with self._lock:
            self._runs[request_id] = run
        self._send({"type": "start", "id": request_id, "session": session})
        run.start(self._relay(request_id, session))

    def _agent_ask(self, message: AgentAskRequest) -> None:
        budget = StepBudget(message["cap"]) if "cap" in message else StepBudget()
        request_id, session, prompt, parts = self._question(message)
        agent = NotebookAgent(self._chat, prompt, *parts, frontend=self.link(request_id),
                              mode=message["mode"], budget=budget, namespace=self._namespace,
                              session=session, turn_id=request_id)  # fmt: skip
        with self._lock:
            self._runs[request_id], self._agents[request_id] = agent.run, agent
        self._send({"type": "start", "id": request_id, "session": session})
        agent.start(self._relay(request_id, session))

    def _question(self, message: AskRequest | AgentAskRequest) -> tuple[str, str, str, list[Part]]:
        """The id, session, prompt and gathered parts of an `ask` or `agent_ask`."""
        prompt = message["prompt"].strip()
        if not prompt:
            raise KimiError("write a question first")
        parts = self._gather(prompt)  # in the kernel's main thread: it reads the namespace
        return message["id"], message["session"] or self._chat.session_name, prompt, parts

    def _relay(self, request_id: str, session: str) -> Callable[[RunEvent], None]:
        return _Relay(request_id, session, self._send, lambda: self._forget(request_id)).add

    def _forget(self, request_id: str) -> None:
        with self._lock:
            self._runs.pop(request_id, None)
            self._agents.pop(request_id, None)
            self._links.pop(request_id, None)

    def close(self) -> None:
        """The comm closed: nobody is left to answer, so every run's waiting call is skipped
        and every agent turn stops where it is (the notebook it acted on is out of reach)."""
        with self._lock:
            runs, links = list(self._runs.values()), list(self._links.values())
            agents = list(self._agents.values())
        for agent in agents:
            agent.stop()
        for run in runs:
            run.approvals.release()
        for link in links:
            link.release()


class _Relay:
    """One run's listener: its events as protocol messages, deltas sent at most every
    FLUSH_SECONDS (the run already joined the steps' text)."""

    def __init__(self, request_id: str, session: str, send: Send, ended: Callable[[], None]):
        self._id, self._session, self._send, self._ended = request_id, session, send, ended
        self._pending: list[tuple[str, str]] = []
        self._last = time.monotonic()

    def add(self, event: RunEvent) -> None:
        if isinstance(event, ReasoningDelta | ContentDelta):
            if event.text:
                kind = "reasoning" if isinstance(event, ReasoningDelta) else "content"
                self._pending.append((kind, event.text))
            if time.monotonic() - self._last >= FLUSH_SECONDS:
                self.flush()
            return
        message = self._message(event)
        if message is not None:
            self.flush()  # the text before it, then it
            self._send(message)
        if isinstance(event, RunEnded):
            self._ended()

    def _message(self, event: RunEvent) -> ToFrontend | None:
        i = self._id
        if isinstance(event, ToolStarted):
            call: CallData = {"id": event.call.id, "name": event.call.name,
                              "arguments": event.call.arguments}  # fmt: skip
            start: ToolStartMessage = {"type": "tool_start", "id": i, "call": call,
                                       "step": event.step, "confirm": event.confirm}  # fmt: skip
            return start
        if isinstance(event, ToolFinished):
            result = cast(ToolResultData, event.result.to_json())
            return {"type": "tool_end", "id": i, "result": result}
        if isinstance(event, ApprovalRequested):
            return {"type": "confirm", "id": i, "call_id": event.call.id,
                    "timeout": event.timeout}  # fmt: skip
        if isinstance(event, ApprovalSettled):
            return {"type": "confirm_end", "id": i, "call_id": event.call.id,
                    "run": event.run, "reason": event.by}  # fmt: skip
        if isinstance(event, RetryScheduled):
            return {"type": "status", "id": i, "text": event.text}
        if isinstance(event, RunEnded):
            return self._end(event)
        return None

    def _end(self, event: RunEnded) -> ToFrontend:
        record = turn_record(event.turn, self._session)
        if event.error is None:
            return {"type": "done", "id": self._id, "record": record}
        return {"type": "error", "id": self._id, "message": str(event.error),
                "record": record if event.recorded else None}  # fmt: skip

    def flush(self) -> None:
        self._last = time.monotonic()
        kinds: tuple[Literal["reasoning", "content"], ...] = ("reasoning", "content")
        for kind in kinds:
            text = "".join(t for k, t in self._pending if k == kind)
            if text:
                self._send({"type": "delta", "id": self._id, "kind": kind, "text": text})
        self._pending.clear()


def _prompt_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return next((getattr(p, "text", "") for p in content), "")
