"""Kernel functions the model may call: `@tool`, the registry, and running one call.

```python
from kimi_jupyter import Chat, tool

@tool
def population(city: str) -> int:
    '''The population of a city.

    Args:
        city: the city's English name.
    '''
    return {"Paris": 2_102_650}.get(city, 0)

Chat(tools=[population]).ask("How many people live in Paris?")
```

Only functions offered for a request can run; a call to anything else is refused back to
the model. A tool that raises, or gets arguments that do not fit its signature, answers the
model with a one-line error instead of showing the user a traceback. Results go through the
same converters as `@` mentions (a DataFrame becomes compact JSON, a figure an image).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, overload
from urllib.parse import urlsplit

from ._binding import bind
from ._schema import FunctionSchema, ToolArgumentError, ToolDefinitionError, function_schema
from .config import Settings
from .conversation import Message, Part, TextPart
from .errors import KimiError
from .events import ToolCall, ToolResult, ToolStatus

__all__ = [
    "WEB_SEARCH",
    "Edited",
    "Tool",
    "ToolDefinitionError",
    "ToolReply",
    "Toolbox",
    "calling",
    "run_call",
    "tool",
]

WEB_SEARCH = "$web_search"
MAX_STEPS = 8
PREVIEW_CHARS = 600
RESULT_CHARS = 20_000  # what one tool result may add to the conversation
_MOONSHOT_HOSTS = ("api.moonshot.ai", "api.moonshot.cn")


@dataclass(frozen=True)
class Edited:
    """An approval with the user's own arguments: the call runs with these instead."""

    arguments: Mapping[str, Any]


Confirm = Callable[[ToolCall], "bool | str | Edited"]
"""Whether a call may run: True runs it; `Edited` runs it with the user's arguments; False
is the user's "no"; a string says why it did not run without anyone saying no (no answer in
time, the answer was stopped)."""


_CALLING: contextvars.ContextVar[ToolCall | None] = contextvars.ContextVar(
    "kimi_calling", default=None
)


def calling() -> ToolCall | None:
    """Inside a tool function run by `run_call`: the call it answers, with the user's
    arguments when they edited it (else None)."""
    return _CALLING.get()


@dataclass(frozen=True)
class Tool:
    """A kernel function the model may call, with its JSON schema."""

    func: Callable[..., Any]
    schema: FunctionSchema
    confirm: bool = False

    @property
    def name(self) -> str:
        return self.schema.name

    def to_wire(self) -> dict[str, Any]:
        return self.schema.to_wire()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


class Toolbox:
    """The tools registered in this kernel process; `Toolbox.default()` is what `@tool` fills."""

    _default: Toolbox | None = None
    _default_lock = threading.Lock()

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> Toolbox:
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def register(self, item: Tool) -> Tool:
        with self._lock:
            self._tools[item.name] = item  # re-running a cell replaces the old definition
        return item

    def unregister(self, name: str) -> None:
        with self._lock:
            self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        with self._lock:
            return self._tools.get(name)

    def all(self) -> list[Tool]:
        with self._lock:
            return list(self._tools.values())

    def resolve(self, spec: object) -> list[Tool]:
        """The tools `spec` offers: True (every registered one), a name, a function, a
        `Tool`, or an iterable of those. A function passed directly is offered as is."""
        if spec is None or spec is False:
            return []
        if spec is True:
            return self.all()
        items = [spec] if isinstance(spec, str | Tool) or callable(spec) else spec
        if not isinstance(items, Iterable):
            raise KimiError(f"tools must be functions, names or True, not {type(spec).__name__}")
        found: dict[str, Tool] = {}
        for item in items:
            resolved = self._one(item)
            found[resolved.name] = resolved
        return list(found.values())

    def _one(self, item: object) -> Tool:
        if isinstance(item, Tool):
            return item
        if isinstance(item, str):
            known = self.get(item)
            if known is None:
                names = ", ".join(sorted(t.name for t in self.all())) or "none yet"
                raise KimiError(
                    f"no tool named {item!r} (registered: {names}); decorate it with @tool"
                )
            return known
        attached = getattr(item, "__kimi_tool__", None)
        if isinstance(attached, Tool):
            return attached
        if callable(item):
            return Tool(item, function_schema(item))
        raise KimiError(f"cannot offer a {type(item).__name__} as a tool: pass a function")


