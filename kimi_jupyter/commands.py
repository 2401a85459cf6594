"""`%kimi` session commands that talk no HTTP: reset, undo, history, sessions, usage, save, load.

Each returns a text/plain + text/html bundle (or raises `KimiError` with a one-line message).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import os
import shlex
import warnings
from pathlib import Path
from typing import Any

from kimi_jupyter._record import Record
from kimi_jupyter.agent.steps import StepRecord
from kimi_jupyter.context import describe
from kimi_jupyter.conversation import (
    Exchange,
    MediaPart,
    Message,
    Session,
    Sessions,
    check_session_name,
)
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import Usage
from kimi_jupyter.render.bundle import TURN_MIME, static_bundle
from kimi_jupyter.tools import Toolbox
from kimi_jupyter.turn import Turn

SAVE_VERSION = 2  # 1: outputs only, no `metadata.kimi`
SAVED_MEDIA_BYTES = 10_000_000  # per image or video kept in a saved notebook
_MB = SAVED_MEDIA_BYTES // 1_000_000


def _bundle(lines: list[str]) -> dict[str, str]:
    rows = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    return {"text/plain": "\n".join(lines), "text/html": f"<div class='kimi-command'>{rows}</div>"}


def _existing(sessions: Sessions, name: str) -> Session:
    if name not in sessions:
        check_session_name(name)  # a name no session can have says so, not "no session"
        known = ", ".join(sessions.names()) or "none yet"
        raise KimiError(f"no session {name!r} (sessions: {known})")
    return sessions.get(name)


def reset(sessions: Sessions, name: str) -> dict[str, str]:
    session = _existing(sessions, name)
    count = len(session.exchanges)
    session.reset()
    return _bundle([f"Session {name!r} cleared ({count} turn(s) dropped)."])


def undo(sessions: Sessions, name: str) -> dict[str, str]:
    session = _existing(sessions, name)
    with session.lock:
        if not session.exchanges:
            raise KimiError(f"session {name!r} has no turn to undo")
        dropped = session.exchanges.pop()
    return _bundle([f"Dropped the last turn of {name!r}: {_first_line(dropped.prompt)}"])


def history(sessions: Sessions, name: str) -> dict[str, str]:
    session = _existing(sessions, name)
    lines = [f"Session {name!r}: {len(session.exchanges)} turn(s)"]
    if session.system:
        lines.append(f"  system: {session.system[:80]}")
    for i, exchange in enumerate(session.exchanges, 1):
        usage = exchange.turn.usage
        tokens = f"{usage.total_tokens:,} tokens" if usage else "no usage"
        media = _media_count(exchange.prompt)
        extra = f", {media} media part(s)" if media else ""
        lines.append(
            f"  {i}. [{exchange.turn.status}] {_first_line(exchange.prompt)} ({tokens}{extra})"
        )
        lines.extend(_agent_lines(exchange.turn))
    bundle = _bundle(lines)
    thumbnails = "".join(_thumbnails(e.prompt) for e in session.exchanges)
    if thumbnails:
        bundle["text/html"] += f"<div class='kimi-history-media'>{thumbnails}</div>"
    return bundle


def _agent_lines(turn: Turn) -> list[str]:
    """An agent turn's steps (`turn.meta["agent"]`), one line each: which cell each tool
    acted on, and whether it was done, skipped, refused or stopped."""
    agent = turn.meta.get("agent")
    if not isinstance(agent, dict):
        return []
    try:
        steps = [StepRecord.from_json(step) for step in agent.get("steps") or []]
    except KimiError as exc:
        return [f"     agent steps unreadable: {exc}"]
    lines = [f"     agent turn, mode {agent.get('mode', '?')}: {len(steps)} step(s)"]
    for step in steps:
        cell = f" {step.cell_id}" if step.cell_id else ""
        why = f" ({step.message[:60]})" if step.message and step.status != "done" else ""
        lines.append(f"     {step.step}. {step.tool}{cell}: {step.status}{why}")
    return lines


def _thumbnails(message: Message) -> str:
    """Previews of the images a turn sent, a few kB each whatever their size."""
    from kimi_jupyter.render.thumbnail import thumbnail_html

    if isinstance(message.content, str):
        return ""
    images = [p for p in message.content if isinstance(p, MediaPart) and p.kind == "image_url"]
    return "".join(thumbnail_html(p.data, describe(p)) for p in images)


def list_sessions(sessions: Sessions) -> dict[str, str]:
    names = sessions.names()
    if not names:
        return _bundle(["No sessions yet."])
    return _bundle([f"{name}: {len(sessions.get(name).exchanges)} turn(s)" for name in names])


def list_tools(toolbox: Toolbox) -> dict[str, str]:
    """`%kimi tools`: each registered function, its parameters and whether it asks first."""
    tools = toolbox.all()
    if not tools:
        return _bundle(["No tools yet: decorate a function with @tool (from kimi_jupyter)."])
    lines = []
    for item in tools:
        properties = item.schema.parameters.get("properties", {})
        required = set(item.schema.parameters.get("required", []))
        params = ", ".join(
            f"{name}{'' if name in required else '?'}: {_type_name(spec)}"
            for name, spec in properties.items()
        )
        asks = " · asks before running" if item.confirm else ""
        summary = item.schema.description.split("\n", 1)[0]
        lines.append(f"{item.name}({params}){asks}" + (f" — {summary}" if summary else ""))
    return _bundle(lines)


def _type_name(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind is None and "anyOf" in spec:
        return " | ".join(_type_name(branch) for branch in spec["anyOf"])
    return str(kind or "any")


def usage(sessions: Sessions) -> dict[str, str]:
    lines, total = [], Usage()
    for name in sessions.names():
        summed = Usage.total(e.turn.usage for e in sessions.get(name).exchanges)
        total = Usage.total([total, summed])
        lines.append(f"{name}: {_usage_line(summed)}")
    lines.append(f"kernel total: {_usage_line(total)}")
    return _bundle(lines)


def save(sessions: Sessions, name: str, path: str) -> dict[str, str]:
    """The session as a notebook: prompts as `%%kimi` cells, answers as their outputs.

    What `load` needs beyond the turn record is kept in metadata: each cell's
    `metadata.kimi` holds the exchange (the prompt's parts, the tool-call and tool-result
    messages of a tool loop, the final answer message, the cell id), with media parts as
    SHA-256 references; the notebook's `metadata.kimi` holds the system message and each
    image or video once, base64, up to `SAVED_MEDIA_BYTES` each (a larger one is left out
    and loads as a text note). The turn record stays free of media bytes, and no settings,
    so no API key, are written.
    """
    import nbformat

    target = Path(path).expanduser()
    if target.suffix != ".ipynb":
        raise KimiError(f"save to a .ipynb file, not {target.name!r}")
    session = _existing(sessions, name)
    notebook = nbformat.v4.new_notebook()
    media: dict[str, MediaPart] = {}
    with session.lock:
        system, exchanges = session.system, list(session.exchanges)
    for exchange in exchanges:
        line = f"%%kimi -s {shlex.quote(name)}"  # the magic splits its line as a shell does
        cell = nbformat.v4.new_code_cell(f"{line}\n{_prompt_text(exchange.prompt)}")
        cell.metadata["kimi"] = {"version": SAVE_VERSION, **exchange.to_json(media)}
        cell.outputs = [
            nbformat.v4.new_output("display_data", data=static_bundle(exchange.turn, name))
        ]
        notebook.cells.append(cell)
    kept = {k: p for k, p in media.items() if len(p.data) <= SAVED_MEDIA_BYTES}
    notebook.metadata["kimi"] = {
        "version": SAVE_VERSION,
        "session": name,
        "system": system,
        "media": {
            digest: {"mime": part.mime, "data": base64.b64encode(part.data).decode("ascii")}
            for digest, part in kept.items()
        },
    }
    _write(target, nbformat.writes(notebook))
    lines = [f"Saved {len(exchanges)} turn(s) of {name!r} to {target}."]
    if len(kept) < len(media):
        lines.append(f"{len(media) - len(kept)} media part(s) over {_MB} MB were left out.")
    return _bundle(lines)


def load(sessions: Sessions, name: str, path: str) -> dict[str, str]:
    """Rebuild a session from a saved notebook (after a kernel restart).

    A notebook written by `save` comes back field for field; any other notebook with Kimi
    outputs (or one saved before `metadata.kimi` existed) gives each exchange its turn
    record and the cell's text as the prompt.
    """
    check_session_name(name)
    target = Path(path).expanduser()
    notebook = _read_notebook(target)
    try:
        saved = Record(notebook.metadata.get("kimi") or {}, "metadata.kimi")
        system, media = saved.optional_text("system"), _media(saved)
        exchanges = [
            exchange
            for i, cell in enumerate(notebook.cells)
            if cell.get("cell_type") == "code"
            for exchange in _exchanges(cell, media, f"cell {i + 1}")
        ]
    except KimiError as exc:
        raise KimiError(f"cannot load {target.name}: {exc}") from None
    if not exchanges:
        raise KimiError(
            f"{target.name} has no Kimi outputs to load (no cell holds a %%kimi answer)"
        )
    replaced = len(sessions.get(name).exchanges) if name in sessions else 0
    session = sessions.new(name, system=system)
    for exchange in exchanges:
        session.record(exchange)
    line = f"Loaded {len(exchanges)} turn(s) from {target.name} into {name!r}"
    if replaced:
        line += f"; replaced session {name!r} ({replaced} turn{'s' if replaced != 1 else ''})"
    return _bundle([line + "."])


def _write(target: Path, text: str) -> None:
    """Write through a temporary file beside `target`: a failure leaves no half notebook."""
    if target.is_dir():
        raise KimiError(f"cannot save to {target}: it is a folder")
    if not target.parent.is_dir():
        raise KimiError(f"cannot save to {target}: the folder {target.parent} does not exist")
    temporary = target.with_name(f".{target.name}.kimi-partial")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise KimiError(f"cannot save to {target}: {exc.strerror or exc}") from None


def _read_notebook(target: Path) -> Any:
    """The nbformat 4 notebook at `target`; every way it can fail is one line."""
    import nbformat

    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise KimiError(f"cannot load {target}: no such file") from None
    except IsADirectoryError:
        raise KimiError(f"cannot load {target}: it is a folder") from None
    except OSError as exc:
        raise KimiError(f"cannot load {target}: {exc.strerror or exc}") from None
    data = _notebook_json(raw, target.name)
    try:
        with warnings.catch_warnings():  # nbformat warns about fixable details on stderr
            warnings.simplefilter("ignore")
            return nbformat.reads(raw.decode("utf-8-sig"), as_version=4)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        detail = " ".join(str(exc).split())[:120]
        version = f"nbformat {data['nbformat']}.{data.get('nbformat_minor', 0)}"
        raise KimiError(
            f"cannot load {target.name}: not a valid {version} notebook ({detail})"
        ) from None


def _notebook_json(raw: bytes, name: str) -> dict[str, Any]:
    """The file's JSON, checked to be an nbformat 4 notebook before nbformat reads it."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise KimiError(f"cannot load {name}: it is not a text file") from None
    except json.JSONDecodeError as exc:
        where = f"{exc.msg.removesuffix(' at')}, line {exc.lineno} column {exc.colno}"
        raise KimiError(
            f"cannot load {name}: it is not valid JSON ({where}); is the file complete?"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("nbformat"), int):
        raise KimiError(f"cannot load {name}: it is JSON, but not a Jupyter notebook")
    if data["nbformat"] != 4:
        raise KimiError(
            f"cannot load {name}: it is an nbformat {data['nbformat']} notebook, and %kimi "
            "load reads nbformat 4 (what %kimi save writes)"
        )
    return data


