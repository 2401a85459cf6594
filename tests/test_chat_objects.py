"""`Chat.ask(prompt, *objects)` / `preview` take what a mention takes, through the same
converters (`Chat.context.converters`), not only text and content parts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from kimi_jupyter import Chat
from kimi_jupyter.context import ContextError, Registry
from kimi_jupyter.conversation import MediaPart, Sessions, TextPart
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.simulator import Simulator

from helpers import png

KEY = "sk-chat-objects"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator, context: KernelContext | None = None) -> Chat:
    context = context or KernelContext(sessions=Sessions())
    return Chat("objects", context=context, api_key=KEY, base_url=sim.base_url)


def figure() -> Figure:
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([1, 3, 2])
    return fig


def kinds(parts: Any) -> list[str]:
    return [p.mime if isinstance(p, MediaPart) else "text" for p in parts]


def test_preview_converts_frames_figures_images_and_arrays(sim: Simulator, tmp_path: Path) -> None:
    frame = pd.DataFrame({"city": ["Paris", "Oslo"], "temp": [21.5, 9.0]})
    path = tmp_path / "plot.png"
    path.write_bytes(png(8, 6))
    objects = [
        frame,
        figure(),
        Image.new("RGB", (40, 30), "red"),
        np.zeros((32, 32, 3), dtype=np.uint8),
        path,
        {"auc": 0.91},
    ]
    message, payload = new_chat(sim).preview("compare these", *objects)
    parts = message.content
    assert not isinstance(parts, str)
    assert kinds(parts) == ["text", "text", "image/png", "image/png", "image/png", "image/png",
                            "text"]  # fmt: skip
    frame_json = json.loads(parts[1].text) if isinstance(parts[1], TextPart) else None
    assert frame_json is not None
    assert frame_json["shape"] == [2, 2]
    assert parts[-1] == TextPart('dict of 1 keys: {"auc":0.91}')
    assert len(payload["messages"]) == 1


def test_text_and_parts_are_sent_as_they_are(sim: Simulator) -> None:
    part = MediaPart(png(4, 4), "image/png")
    message, _ = new_chat(sim).preview("look", "also this text", part)
    assert message.content == (TextPart("look"), TextPart("also this text"), part)


def test_ask_sends_a_dataframe_and_a_figure(sim: Simulator) -> None:
    frame = pd.DataFrame({"x": range(100), "y": np.linspace(0, 1, 100)})
    turn = new_chat(sim).ask("what trend do you see?", frame, figure())
    assert turn.status == "done"
    sent = sim.requests[-1]["messages"][-1]["content"]
    assert [p["type"] for p in sent] == ["text", "text", "image_url"]
    assert '"shape":[100,2]' in sent[1]["text"]
    assert "PNG, 300×200 pixels" in turn.answer


def test_the_chats_own_converters_are_used(sim: Simulator) -> None:
    class Reading:
        def __init__(self, value: float) -> None:
            self.value = value

    registry = Registry.with_builtins()
    registry.register(Reading, lambda obj, name, limits: [TextPart(f"reading {obj.value} V")])
    context = KernelContext(sessions=Sessions(), converters=registry)
    message, _ = new_chat(sim, context).preview("is this high?", Reading(3.3))
    assert message.content == (TextPart("is this high?"), TextPart("reading 3.3 V"))


def test_anything_else_is_its_repr(sim: Simulator) -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<Thing 7>"

    message, _ = new_chat(sim).preview("what is it?", Thing())
    assert message.content == (TextPart("what is it?"), TextPart("<Thing 7>"))


def test_objects_that_cannot_be_sent_are_one_line(sim: Simulator) -> None:
    chat = new_chat(sim)
    before = len(sim.requests)
    flat = Figure(figsize=(0, 0))
    flat.add_subplot().plot([1, 2])
    with pytest.raises(ContextError, match=r"^the Figure: the figure is 0×0 inches"):
        chat.ask("why?", flat)
    with pytest.raises(ContextError, match=r"^the bytes: these 3 bytes are not a PNG"):
        chat.ask("why?", b"abc")
    assert len(sim.requests) == before
    assert chat.turns == []
