"""Plotly figures → PNG parts through kaleido in Debian's Chromium (one browser for the module).

The browser starts once, in the `drawn` fixture; every other test that draws reuses it
(about 0.2 s a figure). The no-browser tests name a missing KIMI_CHROME and start nothing.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import plotly
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from kimi_jupyter.context import ContextError, Limits, convert, describe, sha256
from kimi_jupyter.context._chrome import HOW_TO_GET, find_chrome
from kimi_jupyter.context._kaleido import Browser
from kimi_jupyter.context._sniff import image_size
from kimi_jupyter.context.plotly_charts import plotly_spec_parts
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.prompting import gather
from kimi_jupyter.render.dryrun import downscaled

from helpers import png_part

CHART_LIBRARIES = ("plotly", "kaleido", "choreographer", "altair", "vl_convert")


def line_figure(
    width: int | None = 400, height: int | None = 300, title: str = "Waves"
) -> go.Figure:
    fig = go.Figure(layout={"width": width, "height": height, "title": title})
    fig.add_scatter(x=[0, 1, 2, 3], y=[0, 1, 0, -1], name="sin", mode="lines")
    fig.add_bar(x=[0, 1, 2, 3], y=[1, 2, 3, 4], name="steps")
    fig.update_xaxes(title="time")
    fig.update_yaxes(title="level")
    return fig


@pytest.fixture(scope="module", autouse=True)
def _shared_browser() -> Iterator[None]:
    yield
    Browser.close_shared()


@pytest.fixture(scope="module")
def drawn() -> tuple[list[Part], float]:
    """The first figure of the module, which starts the browser, and how long it took."""
    assert find_chrome() is not None, "these tests need Chromium: apt-get install chromium"
    start = time.perf_counter()
    parts = convert(line_figure(), "fig")
    return parts, time.perf_counter() - start


@pytest.fixture
def no_chrome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIMI_CHROME", "/nonexistent/chromium")


def test_a_sized_figure_is_a_png_of_its_layout_size(drawn: tuple[list[Part], float]) -> None:
    parts, _ = drawn
    assert parts[0] == TextPart("@fig: Plotly Figure, 400×300")
    image = png_part(parts)
    assert image_size(image.data) == (400, 300)
    assert describe(image).startswith("image/png 400×300, ")


def test_the_same_figure_twice_gives_identical_bytes(drawn: tuple[list[Part], float]) -> None:
    fig = line_figure()
    first, second = png_part(convert(fig, "fig")), png_part(convert(fig, "fig"))
    assert first.data == second.data == png_part(drawn[0]).data
    assert sha256(first) == sha256(second)
    fig.update_layout(title="Changed")
    assert png_part(convert(fig, "fig")).data != first.data


def test_a_drawn_browser_answers_in_well_under_a_second(drawn: tuple[list[Part], float]) -> None:
    start = time.perf_counter()
    convert(line_figure(), "fig")
    assert time.perf_counter() - start < 2.0  # about 0.2 s; the margin is for loaded CI boxes


def test_plotly_express_without_a_size_is_plotlys_700_by_500(drawn: object) -> None:
    fig = px.line(x=[1, 2, 3], y=[3, 1, 2], title="px")
    parts = convert(fig, "px_fig")
    assert parts[0] == TextPart("@px_fig: Plotly Figure, 700×500")
    assert image_size(png_part(parts).data) == (700, 500)


def test_a_figure_widget_is_drawn_like_its_figure(drawn: tuple[list[Part], float]) -> None:
    widget = go.FigureWidget(line_figure())
    parts = convert(widget, "w")
    assert parts[0] == TextPart("@w: Plotly FigureWidget, 400×300")
    assert png_part(parts).data == png_part(drawn[0]).data


def test_plotlys_default_scale_multiplies_the_size(
    drawn: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pio.defaults, "default_scale", 2)
    parts = convert(line_figure(), "fig")
    assert parts[0] == TextPart("@fig: Plotly Figure, 800×600")
    assert image_size(png_part(parts).data) == (800, 600)


def test_a_figure_larger_than_the_limits_is_drawn_smaller(drawn: object) -> None:
    parts = convert(line_figure(2000, 1000), "big", limits=Limits(max_image=(500, 500)))
    assert parts[0] == TextPart("@big: Plotly Figure, 2000×1000")
    assert image_size(png_part(parts).data) == (500, 250)
    assert downscaled(parts) == ["@big: downscaled from 2000×1000 to 500×250"]


def test_a_figure_over_the_byte_cap_is_re_encoded_under_it(drawn: object) -> None:
    fig = line_figure(600, 450)
    fig.add_heatmap(z=[[(i * j) % 17 for j in range(60)] for i in range(45)])
    cap = len(png_part(convert(fig, "heat")).data) // 2
    label, image = convert(fig, "heat", limits=Limits(max_image_bytes=cap))
    assert label == TextPart("@heat: Plotly Figure, 600×450")
    assert isinstance(image, MediaPart)
    assert len(image.data) <= cap
    assert image.mime == "image/webp"  # kaleido draws RGBA: the lossy form keeps alpha


def test_the_displayed_plotly_json_is_drawn_as_the_figure(drawn: tuple[list[Part], float]) -> None:
    mime = "application/vnd.plotly.v1+json"
    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(line_figure().to_dict())
    spec = json.loads(json.dumps(bundle[mime], cls=plotly.utils.PlotlyJSONEncoder))
    parts = plotly_spec_parts(spec, "@last (Out[3])", Limits())
    assert parts[0] == TextPart("@last (Out[3]): Plotly figure, 400×300")
    assert png_part(parts).data == png_part(drawn[0]).data
    with pytest.raises(ContextError, match=r"^@last: the Plotly output holds no figure"):
        plotly_spec_parts({"layout": {}}, "@last", Limits())


def test_a_map_that_cannot_load_its_outlines_is_one_line(
    drawn: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pio.defaults, "topojson", "http://127.0.0.1:9/topojson")
    with pytest.raises(ContextError) as caught:
        convert(px.scatter_geo(lat=[48.9], lon=[2.35]), "geo")
    message = str(caught.value)
    assert message.startswith("@geo: Plotly could not draw the figure: ")
    assert "topojson" in message
    assert "\n" not in message
    assert caught.value.__cause__ is None
    assert png_part(convert(line_figure(), "fig")).data  # the browser is still there


def test_without_chrome_the_data_summary_is_sent_and_noted(no_chrome: None) -> None:
    start = time.perf_counter()
    context = gather("What does @fig show?", {"fig": line_figure()})
    assert time.perf_counter() - start < 1.0
    (part,) = context.parts
    assert isinstance(part, TextPart)
    head, body = part.text.split("\n", 1)
    assert head == (
        "@fig: Plotly Figure as a JSON summary of its data, not as an image "
        "(KIMI_CHROME='/nonexistent/chromium' is not a browser)"
    )
    assert json.loads(body) == {
        "figure": "Plotly Figure",
        "title": "Waves",
        "size": [400, 300],
        "axes": {"xaxis": "time", "yaxis": "level"},
        "traces": [
            {"type": "scatter", "name": "sin", "mode": "lines", "points": 4},
            {"type": "bar", "name": "steps", "points": 4},
        ],
    }
    assert context.note == (
        "@fig: Plotly Figure sent as a JSON summary of its data, not as an image: "
        f"KIMI_CHROME='/nonexistent/chromium' is not a browser; {HOW_TO_GET}"
    )


def test_the_summary_counts_numpy_and_base64_arrays_and_fits_the_budget(no_chrome: None) -> None:
    np = pytest.importorskip("numpy")
    fig = go.Figure(go.Heatmap(z=np.ones((30, 40))))
    for k in range(300):
        fig.add_scatter(y=np.arange(50.0), name=f"series {k} " + "x" * 200)
    (part,) = convert(fig, "many", limits=Limits(max_text_chars=2_000))
    assert isinstance(part, TextPart)
    assert len(part.text) <= 2_000
    summary = json.loads(part.text.split("\n", 1)[1])
    assert summary["traces"][0] == {"type": "heatmap", "points": 1200}
    assert summary["traces"][1]["points"] == 50
    assert len(summary["traces"][1]["name"]) == 100  # Limits.max_cell_chars
    assert summary["traces_not_shown"] == 301 - len(summary["traces"])
    spec = json.loads(pio.to_json(fig))  # as displayed: arrays in plotly's base64 form
    (from_spec,) = plotly_spec_parts(spec, "@last", Limits(max_text_chars=2_000))
    assert isinstance(from_spec, TextPart)
    assert json.loads(from_spec.text.split("\n", 1)[1])["traces"][:2] == summary["traces"][:2]


def test_a_browser_that_died_is_replaced_unnoticed(drawn: tuple[list[Part], float]) -> None:
    browser = Browser._shared
    assert browser is not None
    os.kill(browser._kaleido.subprocess.pid, signal.SIGKILL)
    assert png_part(convert(line_figure(), "fig")).data == png_part(drawn[0]).data
    assert Browser._shared is not browser


def test_a_task_kaleido_leaves_failed_is_one_debug_line_not_an_error_from_gc(
    drawn: object, caplog: pytest.LogCaptureFixture
) -> None:
    # When the browser dies mid-figure, kaleido's `wait_for` leaves its inner task failed
    # and unread; the garbage collector reports it later, in whatever thread runs, and on
    # Python 3.11 the traceback asyncio's default handler formats can break an `ast.parse`
    # running there (CI once failed in test_readme that way).
    browser = Browser._shared
    assert browser is not None

    async def leave_a_failed_task() -> None:
        async def fail() -> None:
            raise ConnectionError("Executor is closed.")

        asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.DEBUG):
        browser._call(leave_a_failed_task(), 5)
        gc.collect()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []
    said = [r.getMessage() for r in caplog.records if r.name == "kimi_jupyter"]
    assert "kaleido's event loop: Task exception was never retrieved (Executor is closed.)" in said


def test_a_browser_that_does_not_start_is_one_line(
    drawn: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Last to draw in the module: it closes the shared browser. kaleido's own sync server
    # would wait forever here.
    monkeypatch.setenv("KIMI_CHROME", "/bin/false")
    start = time.perf_counter()
    with pytest.raises(ContextError) as caught:
        convert(line_figure(), "fig")
    assert str(caught.value).startswith(
        "@fig: the browser at /bin/false did not start to draw the Plotly figure ("
    )
    assert "\n" not in str(caught.value)
    assert time.perf_counter() - start < 30
    assert Browser._shared is None


def test_importing_the_package_loads_no_chart_library() -> None:
    code = "import sys, json, kimi_jupyter.context; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(out.stdout)}
    assert loaded.isdisjoint(CHART_LIBRARIES)
