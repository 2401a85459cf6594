"""The tool loop end to end: the simulator's tool scenario on 127.0.0.1, and scripted streams
for what the simulator never does (calls to unknown functions, broken arguments)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kimi_jupyter import Chat, KimiError, tool
from kimi_jupyter._schema import function_schema
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.events import ToolCall, ToolFinished, ToolStarted
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.tools import Tool, Toolbox

from helpers import Recorder, sse, stream_response

KEY = "sk-sim-tools"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, **kwargs: Any) -> Chat:
    return Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url, **kwargs)


def population(city: str) -> int:
    """The population of a city.

    Args:
        city: the city's English name.
    """
    return {"Paris": 2_102_650}.get(city, 0)


def test_full_loop_replays_the_call_with_reasoning_and_the_result(sim: Simulator) -> None:
    chat = new_chat(sim, tools=[population])
    start = len(sim.requests)
    stream = chat.stream("How many people live in Paris? [[sim: tool=population]]")
    events = list(stream)
    turn = stream.turn

    first, second = sim.requests[start:]
    assert first["tools"][0]["function"]["name"] == "population"
    assert first["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] == "string"
    assistant, result = second["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"][0]["function"] == {
        "name": "population",
        "arguments": '{"city": "Paris"}',
    }
    assert assistant["reasoning_content"]  # thinking is on: the API demands it (§5.3)
    assert result == {
        "role": "tool",
        "content": "2102650",
        "tool_call_id": assistant["tool_calls"][0]["id"],
        "name": "population",
    }
    assert "Tool population returned: 2102650" in turn.answer
    assert [r.status for r in turn.tool_results] == ["ok"]
    assert turn.meta["steps"] == 2
    assert turn.usage is not None
    assert turn.usage.prompt_tokens > 0
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [e.call.name for e in started] == ["population"]
    assert finished[0].result.preview == "2102650"
    assert events.index(started[0]) < events.index(finished[0])

    # The next question replays the whole tool exchange, and the simulator accepts it.
    chat.ask("thanks", tools=[])
    roles = [m["role"] for m in sim.requests[-1]["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "user"]


def test_without_thinking_no_reasoning_is_replayed(sim: Simulator) -> None:
    chat = new_chat(sim, tools=[population], thinking=False)
    chat.ask("Paris? [[sim: tool=population]]")
    assistant = sim.requests[-1]["messages"][-2]
    assert assistant["tool_calls"]
    assert "reasoning_content" not in assistant


def test_several_calls_in_one_step_are_answered_in_order(sim: Simulator) -> None:
    seen: list[str] = []

    def first(label: str) -> str:
        """Record a label."""
        seen.append("first")
        return "one"

    def second(count: int) -> str:
        """Record a count."""
        seen.append("second")
        return "two"

    chat = new_chat(sim, tools=[first, second])
    turn = chat.ask("both [[sim: tool=second,first]]")
    assert seen == ["second", "first"]
    tool_messages = [m for m in sim.requests[-1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["two", "one"]
    calls = sim.requests[-1]["messages"][-3]["tool_calls"]
    assert [m["tool_call_id"] for m in tool_messages] == [c["id"] for c in calls]
    assert [r.name for r in turn.tool_results] == ["second", "first"]


def test_a_tool_that_raises_answers_the_model_not_the_user(sim: Simulator) -> None:
    def explode(city: str) -> int:
        """Always fails."""
        raise ValueError(f"no data for {city}")

    turn = new_chat(sim, tools=[explode]).ask("go [[sim: tool=explode]]")
    message = sim.requests[-1]["messages"][-1]
    assert message["content"] == "error: explode raised ValueError: no data for Paris"
    assert turn.status == "done"
    assert turn.tool_results[0].status == "error"
    assert "raised ValueError" in turn.answer  # the simulator reports what the tool said


def test_step_limit_ends_a_runaway_loop_with_a_worded_answer(sim: Simulator) -> None:
    calls: list[str] = []

    def again(city: str) -> str:
        """Call me again."""
        calls.append(city)
        return "call me again"

    start = len(sim.requests)
    turn = new_chat(sim, tools=[again], max_steps=3).ask("loop [[sim: tool=again tool_steps=50]]")
    sent = sim.requests[start:]
    assert len(sent) == 3
    assert len(calls) == 2
    assert [r.get("tool_choice") for r in sent] == [None, None, "none"]
    assert turn.status == "done"
    assert turn.answer
    assert turn.meta["steps"] == 3


def test_step_limit_of_one_never_runs_tools(sim: Simulator) -> None:
    ran: list[str] = []

    def never(city: str) -> str:
        """Should not run."""
        ran.append(city)
        return "ran"

    turn = new_chat(sim, tools=[never], max_steps=1).ask("x [[sim: tool=never]]")
    assert ran == []
    assert turn.tool_results == ()
    assert sim.requests[-1]["tool_choice"] == "none"


def test_confirm_run_and_skip(sim: Simulator, toolbox: Toolbox) -> None:
    ran: list[str] = []

    @tool(confirm=True)
    def delete_rows(table: str) -> str:
        """Delete every row of a table."""
        ran.append(table)
        return "deleted"

    asked: list[ToolCall] = []

    def answer(reply: bool) -> Any:
        def confirm(call: ToolCall) -> bool:
            asked.append(call)
            return reply

        return confirm

    chat = new_chat(sim, tools=True)
    stream = chat.stream("clean up [[sim: tool=delete_rows]]")
    stream.confirm = answer(False)
    events = list(stream)
    assert ran == []
    assert [c.name for c in asked] == ["delete_rows"]
    assert stream.turn.tool_results[0].status == "skipped"
    assert sim.requests[-1]["messages"][-1]["content"].startswith("error: the user chose not")
    assert next(e for e in events if isinstance(e, ToolStarted)).confirm is True

    stream = chat.stream("clean up now [[sim: tool=delete_rows]]")
    stream.confirm = answer(True)
    list(stream)
    assert ran == ["Paris"]
    assert stream.turn.tool_results[0].status == "ok"


def test_confirm_falls_back_to_a_terminal_prompt(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, toolbox: Toolbox
) -> None:
    ran: list[str] = []

    @tool(confirm=True, name="careful_tool")
    def careful(city: str) -> str:
        """Ask first."""
        ran.append(city)
        return "ok"

    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda text: prompts.append(text) or "y")
    new_chat(sim, tools=["careful_tool"]).ask("go [[sim: tool=careful_tool]]")
    assert ran == ["Paris"]
    assert prompts == ['Kimi wants to run careful_tool({"city": "Paris"}). Run? [y/N] ']

    def no_stdin(_text: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_stdin)
    turn = new_chat(sim, tools=["careful_tool"]).ask("again [[sim: tool=careful_tool]]")
    assert ran == ["Paris"]
    assert turn.tool_results[0].status == "skipped"


def test_registered_tools_are_offered_by_name_or_all(sim: Simulator, toolbox: Toolbox) -> None:
    @tool
    def city_area(city: str) -> float:
        """Area in km²."""
        return 105.4

    assert city_area("x") == 105.4  # still a plain function
    turn = new_chat(sim).ask("area? [[sim: tool=city_area]]", tools=["city_area"])
    assert turn.tool_results[0].preview == "105.4"
    with pytest.raises(KimiError, match=r"no tool named 'nope'.*city_area"):
        new_chat(sim).ask("x", tools=["nope"])


def test_results_go_through_the_mention_converters(sim: Simulator) -> None:
    pd = pytest.importorskip("pandas")

    def table(city: str) -> Any:
        """A small table."""
        return pd.DataFrame({"city": [city], "people": [2_102_650]})

    turn = new_chat(sim, tools=[table]).ask("table [[sim: tool=table]]")
    content = sim.requests[-1]["messages"][-1]["content"]
    assert isinstance(content, str)
    assert '"people"' in content
    assert "2102650" in content
    assert turn.tool_results[0].status == "ok"


def test_a_figure_goes_back_as_an_image(sim: Simulator) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def plot(city: str) -> Any:
        """Plot something."""
        figure, axes = plt.subplots(figsize=(2, 2))
        axes.plot([1, 2, 3])
        plt.close(figure)
        return figure

    turn = new_chat(sim, tools=[plot]).ask("plot [[sim: tool=plot]]")
    content = sim.requests[-1]["messages"][-1]["content"]
    kinds = [part["type"] for part in content]
    assert "image_url" in kinds
    assert "image/png" in turn.tool_results[0].preview


def test_web_search_arguments_are_echoed_exactly(sim: Simulator) -> None:
    chat = new_chat(sim, allow_web_search=True)
    start = len(sim.requests)
    turn = chat.ask("What happened today?", web_search=True)
    first, second = sim.requests[start:]
    assert {"type": "builtin_function", "function": {"name": "$web_search"}} in first["tools"]
    call = second["messages"][-2]["tool_calls"][0]
    assert call["type"] == "builtin_function"
    assert second["messages"][-1] == {
        "role": "tool",
        "content": call["function"]["arguments"],
        "tool_call_id": call["id"],
        "name": "$web_search",
    }
    assert turn.tool_results[0].status == "echoed"
    assert "$web_search round trip worked" in turn.answer


def test_web_search_is_refused_off_moonshot_before_sending(sim: Simulator) -> None:
    start = len(sim.requests)
    with pytest.raises(KimiError, match=r"--web-search needs Moonshot's API .* 127\.0\.0\.1"):
        new_chat(sim).ask("x", web_search=True)
    assert len(sim.requests) == start
    chat = Chat(sessions=Sessions(), api_key=KEY, base_url="https://api.moonshot.ai/v1")
    _, payload = chat.preview("x", web_search=True)
    assert payload["tools"] == [{"type": "builtin_function", "function": {"name": "$web_search"}}]


def _scripted(*bodies: bytes) -> tuple[Chat, Recorder]:
    recorder = Recorder(*(stream_response(b) for b in bodies))
    chat = Chat(
        sessions=Sessions(),
        api_key="sk-test-scripted",
        base_url="https://kimi.test/v1",
        transport=httpx.MockTransport(recorder),
    )
    return chat, recorder


def _call_stream(name: str, arguments: str) -> bytes:
    start = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
    return sse(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "hm"}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, **start}]}}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]},
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    )


_TEXT = sse(
    {"choices": [{"index": 0, "delta": {"content": "fine"}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
)


def test_a_call_to_an_unoffered_function_is_refused_back_to_the_model() -> None:
    chat, recorder = _scripted(_call_stream("os_system", '{"cmd": "rm -rf /"}'), _TEXT)
    turn = chat.ask("hi", tools=[population])
    tool_message = recorder.bodies()[1]["messages"][-1]  # type: ignore[index]
    assert tool_message["content"] == (
        "error: there is no tool named 'os_system'; the tools offered are: population"
    )
    assert turn.tool_results[0].status == "refused"
    assert turn.answer == "fine"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"city": ', "error: the arguments are not JSON"),
        ('{"city": 3}', "error: argument 'city'"),
        ("{}", "error: missing required argument 'city'"),
        ('{"city": "Paris", "x": 1}', "error: unexpected argument 'x'"),
    ],
)
def test_bad_arguments_go_back_to_the_model(arguments: str, expected: str) -> None:
    ran: list[str] = []

    def checked(city: str) -> str:
        """Checked."""
        ran.append(city)
        return city

    chat, recorder = _scripted(_call_stream("checked", arguments), _TEXT)
    turn = chat.ask("hi", tools=[checked])
    content = recorder.bodies()[1]["messages"][-1]["content"]  # type: ignore[index]
    assert content.startswith(expected), content
    assert ran == []
    assert turn.tool_results[0].status == "error"


def test_interrupt_inside_a_tool_keeps_a_valid_history() -> None:
    def interrupted(city: str) -> str:
        """The user presses Ctrl-C while this runs."""
        raise KeyboardInterrupt

    chat, recorder = _scripted(_call_stream("interrupted", '{"city": "Paris"}'), _TEXT)
    with pytest.raises(KeyboardInterrupt):
        chat.ask("hi", tools=[interrupted])
    exchange = chat.session.exchanges[-1]
    assert [m.role for m in exchange.replies] == ["assistant", "tool"]
    assert exchange.replies[1].content == "error: not run: the user stopped the answer"
    assert exchange.turn.tool_results[0].status == "not run"
    chat.ask("next")
    roles = [m["role"] for m in recorder.bodies()[-1]["messages"]]  # type: ignore[index]
    assert roles == ["user", "assistant", "tool", "user"]
    assert json.loads(recorder.requests[-1].content)["messages"][1]["reasoning_content"] == "hm"


def test_stop_while_a_confirm_waits_ends_the_answer_stopped(sim: Simulator) -> None:
    def guarded(city: str) -> str:
        """Needs a yes."""
        return city

    offered = Tool(guarded, function_schema(guarded), confirm=True)
    chat = new_chat(sim, tools=[offered])
    start = len(sim.requests)
    stream = chat.stream("go [[sim: tool=guarded]]")

    def stop_instead(_call: ToolCall) -> bool:
        stream.close()  # the user pressed Stop while Run / Skip was shown
        return False

    stream.confirm = stop_instead
    list(stream)
    assert len(sim.requests) == start + 1  # no next step after Stop
    assert stream.turn.status == "stopped"
    assert stream.turn.tool_results[0].status == "skipped"
    exchange = chat.session.exchanges[-1]
    assert [m.role for m in exchange.replies] == ["assistant", "tool"]


def test_a_step_limit_after_tools_counts_each_step_once() -> None:
    call = _call_stream("population", '{"city": "Paris"}')
    chat, recorder = _scripted(call, call, call)
    turn = chat.ask("hi", tools=[population], max_steps=2)  # the model ignores tool_choice
    assert len(recorder.requests) == 2
    assert recorder.bodies()[1]["tool_choice"] == "none"
    assert [r.status for r in turn.tool_results] == ["ok", "not run"]
    assert len(turn.tool_calls) == 2
    assert turn.reasoning == "hm\n\nhm"
    assert turn.meta["steps"] == 2
    assert turn.meta["step_limit"] == 2
    exchange = chat.session.exchanges[-1]
    assert [m.role for m in exchange.replies] == ["assistant", "tool", "assistant", "tool"]
    assert exchange.answer is not None
    assert exchange.answer.content == ""
