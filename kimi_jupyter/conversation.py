"""Messages, sessions and the wire payload (DESIGN §4).

Rules that the API enforces and this module owns:
- sampling fields are sent only when the user set them (kimi-k2.6 rejects other values);
- `max_completion_tokens`, never the deprecated `max_tokens`;
- `thinking` is an object; with thinking on, every replayed assistant message that has
  `tool_calls` carries `reasoning_content` (else HTTP 400), and with `keep: "all"` every
  assistant message does; otherwise reasoning is not replayed;
- the oldest turns are dropped to fit the context window, never the system message and
  never half of a turn (a tool exchange lives inside one turn);
- media is counted at what a vision model charges (`_media.media_tokens`: one token per
  28×28 pixels). Earlier turns replay their images and videos newest first, while they fit
  `Session.media_budget` bytes and the window; an older turn's media is then replaced by a
  one-line note and its text kept (the turn is dropped only if even its text does not fit).
  A request carries at most `BODY_MEDIA_BYTES` of base64 media (Kimi takes 100 MB bodies).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast, get_args

from ._media import base64_size, media_note, media_tokens, megabytes
from ._record import Record
from .config import Settings
from .errors import ContextError, ContextLengthError, KimiError
from .turn import ToolCall, Turn

Role = Literal["system", "user", "assistant", "tool"]
_ROLES: tuple[Role, ...] = get_args(Role)
REPLAY_MEDIA_BYTES = 16_000_000  # media earlier turns may replay in one request (raw bytes)
BODY_MEDIA_BYTES = 90_000_000  # base64 media in one request; Kimi's body limit is 100 MB


@dataclass(frozen=True)
class TextPart:
    """Text content."""

    text: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True)
class MediaPart:
    """An image or a video, sent inline as a base64 data URL."""

    data: bytes = field(repr=False)
    mime: str

    @property
    def kind(self) -> Literal["image_url", "video_url"]:
        return "video_url" if self.mime.startswith("video/") else "image_url"

    def to_wire(self) -> dict[str, Any]:
        url = f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"
        return {"type": self.kind, self.kind: {"url": url}}


Part = TextPart | MediaPart


def _part_to_json(part: Part, media: dict[str, MediaPart]) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    digest = hashlib.sha256(part.data).hexdigest()
    media.setdefault(digest, part)
    return {"type": "media", "mime": part.mime, "sha256": digest, "size": len(part.data)}


def _part_from_json(record: Record, media: Mapping[str, MediaPart]) -> Part:
    if record.choice("type", ("text", "media")) == "text":
        return TextPart(record.text("text"))
    found = media.get(record.text("sha256"))
    if found is not None:
        return found
    size = record.integer("size")
    return TextPart(f"[{record.text('mime')}, {size:,} bytes: not saved with the notebook]")


@dataclass(frozen=True)
class Message:
    """One chat message as the API sees it."""

    role: Role
    content: str | tuple[Part, ...] = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None

    def to_wire(self, *, replay_reasoning: bool = False) -> dict[str, Any]:
        wire: dict[str, Any] = {"role": self.role}
        if isinstance(self.content, str):
            wire["content"] = self.content
        else:
            wire["content"] = [part.to_wire() for part in self.content]
        if self.tool_calls:
            wire["tool_calls"] = [call.to_wire() for call in self.tool_calls]
        if self.tool_call_id is not None:
            wire["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            wire["name"] = self.name
        if replay_reasoning:
            wire["reasoning_content"] = self.reasoning or ""
        return wire

    def to_json(self, media: dict[str, MediaPart]) -> dict[str, Any]:
        """The message as saved: each media part as its SHA-256, its bytes added to `media`."""
        content = self.content
        return {
            "role": self.role,
            "content": content
            if isinstance(content, str)
            else [_part_to_json(p, media) for p in content],
            "tool_calls": [call.to_wire() for call in self.tool_calls],
            "tool_call_id": self.tool_call_id,
            "name": self.name,
            "reasoning": self.reasoning,
        }

    @classmethod
    def from_json(cls, data: object, media: Mapping[str, MediaPart]) -> Message:
        """The inverse of `to_json`; a media part missing from `media` becomes a text note."""
        record = Record.of(data, "message")
        raw = record.get("content")
        content: str | tuple[Part, ...] = (
            record.text("content")
            if raw is None or isinstance(raw, str)
            else tuple(_part_from_json(p, media) for p in record.records("content"))
        )
        return cls(
            cast(Role, record.choice("role", _ROLES)),
            content,
            tuple(ToolCall.from_wire(c) for c in record.records("tool_calls")),
            record.optional_text("tool_call_id"),
            record.optional_text("name"),
            record.optional_text("reasoning"),
        )

    def estimate_tokens(self) -> int:
        """A cheap upper-leaning estimate: UTF-8 bytes / 3, media by pixel size."""
        if isinstance(self.content, str):
            size, media = len(self.content.encode()), 0
        else:
            size = sum(len(p.text.encode()) for p in self.content if isinstance(p, TextPart))
            media = sum(media_tokens(p.data, p.mime) for p in self.media())
        size += len((self.reasoning or "").encode())
        size += sum(len(c.arguments) + len(c.name) for c in self.tool_calls)
        return size // 3 + media + 8

    def media(self) -> list[MediaPart]:
        """The images and videos this message carries."""
        content = self.content
        return [] if isinstance(content, str) else [p for p in content if isinstance(p, MediaPart)]

    def without_media(self) -> Message:
        """This message with each image or video replaced by a one-line note (for replay)."""
        if not self.media():
            return self
        content = cast(tuple[Part, ...], self.content)
        notes = (TextPart(media_note(p.data, p.mime)) if isinstance(p, MediaPart) else p
                 for p in content)  # fmt: skip
        return replace(self, content=tuple(notes))


@dataclass(frozen=True)
class Exchange:
    """A session's unit of history: the user's message and what the model answered."""

    prompt: Message
    turn: Turn
    replies: tuple[Message, ...] = ()
    cell_id: str | None = None
    answer: Message | None = None  # the last step's message, when tool steps came before it

    def messages(self) -> Iterator[Message]:
        """The wire messages; a tool call without its results is never replayed alone."""
        yield self.prompt
        yield from self.replies
        if self.answer is not None:
            if self.answer.content:
                yield self.answer
        elif self.turn.answer:
            yield Message("assistant", self.turn.answer, reasoning=self.turn.reasoning)

    @property
    def sendable(self) -> bool:
        """Only exchanges that got an answer are replayed (the API rejects empty content)."""
        return bool(self.turn.answer or self.replies)

    def to_json(self, media: dict[str, MediaPart]) -> dict[str, Any]:
        """Everything but the turn (which is saved as its own record); see `Message.to_json`."""
        return {
            "prompt": self.prompt.to_json(media),
            "replies": [message.to_json(media) for message in self.replies],
            "answer": None if self.answer is None else self.answer.to_json(media),
            "cell_id": self.cell_id,
        }

    @classmethod
    def from_json(cls, data: object, turn: Turn, media: Mapping[str, MediaPart]) -> Exchange:
        """The inverse of `to_json`, given the turn it was saved with."""
        record = Record.of(data, "exchange")
        answer = record.record("answer")
        return cls(
            Message.from_json(record.required("prompt"), media),
            turn,
            tuple(Message.from_json(m, media) for m in record.records("replies")),
            cell_id=record.optional_text("cell_id"),
            answer=None if answer is None else Message.from_json(answer, media),
        )


@dataclass(frozen=True)
class Options:
    """Per-request choices; `None` means "not set, send nothing"."""

    model: str | None = None
    thinking: bool = True
    keep_thinking: bool = False
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: Sequence[str] | None = None
    response_format: dict[str, Any] | None = None
    tools: Sequence[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    stream: bool = True


class Session:
    """A named conversation held in the kernel process.

    `media_budget` is how many bytes of images and videos earlier turns may replay in one
    request (newest first); older media is replaced by a note, its turn's text kept.
    """

    media_budget: int = REPLAY_MEDIA_BYTES

    def __init__(self, name: str, system: str | None = None) -> None:
        self.name = name
        self.system = system
        self.exchanges: list[Exchange] = []
        self.media: dict[str, MediaPart] = {}  # by SHA-256: each image or video kept once
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Session({self.name!r}, {len(self.exchanges)} exchanges)"

    def record(self, exchange: Exchange) -> None:
        """Append, or replace the exchange of the same cell (a re-run cell)."""
        with self.lock:
            exchange = replace(exchange, prompt=self._intern(exchange.prompt))
            if exchange.cell_id is not None:
                for i, old in enumerate(self.exchanges):
                    if old.cell_id == exchange.cell_id:
                        self.exchanges[i] = exchange
                        return
            self.exchanges.append(exchange)

    def annotate(self, turn_id: str, **meta: Any) -> Turn | None:
        """Add `meta` to the recorded turn `turn_id` (what a driver of the run keeps beside
        the answer, like the agent's step records), so history, save and load show it.
        The annotated turn, or None when no exchange holds that turn."""
        with self.lock:
            for i, exchange in enumerate(self.exchanges):
                if exchange.turn.id == turn_id:
                    turn = with_meta(exchange.turn, **meta)
                    self.exchanges[i] = replace(exchange, turn=turn)
                    return turn
        return None

    def reset(self) -> None:
        with self.lock:
            self.exchanges.clear()
            self.media.clear()

    def _intern(self, message: Message) -> Message:
        if isinstance(message.content, str):
            return message
        parts = tuple(
            self.media.setdefault(hashlib.sha256(p.data).hexdigest(), p)
            if isinstance(p, MediaPart)
            else p
            for p in message.content
        )
        return replace(message, content=parts)

    @property
    def turns(self) -> list[Turn]:
        return [exchange.turn for exchange in self.exchanges]

    def request(
        self,
        prompt: Message,
        settings: Settings,
        options: Options,
        *,
        cell_id: str | None = None,
        replies: Sequence[Message] = (),
    ) -> tuple[dict[str, Any], int]:
        """The wire payload for `prompt` (and this turn's tool steps so far, `replies`) after
        the history, and how many exchanges it dropped."""
        with self.lock:
            history = [
                e
                for e in self.exchanges
                if e.sendable and (cell_id is None or e.cell_id != cell_id)
            ]
        max_out = options.max_completion_tokens or settings.output_reserve
        budget = settings.context_window - max_out
        head = [Message("system", self.system)] if self.system else []
        fixed = sum(m.estimate_tokens() for m in [*head, prompt, *replies])
        if fixed > budget:
            raise ContextLengthError(
                f"the prompt is about {fixed:,} tokens; with {max_out:,} reserved for the answer "
                f"the model's {settings.context_window:,}-token window leaves {budget:,}",
                status=400,
            )
        sent = base64_size(_media_bytes([prompt, *replies]))
        if sent > BODY_MEDIA_BYTES:
            raise ContextError(
                f"the images and videos of this message come to {megabytes(sent)} as base64, "
                f"over the {megabytes(BODY_MEDIA_BYTES)} one request may carry; "
                "send fewer or smaller files"
            )
        room = (BODY_MEDIA_BYTES - sent) * 3 // 4
        replayed, dropped = _fit(history, budget - fixed, min(self.media_budget, room))
        messages = [*head, *replayed, prompt, *replies]
        payload = build_payload(messages, settings, options)
        return payload, dropped


def _fit(history: list[Exchange], budget: int, media_budget: int) -> tuple[list[Message], int]:
    """The messages of the newest exchanges that fit `budget` tokens, and how many older
    exchanges were left out. Media replays while it fits `media_budget` bytes; from the first
    exchange whose media does not fit (bytes or tokens), older media is replaced by notes."""
    kept: list[list[Message]] = []
    used = 0
    for exchange in reversed(history):
        messages = list(exchange.messages())
        nbytes = _media_bytes(messages)
        cost = sum(m.estimate_tokens() for m in messages)
        if nbytes and (nbytes > media_budget or used + cost > budget):
            messages = [m.without_media() for m in messages]
            cost = sum(m.estimate_tokens() for m in messages)
            nbytes = media_budget = 0
        if used + cost > budget:
            break
        kept.append(messages)
        used += cost
        media_budget -= nbytes
    return [m for messages in reversed(kept) for m in messages], len(history) - len(kept)


def _media_bytes(messages: Sequence[Message]) -> int:
    return sum(len(part.data) for message in messages for part in message.media())


def build_payload(
    messages: Sequence[Message], settings: Settings, options: Options
) -> dict[str, Any]:
    """The JSON body for `/chat/completions`; only what the user set is sent."""
    replay_all = options.thinking and options.keep_thinking
    wire = [
        m.to_wire(
            replay_reasoning=m.role == "assistant"
            and options.thinking
            and (replay_all or bool(m.tool_calls))
        )
        for m in messages
    ]
    thinking: dict[str, Any] = {"type": "enabled" if options.thinking else "disabled"}
    if replay_all:
        thinking["keep"] = "all"
    payload: dict[str, Any] = {
        "model": options.model or settings.model,
        "messages": wire,
        "thinking": thinking,
    }
    if not options.thinking and not settings.is_hosted:
        payload["chat_template_kwargs"] = {"thinking": False}  # vLLM/SGLang ignore `thinking`
    optional = {
        "max_completion_tokens": options.max_completion_tokens,
        "temperature": options.temperature,
        "top_p": options.top_p,
        "stop": list(options.stop) if options.stop else None,
        "response_format": options.response_format,
        "tools": list(options.tools) if options.tools else None,
        "tool_choice": options.tool_choice,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    if options.stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return payload


_SESSION_NAME_CHARS = 100


def check_session_name(name: object) -> str:
    """`name` if it can name a session; else a one-line `KimiError`.

    Spaces and quotes are fine (`%%kimi -s "my session"`; a saved notebook quotes the name
    in its `%%kimi -s` lines). Refused: an empty name, one over 100 characters, spaces at
    either end, and control or invisible formatting characters (a newline would break the
    `%%kimi` line, bidi overrides disguise names in listings).
    """
    if (
        isinstance(name, str)
        and 0 < len(name) <= _SESSION_NAME_CHARS
        and name == name.strip()
        and not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name)
    ):
        return name
    raise KimiError(
        f"{name!r} cannot name a session: use 1 to {_SESSION_NAME_CHARS} printable "
        "characters, without spaces at either end"
    )


class Sessions:
    """Named sessions; the kernel's are `KernelContext.current().sessions`. Names are checked
    by `check_session_name` when a session is made."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, name: str = "default", *, system: str | None = None) -> Session:
        with self._lock:
            session = self._sessions.get(name)
            if session is None:
                session = self._sessions[check_session_name(name)] = Session(name, system)
            elif system is not None:
                session.system = system
            return session

    def new(self, name: str = "default", *, system: str | None = None) -> Session:
        with self._lock:
            session = self._sessions[check_session_name(name)] = Session(name, system)
            return session

    def names(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def __contains__(self, name: object) -> bool:
        return name in self._sessions


def with_meta(turn: Turn, **meta: Any) -> Turn:
    return replace(turn, meta={**turn.meta, **meta})
