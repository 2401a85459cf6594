"""`%kimi save` / `load` on bad paths and bad files: one line each, nothing half-written;
session names with spaces and quotes survive the round trip, unusable names are refused."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kimi_jupyter import commands
from kimi_jupyter.chat import Chat
from kimi_jupyter.conversation import Exchange, Message, Sessions, check_session_name
from kimi_jupyter.errors import KimiError
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.render.bundle import TURN_MIME, turn_record
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.turn import Turn

KEY = "sk-save-load-errors-key"


def sessions_with(name: str, turns: int = 1) -> Sessions:
    sessions = Sessions()
    for i in range(turns):
        sessions.get(name).record(Exchange(Message("user", f"q{i}"), Turn(answer=f"a{i}")))
    return sessions


def save_error(path: Path | str) -> str:
    with pytest.raises(KimiError) as info:
        commands.save(sessions_with("s"), "s", str(path))
    return str(info.value)


def load_error(path: Path) -> str:
    with pytest.raises(KimiError) as info:
        commands.load(Sessions(), "s", str(path))
    return str(info.value)


# save


def test_save_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "chat.ipynb"
    assert (
        save_error(target) == f"cannot save to {target}: the folder {target.parent} does not exist"
    )


def test_save_onto_a_folder(tmp_path: Path) -> None:
    (tmp_path / "chat.ipynb").mkdir()
    assert (
        save_error(tmp_path / "chat.ipynb")
        == f"cannot save to {tmp_path / 'chat.ipynb'}: it is a folder"
    )


def test_save_into_a_read_only_folder(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
    elif sys.platform == "linux" and Path("/sys").is_dir():
        folder = Path("/sys")  # root may write anywhere, but not into sysfs
    else:
        pytest.skip("no read-only folder for this user")
    message = save_error(folder / "chat.ipynb")
    assert message == f"cannot save to {folder / 'chat.ipynb'}: Permission denied"
    assert not (folder / ".chat.ipynb.kimi-partial").exists()


def test_save_leaves_no_partial_file_and_overwrites_whole(tmp_path: Path) -> None:
    target = tmp_path / "chat.ipynb"
    target.write_text("old")
    commands.save(sessions_with("s", 2), "s", str(target))
    assert [p.name for p in tmp_path.iterdir()] == ["chat.ipynb"]
    assert len(nbformat.read(str(target), as_version=4).cells) == 2


# load


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("obj.ipynb", '{"a": 1}', "cannot load obj.ipynb: it is JSON, but not a Jupyter notebook"),
        ("list.ipynb", "[1, 2]", "cannot load list.ipynb: it is JSON, but not a Jupyter notebook"),
        (
            "cut.ipynb",
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_min',
            "cannot load cut.ipynb: it is not valid JSON (Unterminated string starting, "
            "line 1 column 46); is the file complete?",
        ),
        (
            "empty.ipynb",
            "",
            "cannot load empty.ipynb: it is not valid JSON (Expecting value, line 1 column 1); "
            "is the file complete?",
        ),
        ("bin.ipynb", b"\x89PNG\r\n\x1a\n\xff\xfe", "cannot load bin.ipynb: it is not a text file"),
        (
            "v3.ipynb",
            '{"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": []}',
            "cannot load v3.ipynb: it is an nbformat 3 notebook, and %kimi load reads "
            "nbformat 4 (what %kimi save writes)",
        ),
        (
            "v5.ipynb",
            '{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}',
            "cannot load v5.ipynb: it is an nbformat 5 notebook, and %kimi load reads "
            "nbformat 4 (what %kimi save writes)",
        ),
        (
            "cells.ipynb",
            '{"cells": ["x"], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}',
            "cannot load cells.ipynb: not a valid nbformat 4.4 notebook (",
        ),
        (
            "plain.ipynb",
            json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])),
            "plain.ipynb has no Kimi outputs to load (no cell holds a %%kimi answer)",
        ),
    ],
)
def test_bad_notebooks_are_one_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    error = load_error(write(tmp_path, name, text))
    assert error.startswith(message)
    assert "\n" not in error


def test_load_from_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    assert (
        load_error(tmp_path / "gone.ipynb")
        == f"cannot load {tmp_path / 'gone.ipynb'}: no such file"
    )
    assert load_error(tmp_path) == f"cannot load {tmp_path}: it is a folder"


def test_a_malformed_turn_record_is_one_line(tmp_path: Path) -> None:
    cell = nbformat.v4.new_code_cell("%%kimi\nq")
    record = turn_record(Turn(answer="a"), "s")
    record["usage"] = "lots"
    cell.outputs = [nbformat.v4.new_output("display_data", data={TURN_MIME: record})]
    path = tmp_path / "odd.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    assert load_error(path).startswith("cannot load odd.ipynb: cell 1, turn.usage must be")


def test_loading_onto_a_session_says_what_it_replaced(tmp_path: Path) -> None:
    path = tmp_path / "saved.ipynb"
    commands.save(sessions_with("s", 2), "s", str(path))
    sessions = sessions_with("x", 3)
    bundle = commands.load(sessions, "x", str(path))
    assert bundle["text/plain"] == (
        "Loaded 2 turn(s) from saved.ipynb into 'x'; replaced session 'x' (3 turns)."
    )
    assert [e.turn.answer for e in sessions.get("x").exchanges] == ["a0", "a1"]
    bundle = commands.load(sessions, "fresh", str(path))
    assert bundle["text/plain"] == "Loaded 2 turn(s) from saved.ipynb into 'fresh'."


# Session names


@pytest.mark.parametrize("name", ["my session", 'it\'s "quoted"', "données-2024", "a.b_c-d"])
def test_names_with_spaces_and_quotes_are_names(name: str) -> None:
    assert check_session_name(name) == name


@pytest.mark.parametrize(
    "name", ["", " padded", "trailing ", "two\nlines", "tab\there", "bidi\u202etxt", "x" * 101]
)
def test_unusable_names_are_refused_at_creation(name: str) -> None:
    message = (
        f"{name!r} cannot name a session: use 1 to 100 printable characters, "
        "without spaces at either end"
    )
    with pytest.raises(KimiError) as info:
        Sessions().get(name)
    assert str(info.value) == message
    with pytest.raises(KimiError):
        Sessions().new(name)
    with pytest.raises(KimiError):
        Chat(session=name, sessions=Sessions(), api_key="sk-x")


def test_save_and_load_round_trip_a_quoted_name(tmp_path: Path) -> None:
    name = 'it\'s my "session"'
    path = tmp_path / "quoted.ipynb"
    commands.save(sessions_with(name, 2), name, str(path))
    first_line = nbformat.read(str(path), as_version=4).cells[0].source.splitlines()[0]
    assert first_line == "%%kimi -s 'it'\"'\"'s my \"session\"'"
    sessions = Sessions()
    commands.load(sessions, name, str(path))
    assert [e.prompt.content for e in sessions.get(name).exchanges] == ["q0", "q1"]


# Through the magic


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def test_magic_errors_are_usage_errors(ip: InteractiveShell, tmp_path: Path) -> None:
    ip.run_cell_magic("kimi", "--no-thinking -s s", "hello")
    with pytest.raises(UsageError, match=r"^cannot save to .*: the folder .* does not exist$"):
        ip.run_line_magic("kimi", f"-s s save {tmp_path}/no/x.ipynb")
    broken = write(tmp_path, "broken.ipynb", '{"cells": [')
    with pytest.raises(UsageError, match=r"^cannot load broken\.ipynb: it is not valid JSON"):
        ip.run_line_magic("kimi", f"load {broken}")
    with pytest.raises(UsageError, match=r"^' x' cannot name a session"):
        ip.run_cell_magic("kimi", "-s ' x'", "hello")


def test_a_saved_cell_runs_again_in_its_quoted_session(
    ip: InteractiveShell, tmp_path: Path
) -> None:
    name = 'team\'s "notes"'
    ip.run_cell_magic("kimi", f"--no-thinking -s {_quote(name)}", "first question")
    path = tmp_path / "notes.ipynb"
    ip.run_line_magic("kimi", f"-s {_quote(name)} save {path}")
    source = nbformat.read(str(path), as_version=4).cells[0].source
    line, body = source.split("\n", 1)
    ip.run_cell_magic("kimi", line.removeprefix("%%kimi ") + " --no-thinking", body)
    exchanges = KernelContext.current().sessions.get(name).exchanges
    assert [e.prompt.content for e in exchanges] == ["first question"] * 2
    ip.run_line_magic("kimi", f"-s {_quote(name)} load {path}")
    assert len(KernelContext.current().sessions.get(name).exchanges) == 1


def _quote(name: str) -> str:
    import shlex

    return shlex.quote(name)
