"""The chat panel's comm protocol: every message kind typed, versioned and checked.

`labextension/src/chatprotocol.ts` is the TypeScript side; both read the fixtures in
`tests/fixtures/protocol/` (one file per kind: valid and invalid examples), so neither side
can drift alone. A message that does not fit is answered with one line (`ProtocolError`).

Frontend → kernel: `hello` {version} → `sessions`; `list_turns` {session} → `turns`;
`ask` {id, session, prompt, notebook?} → `start`, `delta`s, `status`, `tool_start`, `confirm`,
`confirm_end`, `tool_end`, and at the end `done` or `error`; `stop` {id};
`confirm_reply` {id, call_id, run}.

Agent mode (DESIGN §5): `agent_ask` {id, session, prompt, mode, cap?} starts agent turn
`id`, answered as `ask` is, plus an `agent_propose` {id, step, tool, args, preview,
needs_approval} for each notebook action; `auto` is only ever a request's explicit choice.
The frontend shows the approval card when `needs_approval` (its decision alone), carries
the action out or not, and answers `agent_result` {id, step, status, cell_id?, source?,
outputs?, cells?, message?}. Only the step that waits may be answered (`agent.link`);
`stop` {id} ends the turn and releases that step.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, TypedDict, Union

from .errors import KimiError

PROTOCOL_VERSION = 1


class ProtocolError(KimiError):
    """A comm message of an unknown kind, or one whose fields do not fit its kind."""


# Frontend → kernel


class HelloRequest(TypedDict):
    type: Literal["hello"]
    version: int


class ListTurnsRequest(TypedDict):
    type: Literal["list_turns"]
    session: str


class _NotebookFields(TypedDict):
    cells: list[dict[str, Any]]


class NotebookData(_NotebookFields, total=False):
    """The notebook a question's `@notebook`/`@cell:N` read: its cells as nbformat JSON
    (outputs cut down on the page), the index of the active cell, and its name."""

    current: int | None
    name: str


class _AskFields(TypedDict):
    type: Literal["ask"]
    id: str
    session: str
    prompt: str


class AskRequest(_AskFields, total=False):
    """Answer `prompt` in `session`; `notebook` when it mentions `@notebook` or `@cell:N`."""

    notebook: NotebookData


class StopRequest(TypedDict):
    type: Literal["stop"]
    id: str


class ConfirmReplyRequest(TypedDict):
    type: Literal["confirm_reply"]
    id: str
    call_id: str
    run: bool


AgentMode = Literal["ask", "ask_run_delete", "auto"]


class _AgentAskFields(TypedDict):
    type: Literal["agent_ask"]
    id: str
    session: str
    prompt: str
    mode: AgentMode


class AgentAskRequest(_AgentAskFields, total=False):
    """Answer `prompt` as an agent turn `id` in `session`: the notebook tools, each change
    approved as `mode` asks, at most `cap` actions (1 to 100, default 20; the kernel
    refuses any other cap in one line)."""

    cap: int


AgentStatus = Literal["done", "skipped", "edited_and_done", "failed", "stopped", "refused"]


class _AgentResultFields(TypedDict):
    type: Literal["agent_result"]
    id: str
    step: int
    status: AgentStatus


class AgentResultRequest(_AgentResultFields, total=False):
    """How the frontend settled an `agent_propose`. `cell_id`: the cell inserted (or acted
    on); `source`: the source actually used (edited before approval) or read; `outputs`:
    nbformat output dicts (run, read); `cells`: the summaries `list_cells` asked for;
    `message`: one line on why it failed or was refused."""

    cell_id: str
    source: str
    outputs: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    message: str


ToKernel = Union[  # noqa: UP007 - read at run time by `parse`
    HelloRequest,
    ListTurnsRequest,
    AskRequest,
    StopRequest,
    ConfirmReplyRequest,
    AgentAskRequest,
    AgentResultRequest,
]

# Kernel → frontend


class SessionsMessage(TypedDict):
    type: Literal["sessions"]
    version: int
    sessions: list[str]
    default: str


class TurnEntry(TypedDict):
    prompt: str
    record: dict[str, Any]


class TurnsMessage(TypedDict):
    type: Literal["turns"]
    session: str
    turns: list[TurnEntry]


class StartMessage(TypedDict):
    type: Literal["start"]
    id: str
    session: str


class DeltaMessage(TypedDict):
    type: Literal["delta"]
    id: str
    kind: Literal["reasoning", "content"]
    text: str


class StatusMessage(TypedDict):
    type: Literal["status"]
    id: str
    text: str


class CallData(TypedDict):
    id: str
    name: str
    arguments: str


class ToolStartMessage(TypedDict):
    type: Literal["tool_start"]
    id: str
    call: CallData
    step: int
    confirm: bool


class ConfirmMessage(TypedDict):
    type: Literal["confirm"]
    id: str
    call_id: str
    timeout: float


class ConfirmEndMessage(TypedDict):
    type: Literal["confirm_end"]
    id: str
    call_id: str
    run: bool
    reason: Literal["user", "timeout", "stopped"]


class ToolResultData(TypedDict):
    call_id: str
    name: str
    arguments: str
    status: Literal["ok", "error", "refused", "skipped", "echoed", "not run"]
    preview: str
    duration: float
    step: int


class ToolEndMessage(TypedDict):
    type: Literal["tool_end"]
    id: str
    result: ToolResultData


class DoneMessage(TypedDict):
    type: Literal["done"]
    id: str
    record: dict[str, Any]


class _ErrorFields(TypedDict):
    type: Literal["error"]
    message: str


class ErrorMessage(_ErrorFields, total=False):
    id: str | None
    record: dict[str, Any] | None


FrontendTool = Literal[
    "list_cells", "read_cell", "insert_cell", "edit_cell", "delete_cell", "run_cell"
]


class AgentPreview(TypedDict, total=False):
    """What the approval card shows, as far as the kernel knows it: for an insert the new
    code; for an edit the old (as the agent last read it) and new source; for a run or a
    delete the cell's source as last read. The frontend shows the document's own source
    wherever it differs: the document is the truth."""

    cell_id: str
    index: int
    cell_type: Literal["code", "markdown"]
    source: str
    old_source: str
    new_source: str


class AgentProposeMessage(TypedDict):
    type: Literal["agent_propose"]
    id: str
    step: int
    tool: FrontendTool
    args: dict[str, Any]
    preview: AgentPreview
    needs_approval: bool


ToFrontend = Union[  # noqa: UP007 - read at run time by `parse`
    SessionsMessage,
    TurnsMessage,
    StartMessage,
    DeltaMessage,
    StatusMessage,
    ToolStartMessage,
    ConfirmMessage,
    ConfirmEndMessage,
    ToolEndMessage,
    DoneMessage,
    ErrorMessage,
    AgentProposeMessage,
]

Direction = Literal["to_kernel", "to_frontend"]


def _by_kind(union: Any) -> dict[str, type]:
    kinds = {}
    for kind_type in typing.get_args(union):
        (kind,) = typing.get_args(typing.get_type_hints(kind_type)["type"])
        kinds[kind] = kind_type
    return kinds


KINDS: dict[Direction, dict[str, type]] = {
    "to_kernel": _by_kind(ToKernel),
    "to_frontend": _by_kind(ToFrontend),
}


def parse_request(data: object) -> ToKernel:
    """A frontend message checked against its kind; `ProtocolError` (one line) if not."""
    return typing.cast("ToKernel", parse(data, "to_kernel"))


def parse(data: object, direction: Direction) -> dict[str, Any]:
    """`data` checked against the kind its `type` names in `direction`."""
    if not isinstance(data, dict):
        raise ProtocolError(f"a message must be a JSON object, not {type(data).__name__}")
    kind = data.get("type")
    kind_type = KINDS[direction].get(kind) if isinstance(kind, str) else None
    if kind_type is None:
        raise ProtocolError(f"unknown message type {str(kind)[:40]!r}")
    problem = _problem(data, kind_type)
    if problem:
        raise ProtocolError(f"malformed {kind!r} message: {problem}")
    return data


def _problem(value: object, expected: Any, where: str = "") -> str | None:
    """What is wrong with `value` as an `expected` (None: nothing)."""
    if expected is Any:
        return None
    if typing.is_typeddict(expected):
        return _typeddict_problem(value, expected, where)
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin is Literal:
        return None if value in args else f"{where or 'value'} must be one of {list(args)}"
    if origin in (Union, types.UnionType):
        fits = any(_problem(value, arg, where) is None for arg in args)
        return None if fits else f"{where or 'value'} has the wrong type"
    if origin is list:
        if not isinstance(value, list):
            return f"{where or 'value'} must be a list"
        problems = (_problem(item, args[0], f"{where}[{i}]") for i, item in enumerate(value))
        return next((p for p in problems if p), None)
    if origin is dict:
        return None if isinstance(value, dict) else f"{where or 'value'} must be an object"
    return _scalar_problem(value, expected, where)


def _typeddict_problem(value: object, expected: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where or 'value'} must be an object"
    hints = typing.get_type_hints(expected)
    for key in expected.__required_keys__:
        if key not in value:
            return f"{where}{'.' if where else ''}{key} is missing"
    for key, hint in hints.items():
        if key in value:
            problem = _problem(value[key], hint, f"{where}{'.' if where else ''}{key}")
            if problem:
                return problem
    return None


def _scalar_problem(value: object, expected: Any, where: str) -> str | None:
    name = where or "value"
    if expected is type(None):
        return None if value is None else f"{name} must be null"
    if expected is bool:
        return None if isinstance(value, bool) else f"{name} must be true or false"
    if expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{name} must be a whole number"
    if expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"{name} must be a number"
    if expected is str:
        return None if isinstance(value, str) else f"{name} must be a string"
    raise TypeError(f"the protocol checker cannot check {expected!r}")  # a bug here, not input