def _media(saved: Record) -> dict[str, MediaPart]:
    table, found = saved.record("media") or Record({}, "media"), {}
    for digest in table.names():
        entry = table.required(digest)
        try:
            data = base64.b64decode(entry.text("data"), validate=True)
        except binascii.Error:
            raise KimiError(f"{entry.what}.data is not base64") from None
        found[digest] = MediaPart(data, entry.text("mime"))
    return found


def _exchanges(cell: Any, media: dict[str, MediaPart], where: str) -> list[Exchange]:
    records = [
        record
        for output in cell.get("outputs", [])
        if isinstance(record := output.get("data", {}).get(TURN_MIME), dict)
        and record.get("answer") is not None
    ]
    turns = [Turn.from_json(Record(record, f"{where}, turn")) for record in records]
    saved = cell.get("metadata", {}).get("kimi")
    if saved is not None and turns:
        return [Exchange.from_json(Record(saved, f"{where}, metadata.kimi"), turns[-1], media)]
    prompt = cell.source.partition("\n")[2] if cell.source.startswith("%%kimi") else cell.source
    return [Exchange(Message("user", prompt.strip()), turn) for turn in turns]


def _usage_line(u: Usage) -> str:
    return (
        f"{u.total_tokens:,} tokens ({u.prompt_tokens:,} prompt, {u.cached_tokens:,} cached, "
        f"{u.completion_tokens:,} completion, {u.reasoning_tokens:,} thinking)"
    )


def _prompt_text(message: Message) -> str:
    if isinstance(message.content, str):
        return message.content
    return "\n".join(getattr(p, "text", "") for p in message.content[:1])


def _first_line(message: Message) -> str:
    text = _prompt_text(message).strip().splitlines()
    first = text[0] if text else ""
    return first if len(first) <= 70 else first[:69] + "…"


def _media_count(message: Message) -> int:
    return (
        0
        if isinstance(message.content, str)
        else sum(1 for p in message.content if hasattr(p, "data"))
    )
