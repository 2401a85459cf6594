"""`%%kimi` / `%kimi` through a real InteractiveShell, against the simulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from kimi_jupyter.conversation import Sessions
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import Toolbox

from helpers import png

KEY = "sk-magics-test-key"
OPTIONS = ["--session", "--new", "--system", "--no-thinking", "--keep-thinking", "--max-tokens",
           "--temperature", "--top-p", "--stop", "--json", "--schema", "--tools", "--code",
           "--out", "--model", "--no-stream", "--dry-run"]  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture
def ip(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    for name in ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KIMI_API_KEY", KEY)
    monkeypatch.setenv("KIMI_BASE_URL", sim.base_url)
    monkeypatch.setattr(
        KernelContext, "_current", KernelContext()
    )  # a fresh kernel's worth of sessions
    start_ipython()  # IPython's own test shell (a TerminalInteractiveShell), made once
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    shell.run_line_magic("config", "KimiMagics.model = None")
    yield shell
    shell.run_line_magic("unload_ext", "kimi_jupyter")


def cell(ip: InteractiveShell, line: str, body: str) -> Any:
    return ip.run_cell_magic("kimi", line, body)


def sessions() -> Sessions:
    return KernelContext.current().sessions


def test_load_ext_registers_both_magics_with_full_help(ip: InteractiveShell) -> None:
    magics = ip.magics_manager.magics
    assert "kimi" in magics["cell"]
    assert "kimi" in magics["line"]
    doc = magics["cell"]["kimi"].__doc__
    for option in OPTIONS:
        assert option in doc


def test_cell_streams_answer_and_thinking_as_text(
    ip: InteractiveShell, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    cell(ip, "", "What is a DataFrame?")
    out = capsys.readouterr().out
    assert out.startswith("Thinking: The user sent 1 message")
    assert "[Kimi simulator] Received 1 message (user)" in out
    assert 'Text 1: "What is a DataFrame?"' in out
    assert "— kimi-k2.6 ·" in out
    sent = sim.requests[-1]
    assert sent["thinking"] == {"type": "enabled"}
    assert not {"temperature", "top_p", "max_tokens", "max_completion_tokens"} & set(sent)


def test_follow_up_continues_the_session_and_sessions_are_separate(
    ip: InteractiveShell, sim: Simulator
) -> None:
    cell(ip, "", "first")
    cell(ip, "", "second")
    assert [m["role"] for m in sim.requests[-1]["messages"]] == ["user", "assistant", "user"]
    cell(ip, "-s other", "elsewhere")
    assert len(sim.requests[-1]["messages"]) == 1
    assert len(sessions().get("default").exchanges) == 2
    cell(ip, "--new", "fresh start")
    assert len(sim.requests[-1]["messages"]) == 1
    assert len(sessions().get("default").exchanges) == 1


def test_system_prompt_and_request_options(ip: InteractiveShell, sim: Simulator) -> None:
    cell(ip, '--system "Be terse." --no-thinking --max-tokens 900 --stop END --stop STOP', "hi")
    sent = sim.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Be terse."}
    assert sent["thinking"] == {"type": "disabled"}
    assert sent["max_completion_tokens"] == 900
    assert sent["stop"] == ["END", "STOP"]
    cell(ip, "--keep-thinking", "again")
    assert sim.requests[-1]["thinking"] == {"type": "enabled", "keep": "all"}
    assert all(
        "reasoning_content" in m for m in sim.requests[-1]["messages"] if m["role"] == "assistant"
    )


def test_no_stream_sends_a_plain_request(
    ip: InteractiveShell, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    cell(ip, "--no-stream", "whole")
    assert sim.requests[-1].get("stream") in (None, False)
    out = capsys.readouterr().out
    assert "(Thinking ·" in out
    assert "[Kimi simulator]" in out


def test_line_magic_question_with_question_mark_is_not_help(
    ip: InteractiveShell, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell("%kimi --no-thinking what is this?")
    out = capsys.readouterr().out
    assert 'Text 1: "what is this?"' in out
    assert "not found" not in out
    ip.run_cell("%kimi?")
    assert "--keep-thinking" in capsys.readouterr().out


def test_no_var_expand_keeps_dollar_math(ip: InteractiveShell, sim: Simulator) -> None:
    ip.user_ns["x"] = "EXPANDED"
    ip.run_cell("%kimi --no-thinking is $x$ {x} positive")
    assert sim.requests[-1]["messages"][-1]["content"] == "is $x$ {x} positive"


def test_config_traitlets_beat_the_environment(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    ip.run_line_magic("config", 'KimiMagics.model = "kimi-k9"')
    with pytest.raises(UsageError, match="Not found the model kimi-k9"):
        cell(ip, "", "hello")
    ip.run_line_magic("config", "KimiMagics.model = None")
    cell(ip, "--no-thinking", "hello")


def test_errors_are_one_line_usage_errors(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="only 1 is allowed"):
        cell(ip, "--temperature 0.7", "hot")
    with pytest.raises(UsageError, match="billing"):
        cell(ip, "", "pay [[sim: fault=quota]]")
    with pytest.raises(UsageError, match="unrecognized arguments"):
        cell(ip, "--nope", "x")
    with pytest.raises(UsageError, match="write the question"):
        cell(ip, "", "   ")
    monkeypatch.setenv("KIMI_API_KEY", "sk-wrong-key-123")
    with pytest.raises(UsageError, match="KIMI_API_KEY") as info:
        cell(ip, "", "hello")
    assert "sk-wrong-key-123" not in str(info.value)
    assert "\n" not in str(info.value)
    monkeypatch.delenv("KIMI_API_KEY")
    with pytest.raises(UsageError, match=r"KIMI_API_KEY.*MOONSHOT_API_KEY.*ANYFAST_API_KEY"):
        cell(ip, "", "hello")


def test_broken_stream_keeps_the_partial_answer_with_a_notice(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError, match="connection broke"):
        cell(ip, "", "break [[sim: fault=reset-mid-stream at=6]]")
    out = capsys.readouterr().out
    assert "[Failed: the answer stopped mid-stream" in out
    (exchange,) = sessions().get("default").exchanges
    assert exchange.turn.status == "failed"


TOOL_CELL = '''
from kimi_jupyter import tool

@tool
def lookup_population(city: str) -> int:
    """The population of a city.

    Args:
        city: English name.
    """
    return 2_102_650
'''


def test_tools_run_in_the_kernel_and_feed_the_answer(
    ip: InteractiveShell, sim: Simulator, toolbox: Toolbox, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell(TOOL_CELL)
    ip.run_line_magic("kimi", "tools")
    listing = capsys.readouterr().out
    assert "lookup_population(city: string) — The population of a city." in listing
    cell(ip, "--tools lookup_population", "Paris? [[sim: tool=lookup_population]]")
    out = capsys.readouterr().out
    assert "Tool lookup_population returned: 2102650" in out
    (exchange,) = sessions().get("default").exchanges
    assert exchange.turn.tool_results[0].status == "ok"
    assert sim.requests[-1]["messages"][-1]["content"] == "2102650"
    cell(ip, "--tools", "all of them [[sim: tool=lookup_population]]")  # bare: every tool
    assert sim.requests[-1]["messages"][-1]["role"] == "tool"


def test_tool_options_with_bad_input_say_so(ip: InteractiveShell, toolbox: Toolbox) -> None:
    with pytest.raises(UsageError, match=r"no tool named 'f' \(registered: none yet\)"):
        cell(ip, "--tools f", "x")
    ip.run_cell("def plain(city: str) -> str:\n    return city\n")
    with pytest.raises(UsageError, match="plain is not a tool yet; decorate it with @tool"):
        cell(ip, "--tools plain", "x")
    with pytest.raises(UsageError, match="--web-search needs Moonshot's API"):
        cell(ip, "--web-search", "x")
    with pytest.raises(UsageError, match="max_steps must be a positive whole number"):
        cell(ip, "--tools --max-steps 0", "x")
    assert sessions().get("default").exchanges == []


def test_version(ip: InteractiveShell) -> None:
    import kimi_jupyter

    assert ip.run_line_magic("kimi", "version") == kimi_jupyter.__version__


def test_mentions_send_json_and_image_parts(
    ip: InteractiveShell, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    ip.user_ns["df"] = pd.DataFrame({"city": ["Paris", "Oslo"], "temp": [21.5, 9.0]})
    ip.user_ns["img"] = png(7, 5)
    cell(ip, "--no-thinking", "compare @df with @img, write to ana@example.com about @nowhere")
    content = sim.requests[-1]["messages"][-1]["content"]
    assert content[0] == {
        "type": "text",
        "text": "compare @df with @img, write to ana@example.com about @nowhere",
    }
    assert '"name":"df"' in content[1]["text"]
    assert content[3]["image_url"]["url"].startswith("data:image/png;base64,")
    out = capsys.readouterr().out
    assert "Image 1: PNG, 7×5 pixels" in out
    assert "[@nowhere: not defined here, sent as plain text]" in out


def test_last_and_error_mentions(ip: InteractiveShell, sim: Simulator) -> None:
    ip.run_cell("print('hello')\n6 * 7")
    cell(ip, "--no-thinking", "what did @last show?")
    texts = [p.get("text", "") for p in sim.requests[-1]["messages"][-1]["content"]]
    assert "42" in texts
    ip.run_cell("values = [1]\nvalues[3]")
    cell(ip, "--no-thinking", "why @error")
    error = sim.requests[-1]["messages"][-1]["content"][1]["text"]
    assert "values[3]" in error
    assert "IndexError: list index out of range" in error
    assert "interactiveshell.py" not in error


def test_dry_run_sends_nothing_and_lists_the_parts(
    ip: InteractiveShell, sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.user_ns["img"] = png(9, 4)
    before = len(sim.requests)
    cell(ip, "--dry-run", "look at @img")
    assert len(sim.requests) == before
    out = capsys.readouterr().out
    assert "Dry run: nothing was sent" in out
    assert "image/png 9×4" in out
    assert sessions().get("default").exchanges == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("see @Out[99]", "@Out[99]: no entry 99"),
        ("see @svg", "@svg: SVG images are not accepted; send PNG, JPEG, WebP or GIF"),
        ("see @blob", "@blob: these 4 bytes are not a PNG, JPEG, WebP or GIF image or a video"),
        ("@fine ?", "the question is empty apart from @fine: say what you want to know"),
    ],
)
def test_bad_mentions_are_one_line_errors_and_leave_the_session_alone(
    ip: InteractiveShell, sim: Simulator, body: str, message: str
) -> None:
    cell(ip, "--no-thinking", "keep me")
    ip.user_ns.update(
        svg=b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', blob=b"\x00\x01\x02\x03"
    )
    ip.user_ns["fine"] = "some text"
    ip.user_ns.setdefault("Out", {})
    before = len(sim.requests)
    with pytest.raises(UsageError) as info:
        cell(ip, "--new --system S", body)
    assert str(info.value).startswith(message)
    assert len(sim.requests) == before
    (kept,) = sessions().get("default").exchanges
    assert kept.prompt.content == "keep me"
    assert sessions().get("default").system is None


def test_session_commands(ip: InteractiveShell, sim: Simulator, tmp_path: Any,
                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cell(ip, "--no-thinking", "one")
    cell(ip, "--no-thinking -s other", "elsewhere")
    cell(ip, "--no-thinking", "two")
    capsys.readouterr()
    ip.run_cell("%kimi sessions")
    assert "default: 2 turn(s)\nother: 1 turn(s)" in capsys.readouterr().out
    ip.run_cell("%kimi history")
    out = capsys.readouterr().out
    assert "Session 'default': 2 turn(s)" in out
    assert "1. [done] one (" in out
    ip.run_cell("%kimi usage")
    assert "kernel total: " in capsys.readouterr().out
    path = tmp_path / "talk.ipynb"
    ip.run_cell(f"%kimi save {path}")
    ip.run_cell("%kimi undo")
    assert [e.prompt.content for e in sessions().get("default").exchanges] == ["one"]
    before = len(sim.requests)
    ip.run_cell("%kimi retry")
    assert len(sim.requests) == before + 1
    assert sim.requests[-1]["messages"][-1]["content"] == "one"
    ip.run_cell("%kimi reset")
    assert sessions().get("default").exchanges == []
    ip.run_cell(f"%kimi load {path}")
    loaded = sessions().get("default").exchanges
    assert [e.prompt.content for e in loaded] == ["one", "two"]
    assert loaded[0].turn.answer.startswith("[Kimi simulator]")
    cell(ip, "--no-thinking", "after the restart")
    assert [m["role"] for m in sim.requests[-1]["messages"]] == ["user", "assistant"] * 2 + ["user"]


def test_session_command_errors(ip: InteractiveShell, tmp_path: Any) -> None:
    import nbformat

    empty = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(empty))
    with pytest.raises(UsageError, match=r"empty\.ipynb has no Kimi outputs to load"):
        ip.run_line_magic("kimi", f"load {empty}")
    with pytest.raises(UsageError, match="no session 'nope'"):
        ip.run_line_magic("kimi", "history nope")
    with pytest.raises(UsageError, match="has nothing to retry"):
        ip.run_line_magic("kimi", "retry")
    with pytest.raises(UsageError, match=r"usage: %kimi save PATH\.ipynb"):
        ip.run_line_magic("kimi", "save")


def test_fix_explains_the_last_error(ip: InteractiveShell, sim: Simulator) -> None:
    ip.run_cell("{}['missing']")
    ip.run_line_magic("kimi", "--no-thinking fix")
    content = sim.requests[-1]["messages"][-1]["content"]
    assert content[0]["text"].startswith("This cell raised an error.")
    assert "KeyError: 'missing'" in content[1]["text"]


def test_json_answer_becomes_the_cell_result_and_a_variable(
    ip: InteractiveShell, sim: Simulator
) -> None:
    value = cell(ip, "--no-thinking --json", "list three colours")
    assert isinstance(value, dict)
    sent = sim.requests[-1]
    assert sent["response_format"] == {"type": "json_object"}
    assert "JSON object" in sent["messages"][-1]["content"]
    assert cell(ip, "--no-thinking --json -o colours", "again") is None
    assert isinstance(ip.user_ns["colours"], dict)


def test_schema_from_a_dict_and_from_a_pydantic_model(ip: InteractiveShell, sim: Simulator) -> None:
    import pydantic

    class City(pydantic.BaseModel):
        name: str
        population: int

    ip.user_ns["City"] = City
    ip.user_ns["city_schema"] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                 "type": "object", "properties": {"name": {"type": "string"}},
                                 "required": ["name"]}  # fmt: skip
    plain = cell(ip, "--no-thinking --schema city_schema", "a city")
    assert isinstance(plain, dict)
    assert isinstance(plain["name"], str)
    sent = sim.requests[-1]["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "city_schema"
    assert "$schema" not in sent["json_schema"]["schema"]
    model = cell(ip, "--no-thinking --schema City", "another city")
    assert isinstance(model, City)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--schema nothing_here", "--schema: there is no variable 'nothing_here'"),
        ("--schema not_schema", "--schema: not_schema is a list, not a JSON schema dict"),
        ("-o 3bad", "-o: '3bad' is not a valid variable name"),
    ],
)
def test_structured_option_errors(
    ip: InteractiveShell, sim: Simulator, line: str, message: str
) -> None:
    ip.user_ns["not_schema"] = [1, 2]
    before = len(sim.requests)
    with pytest.raises(UsageError) as info:
        cell(ip, line, "x")
    assert str(info.value).startswith(message)
    assert len(sim.requests) == before


def test_out_stores_the_answer_text(ip: InteractiveShell) -> None:
    cell(ip, "--no-thinking -o answer", "hello")
    assert ip.user_ns["answer"].startswith("[Kimi simulator]")


def test_code_without_a_code_block_says_so(ip: InteractiveShell, sim: Simulator) -> None:
    with pytest.raises(UsageError, match="--code: the answer has no code block"):
        cell(ip, "--no-thinking --code", "plot a sine")
    assert "fenced Python code block" in sim.requests[-1]["messages"][-1]["content"]


def test_first_code_block_is_what_goes_into_the_next_cell() -> None:
    from kimi_jupyter.structured import first_code_block

    answer = "Here:\n\n```python\nimport numpy as np\nx = np.sin(1)\n```\n\nand ```sh\nls\n```"
    assert first_code_block(answer) == "import numpy as np\nx = np.sin(1)"
    assert first_code_block("no code") is None


def test_history_shows_media_as_thumbnails(ip: InteractiveShell) -> None:
    from kimi_jupyter import commands

    ip.user_ns["img"] = png(6, 6)
    cell(ip, "--no-thinking", "what is @img")
    bundle = commands.history(sessions(), "default")
    assert "1 media part(s)" in bundle["text/plain"]
    assert "<img src='data:image/png;base64," in bundle["text/html"]


def test_line_questions_keep_apostrophes_quotes_and_spacing(
    ip: InteractiveShell, sim: Simulator
) -> None:
    ip.run_cell("%kimi --no-thinking -s 'my session' why doesn't \"this\"  work?")
    assert sim.requests[-1]["messages"][-1]["content"] == 'why doesn\'t "this"  work?'
    assert "my session" in sessions().names()
    ip.run_cell('%kimi --system="Be brief." --max-tokens 900 it\'s fine')
    sent = sim.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_completion_tokens"] == 900
    assert sent["messages"][-1]["content"] == "it's fine"


def test_subcommands_take_quoted_session_names(ip: InteractiveShell, sim: Simulator) -> None:
    cell(ip, "--no-thinking -s 'my session'", "first")
    with capture_output() as captured:
        ip.run_line_magic("kimi", 'history "my session"')
    assert "Session 'my session': 1 turn(s)" in captured.outputs[0].data["text/plain"]
    ip.run_line_magic("kimi", "reset 'my session'")
    assert sessions().get("my session").exchanges == []


def test_a_bad_default_session_is_one_line(ip: InteractiveShell, sim: Simulator) -> None:
    ip.run_line_magic("config", "KimiMagics.session = 'bad\\nname'")
    try:
        with pytest.raises(UsageError) as caught:
            cell(ip, "--no-thinking", "hello")
        assert "\n" not in str(caught.value)
    finally:
        ip.run_line_magic("config", "KimiMagics.session = 'default'")