@overload
def tool(func: Callable[..., Any], /) -> Callable[..., Any]: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, confirm: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    confirm: bool = False,
) -> Any:
    """Register a kernel function the model may call (`@tool` or `@tool(confirm=True)`).

    The schema comes from the signature, type hints and docstring; the function itself is
    returned unchanged, so it still works as a plain function.
    """

    def register(f: Callable[..., Any]) -> Callable[..., Any]:
        item = Tool(f, function_schema(f, name=name, description=description), confirm)
        Toolbox.default().register(item)
        # Builtins and some callables take no attributes; they are found by name instead.
        with contextlib.suppress(AttributeError, TypeError):
            f.__kimi_tool__ = item  # type: ignore[attr-defined]
        return f

    return register(func) if func is not None else register


def web_search_spec() -> dict[str, Any]:
    """Kimi's builtin search, declared with no parameters (KIMI_WIRE §2.7)."""
    return {"type": "builtin_function", "function": {"name": WEB_SEARCH}}


def check_web_search(settings: Settings) -> None:
    """`$web_search` runs on Moonshot's servers; elsewhere it is refused before sending."""
    host = urlsplit(settings.base_url).hostname or ""
    if host in _MOONSHOT_HOSTS or settings.allow_web_search:
        return
    raise KimiError(
        f"--web-search needs Moonshot's API (api.moonshot.ai or api.moonshot.cn); this kernel "
        f"talks to {host or settings.base_url}. Set KIMI_ALLOW_WEB_SEARCH=1 if that endpoint "
        "passes Kimi's $web_search through"
    )


@dataclass(frozen=True)
class ToolReply:
    """What a tool returns to decide its answer itself: `parts` go to the model as they are
    (the tool has bounded them), `status` and `preview` go into the turn's record. The
    notebook agent's tools answer this way (a skipped cell is `skipped`, not `ok`)."""

    parts: tuple[Part, ...]
    status: ToolStatus = "ok"
    preview: str = ""
    arguments: str | None = None  # the JSON arguments it actually ran with (a user's edit)


@dataclass(frozen=True)
class Outcome:
    """One call's result: the panel record and the tool message for the conversation."""

    result: ToolResult
    message: Message


def run_call(
    call: ToolCall,
    tools: Mapping[str, Tool],
    step: int,
    confirm: Confirm | None,
) -> Outcome:
    """Run one call the model made; anything that goes wrong becomes the model's answer."""
    if call.type == "builtin_function" or call.name == WEB_SEARCH:
        # Kimi runs the search; the arguments go back unchanged, with the name (§2.7).
        return _outcome(call, step, "echoed", call.arguments, 0.0, name=call.name)
    offered = tools.get(call.name)
    if offered is None:
        names = ", ".join(sorted(tools)) or "none"
        text = f"error: there is no tool named {call.name!r}; the tools offered are: {names}"
        return _outcome(call, step, "refused", text, 0.0)
    try:
        arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        args, kwargs = bind(offered.func, offered.schema, arguments)
    except ValueError as exc:  # JSONDecodeError
        return _outcome(call, step, "error", f"error: the arguments are not JSON: {exc}", 0.0)
    except ToolArgumentError as exc:
        return _outcome(call, step, "error", f"error: {exc}", 0.0)
    verdict = (confirm or ask_in_terminal)(call) if offered.confirm else True
    if isinstance(verdict, Edited):  # the record keeps what ran; the model is told below
        call = replace(call, arguments=json.dumps(dict(verdict.arguments), ensure_ascii=False))
        try:
            args, kwargs = bind(offered.func, offered.schema, dict(verdict.arguments))
        except ToolArgumentError as exc:
            return _outcome(call, step, "error", f"error: the user's edit: {exc}", 0.0)
    elif verdict is not True:
        why = "the user chose not to run this call" if verdict is False else f"not run: {verdict}"
        return _outcome(call, step, "skipped", f"error: {why}", 0.0)
    start = time.monotonic()
    token = _CALLING.set(call)
    try:
        value = offered.func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the model gets any error; Ctrl-C still stops
        text = f"error: {call.name} raised {type(exc).__name__}: {exc}"
        return _outcome(call, step, "error", text, time.monotonic() - start)
    finally:
        _CALLING.reset(token)
    if isinstance(value, ToolReply):
        return _replied(call, step, value, time.monotonic() - start)
    outcome = _converted(call, step, value, time.monotonic() - start)
    if isinstance(verdict, Edited) and isinstance(outcome.message.content, str):
        note = f"(the user edited the arguments before it ran: {call.arguments})\n"
        message = replace(outcome.message, content=note + outcome.message.content)
        outcome = replace(outcome, message=message)
    return outcome


