"""`%kimi save` / `load` round-trip a session field for field; `Turn.from_json` inverts
`to_json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kimi_jupyter import commands
from kimi_jupyter.agent import StepRecord
from kimi_jupyter.config import Settings
from kimi_jupyter.conversation import (
    Exchange,
    MediaPart,
    Message,
    Options,
    Session,
    Sessions,
    TextPart,
)
from kimi_jupyter.errors import KimiError
from kimi_jupyter.events import ToolResult, Usage
from kimi_jupyter.render.bundle import TURN_MIME, turn_record
from kimi_jupyter.turn import Timings, ToolCall, Turn

SETTINGS = Settings(api_key="sk-never-saved")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
CALL = ToolCall("lookup_0", "lookup", '{"city": "Paris"}')
SECOND = ToolCall("plot_1", "plot", "{}", type="function")


def plain() -> Exchange:
    prompt = Message("user", (TextPart("What is in @img?"), MediaPart(PNG, "image/png")))
    turn = Turn(
        answer="A **chart**.",
        reasoning="Look at the axes.",
        usage=Usage(120, 30, 150, 100, 12),
        finish_reason="stop",
        model="kimi-k2.6",
        response_id="chatcmpl-1",
        timings=Timings(0.25, 1.5, 3.0),
        meta={"dropped_exchanges": 0},
    )
    return Exchange(prompt, turn, cell_id="cell-a")


def tool_loop() -> Exchange:
    replies = (
        Message("assistant", "", tool_calls=(CALL, SECOND), reasoning="Two tools."),
        Message("tool", "sunny, 21 °C", tool_call_id="lookup_0", name="lookup"),
        Message(
            "tool",
            (TextPart("a figure"), MediaPart(PNG, "image/png")),  # the prompt's image again
            tool_call_id="plot_1",
            name="plot",
        ),
    )
    results = (
        ToolResult("lookup_0", "lookup", CALL.arguments, "ok", "sunny, 21 °C", 0.12, 1),
        ToolResult("plot_1", "plot", "{}", "error", "ValueError: no data", 0.5, 1),
    )
    turn = Turn(
        answer="It is sunny.",
        reasoning="Two tools.\n\nRead the results.",
        tool_calls=(CALL, SECOND),
        tool_results=results,
        usage=Usage(400, 60, 460),
        finish_reason="stop",
        model="kimi-k2.6",
        response_id="chatcmpl-2",
        timings=Timings(0.2, None, 4.5),
        meta={"steps": 2, "dropped_exchanges": 1},
    )
    answer = Message("assistant", "It is sunny.", reasoning="Read the results.")
    return Exchange(Message("user", "Weather in Paris?"), turn, replies, "cell-b", answer)


def failed() -> Exchange:
    turn = Turn(
        answer="Partial",
        status="failed",
        error="the connection was lost after 12 chunks",
        response_id="chatcmpl-3",
        model="kimi-k2.6",
    )
    return Exchange(Message("user", "Go on"), turn)


def stopped() -> Exchange:
    turn = Turn(answer="Half an ans", status="stopped", meta={"stopped_by": "user", "n": [1, 2]})
    return Exchange(Message("user", "Write a long essay"), turn, cell_id="cell-d")


def filled(sessions: Sessions, name: str = "work") -> Session:
    session = sessions.new(name, system="You are terse.")
    for exchange in (plain(), tool_loop(), failed(), stopped()):
        session.record(exchange)
    return session


def payload(session: Session, **options: Any) -> dict[str, Any]:
    body, _ = session.request(Message("user", "next"), SETTINGS, Options(**options))
    return body


def test_save_then_load_gives_the_same_session(tmp_path: Path) -> None:
    sessions = Sessions()
    original = filled(sessions)
    path = tmp_path / "work.ipynb"
    commands.save(sessions, "work", str(path))
    restored = Sessions()
    bundle = commands.load(restored, "work", str(path))
    assert "Loaded 4 turn(s)" in bundle["text/plain"]
    loaded = restored.get("work")
    assert loaded.system == original.system
    assert len(loaded.exchanges) == len(original.exchanges)
    for before, after in zip(original.exchanges, loaded.exchanges, strict=True):
        assert after.prompt == before.prompt
        assert after.turn == before.turn
        assert after.replies == before.replies
        assert after.answer == before.answer
        assert after.cell_id == before.cell_id
        assert after == before
    assert loaded.media == original.media
    for options in ({}, {"keep_thinking": True}, {"thinking": False}):
        assert payload(loaded, **options) == payload(original, **options)


def test_the_saved_notebook_holds_each_image_once_and_no_key(tmp_path: Path) -> None:
    path = tmp_path / "work.ipynb"
    sessions = Sessions()
    filled(sessions)
    commands.save(sessions, "work", str(path))
    text = path.read_text()
    assert "sk-never-saved" not in text
    notebook = nbformat.read(path, as_version=4)
    (image,) = notebook.metadata["kimi"]["media"].values()  # the prompt's and the tool's
    assert image["mime"] == "image/png"
    assert text.count(image["data"]) == 1
    for cell in notebook.cells:
        record = cell.outputs[0]["data"][TURN_MIME]
        assert image["data"] not in json.dumps(record)
        assert record["session"] == "work"
    sources = [cell.source.splitlines()[1] for cell in notebook.cells]
    assert sources == ["What is in @img?", "Weather in Paris?", "Go on", "Write a long essay"]


def test_media_over_the_limit_loads_as_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "SAVED_MEDIA_BYTES", 100)
    path = tmp_path / "big.ipynb"
    sessions = Sessions()
    sessions.new("big").record(plain())
    bundle = commands.save(sessions, "big", str(path))
    assert "1 media part(s) over" in bundle["text/plain"]
    commands.load(sessions, "again", str(path))
    prompt = sessions.get("again").exchanges[0].prompt.content
    assert prompt[0] == TextPart("What is in @img?")
    assert prompt[1] == TextPart(f"[image/png, {len(PNG):,} bytes: not saved with the notebook]")


def test_notebooks_from_the_old_save_still_load(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    old_record = {
        "version": 1,
        "session": "default",
        "id": "abc123",
        "model": "kimi-k2.6",
        "answer": "Hello.",
        "reasoning": "",
        "tool_calls": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        "timings": {"first_token": 0.1, "reasoning": None, "total": 1},
        "finish_reason": "stop",
        "status": "done",
    }
    cell = nbformat.v4.new_code_cell("%%kimi -s default\nSay hello")
    cell.outputs = [nbformat.v4.new_output("display_data", data={TURN_MIME: old_record})]
    notebook.cells.append(cell)
    path = tmp_path / "old.ipynb"
    nbformat.write(notebook, str(path))
    sessions = Sessions()
    commands.load(sessions, "default", str(path))
    (exchange,) = sessions.get("default").exchanges
    assert exchange.prompt == Message("user", "Say hello")
    assert exchange.turn == Turn(
        answer="Hello.",
        usage=Usage(3, 2, 5),
        finish_reason="stop",
        model="kimi-k2.6",
        timings=Timings(0.1, None, 1.0),
        id="abc123",
    )
    assert sessions.get("default").system is None


def test_a_record_of_the_wrong_type_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "work.ipynb"
    sessions = Sessions()
    filled(sessions)
    commands.save(sessions, "work", str(path))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs[0]["data"][TURN_MIME]["usage"]["prompt_tokens"] = "400"
    nbformat.write(notebook, str(path))
    with pytest.raises(KimiError) as info:
        commands.load(Sessions(), "work", str(path))
    assert str(info.value) == (
        "cannot load work.ipynb: cell 2, turn.usage.prompt_tokens must be a whole number, "
        "not a string"
    )


TURNS = [
    Turn(),
    Turn(answer="ünïcode ✓", reasoning="why", status="stopped", meta={"a": {"b": [1, None]}}),
    plain().turn,
    tool_loop().turn,
    failed().turn,
    stopped().turn,
    Turn(usage=Usage(), timings=Timings(None, None, 0.0), finish_reason="length", error=""),
]


@pytest.mark.parametrize("turn", TURNS)
def test_from_json_inverts_to_json(turn: Turn) -> None:
    assert Turn.from_json(turn.to_json()) == turn
    through_json = json.loads(json.dumps(turn_record(turn, "s")))  # with session, version
    assert Turn.from_json(through_json) == turn


def test_from_json_fills_in_what_older_records_lack() -> None:
    turn = Turn.from_json({"answer": "hi", "tool_calls": [CALL.to_wire()]})
    assert (turn.answer, turn.tool_calls, turn.status, turn.timings) == (
        "hi",
        (CALL,),
        "done",
        Timings(),
    )
    assert len(turn.id) == 12
    assert turn.tool_results == ()
    assert turn.meta == {}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "turn must be a JSON object, not a list"),
        ({"answer": 3}, "turn.answer must be a string, not int 3"),
        ({"status": "maybe"}, "turn.status must be one of done, stopped, failed, not 'maybe'"),
        (
            {"usage": {"total_tokens": True}},
            "turn.usage.total_tokens must be a whole number, not a boolean",
        ),
        ({"timings": {"total": "1s"}}, "turn.timings.total must be a number, not a string"),
        ({"tool_calls": ["x"]}, "turn.tool_calls[0] must be a JSON object, not a string"),
        ({"tool_results": [{"status": "fine"}]}, "turn.tool_results[0].status must be one of"),
        ({"meta": []}, "turn.meta must be a JSON object, not a list"),
    ],
)
def test_from_json_rejects_wrong_types_in_one_line(record: Any, message: str) -> None:
    with pytest.raises(KimiError) as info:
        Turn.from_json(record)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def agent_turn() -> Exchange:
    records = [
        StepRecord(1, "list_cells", {}, "done"),
        StepRecord(2, "insert_cell", {"index": 1, "source": "plot()"}, "done", "new-1"),
        StepRecord(3, "delete_cell", {"cell_id": "c1"}, "skipped", "c1"),
        StepRecord(4, "run_cell", {"cell_id": "new-1"}, "refused", "new-1", "the step cap"),
    ]
    agent = {"id": "a1", "mode": "ask", "cap": 3, "steps": [r.to_json() for r in records]}
    turn = Turn(answer="Plotted.", meta={"steps": 5, "agent": agent})
    return Exchange(Message("user", "Plot it"), turn)


def test_an_agent_turns_steps_survive_save_and_load_and_show_in_history(tmp_path: Path) -> None:
    sessions = Sessions()
    sessions.new("agent").record(agent_turn())
    path = tmp_path / "agent.ipynb"
    commands.save(sessions, "agent", str(path))
    restored = Sessions()
    commands.load(restored, "agent", str(path))
    assert restored.get("agent").exchanges == sessions.get("agent").exchanges
    shown = commands.history(restored, "agent")["text/plain"]
    assert shown == commands.history(sessions, "agent")["text/plain"]
    assert shown.splitlines()[2:] == [
        "     agent turn, mode ask: 4 step(s)",
        "     1. list_cells: done",
        "     2. insert_cell new-1: done",
        "     3. delete_cell c1: skipped",
        "     4. run_cell new-1: refused (the step cap)",
    ]


def test_an_unreadable_agent_record_is_one_line_in_history() -> None:
    sessions = Sessions()
    turn = Turn(answer="x", meta={"agent": {"mode": "ask", "steps": [{"step": "one"}]}})
    sessions.new("agent").record(Exchange(Message("user", "go"), turn))
    last = commands.history(sessions, "agent")["text/plain"].splitlines()[-1]
    assert last.startswith("     agent steps unreadable: ")
