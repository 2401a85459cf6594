"""The same chart converters on every surface that takes objects: `Chat.ask(prompt, chart)`
and a tool that returns a chart (the magics, the chat widget and the panel go through
`prompting.gather`, tested with the notebooks and `test_capture_charts.py`)."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from kimi_jupyter import Chat
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.simulator import Simulator

KEY = "sk-chart-surfaces-key"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, **kwargs: Any) -> Chat:
    return Chat(api_key=KEY, base_url=sim.base_url, sessions=Sessions(), **kwargs)


def bars() -> Any:
    import altair as alt

    data = alt.Data(values=[{"k": "a", "v": 3}, {"k": "b", "v": 5}])
    return alt.Chart(data).mark_bar().encode(x="k:N", y="v:Q").properties(width=200, height=120)


def png_sizes(content: Any) -> list[tuple[int, int]]:
    sizes = []
    for part in content if isinstance(content, list) else []:
        if part.get("type") == "image_url":
            png = base64.b64decode(part["image_url"]["url"].partition(",")[2])
            sizes.append(struct.unpack(">II", png[16:24]))
    return sizes


def expected_size() -> tuple[int, int]:
    import vl_convert

    png = vl_convert.vegalite_to_png(bars().to_dict())
    return struct.unpack(">II", png[16:24])


def test_chat_ask_sends_a_chart_object_as_its_image(sim: Simulator) -> None:
    new_chat(sim).ask("What does this chart show?", bars())
    content = sim.requests[-1]["messages"][-1]["content"]
    assert png_sizes(content) == [expected_size()]


def test_a_tool_that_returns_a_chart_sends_it_back_as_an_image(sim: Simulator) -> None:
    def chart_of(city: str) -> Any:
        """A bar chart for the city."""
        return bars()

    turn = new_chat(sim, tools=[chart_of]).ask("chart it [[sim: tool=chart_of]]")
    content = sim.requests[-1]["messages"][-1]["content"]
    assert png_sizes(content) == [expected_size()]
    assert "image/png" in turn.tool_results[0].preview