def not_run(call: ToolCall, step: int, why: str) -> Outcome:
    """The answer for a call that will not run (the step limit, or the user stopped)."""
    return _outcome(call, step, "not run", f"error: not run: {why}", 0.0)


def ask_in_terminal(call: ToolCall) -> bool:
    """The fallback confirmation: a y/N prompt (no stdin, e.g. headless: no)."""
    try:
        reply = input(f"Kimi wants to run {call.name}({_short(call.arguments, 200)}). Run? [y/N] ")
    except Exception:  # noqa: BLE001 - EOF, or IPython's StdinNotImplementedError: no stdin
        return False
    return reply.strip().lower() in ("y", "yes")


def _converted(call: ToolCall, step: int, value: Any, duration: float) -> Outcome:
    from .context import Limits, convert, describe

    try:
        parts = convert(value, None, limits=Limits(max_text_chars=RESULT_CHARS))
    except KimiError as exc:
        text = f"error: {call.name} returned a {type(value).__name__} that cannot be sent: {exc}"
        return _outcome(call, step, "error", text, duration)
    texts = [p.text for p in parts if isinstance(p, TextPart)]
    preview = "\n".join(texts) or ", ".join(describe(p) for p in parts)
    media = [describe(p) for p in parts if not isinstance(p, TextPart)]
    if media and texts:
        preview += "\n" + ", ".join(media)
    # A figure goes back as an image part inside the tool message. [UNVERIFIED] that Kimi
    # reads images there; the simulator accepts every part type in every role.
    content: str | tuple[Part, ...] = "\n".join(texts) if not media else tuple(parts)
    if content == "":
        content = "(no result)"
    result = ToolResult(
        call.id, call.name, call.arguments, "ok", _short(preview, PREVIEW_CHARS), duration, step
    )
    return Outcome(result, Message("tool", content, tool_call_id=call.id, name=call.name))


def _replied(call: ToolCall, step: int, reply: ToolReply, duration: float) -> Outcome:
    texts = [p.text for p in reply.parts if isinstance(p, TextPart)]
    content: str | tuple[Part, ...] = "\n".join(texts)
    if len(texts) < len(reply.parts):  # media: the parts as they are, images in place
        content = reply.parts
    preview = _short(reply.preview or "\n".join(texts), PREVIEW_CHARS)
    arguments = call.arguments if reply.arguments is None else reply.arguments
    result = ToolResult(call.id, call.name, arguments, reply.status, preview, duration, step)
    return Outcome(result, Message("tool", content or "(no result)", tool_call_id=call.id,
                                   name=call.name))  # fmt: skip


def _outcome(
    call: ToolCall,
    step: int,
    status: ToolStatus,
    text: str,
    duration: float,
    *,
    name: str | None = None,
) -> Outcome:
    result = ToolResult(
        call.id, call.name, call.arguments, status, _short(text, PREVIEW_CHARS), duration, step
    )
    message = Message("tool", text, tool_call_id=call.id, name=name or call.name or None)
    return Outcome(result, message)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
