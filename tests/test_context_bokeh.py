"""Bokeh figures and layouts, HoloViews and hvPlot objects → PNG parts, drawn in Debian's
Chromium through chromedriver (one browser for the module), and their fallbacks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from kimi_jupyter.context import ContextError, Limits, bokeh_charts, convert
from kimi_jupyter.context._chrome import (
    HOW_TO_GET,
    HOW_TO_GET_DRIVER,
    find_chrome,
    find_chromedriver,
)
from kimi_jupyter.conversation import TextPart
from kimi_jupyter.prompting import gather

from helpers import pixels, png_part

pytest.importorskip("selenium")
bokeh_plotting = pytest.importorskip("bokeh.plotting")
bokeh_layouts = pytest.importorskip("bokeh.layouts")
hv = pytest.importorskip("holoviews")

pytestmark = pytest.mark.skipif(
    find_chrome() is None or find_chromedriver() is None,
    reason="needs Chrome/Chromium and chromedriver (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module", autouse=True)
def _one_browser() -> Iterator[None]:
    """The tests share the process's browser; it is closed after the last one."""
    yield
    bokeh_charts._BROWSER.quit()


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """A process that has not drawn yet, on a machine without the named program."""

    def without(variable: str) -> None:
        monkeypatch.setenv(variable, "/nonexistent/program")
        monkeypatch.setattr(bokeh_charts, "_BROWSER", bokeh_charts._Browser())

    return without


@pytest.fixture
def backend() -> Iterator[Callable[[str], None]]:
    """Switch HoloViews' backend for one test (loading it), then put the previous one back."""
    previous, was = hv.Store.current_backend, matplotlib.is_interactive()

    def use(name: str) -> None:
        hv.renderer(name)
        hv.Store.set_current_backend(name)

    yield use
    hv.Store.set_current_backend(previous)
    plt.ion() if was else plt.ioff()


def bokeh_figure(width: int = 400, height: int = 300, lines: int = 1) -> object:
    plot = bokeh_plotting.figure(width=width, height=height, title="Sales")
    for k in range(lines):
        plot.line([1, 2, 3, 4], [k, 3 - k, 2, 4], legend_label=f"line {k}")
    plot.xaxis.axis_label = "week"
    return plot


def test_figure_is_a_png_at_its_size_on_the_page_with_identical_bytes() -> None:
    plot = bokeh_figure()
    image = png_part(convert(plot, "p"), "@p: Bokeh figure")
    assert pixels(image) == (400, 300)
    assert convert(plot, "p")[1] == image
    assert b"tEXt" not in image.data
    assert b"iCCP" not in image.data


def test_layouts_are_drawn_whole() -> None:
    layout = bokeh_layouts.row(bokeh_figure(400, 300), bokeh_figure(300, 300))
    image = png_part(convert(layout, "r"), "@r: Bokeh Row")
    assert pixels(image) == (700, 300)


def test_figure_is_downscaled_into_the_limits() -> None:
    parts = convert(bokeh_figure(), "p", limits=Limits(max_image=(200, 200)))
    assert pixels(png_part(parts, "@p: Bokeh figure")) == (200, 150)


def test_holoviews_on_bokeh_is_drawn_by_bokeh(backend: Callable[[str], None]) -> None:
    backend("bokeh")
    curve = hv.Curve([1, 3, 2]).opts(width=400, height=300)
    image = png_part(convert(curve, "c"), "@c: HoloViews Curve")
    assert pixels(image) == (400, 300)
    assert convert(curve, "c")[1] == image
    assert hv.Store.current_backend == "bokeh"


def test_holoviews_on_matplotlib_is_drawn_by_matplotlib(backend: Callable[[str], None]) -> None:
    backend("matplotlib")
    plt.ion()
    curve = hv.Curve([1, 3, 2]).opts(fig_inches=(4, 3))
    image = png_part(convert(curve, "c"), "@c: HoloViews Curve")
    assert pixels(image) == (400, 300)
    assert convert(curve, "c")[1] == image
    assert hv.Store.current_backend == "matplotlib"
    assert matplotlib.is_interactive()  # HoloViews' plt.ioff() was undone
    assert plt.get_fignums() == []


def test_hvplot_objects_use_the_bokeh_backend_hvplot_chose(
    backend: Callable[[str], None],
) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("hvplot.pandas")  # makes Bokeh the backend
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [3, 1, 4, 2]})
    line = frame.hvplot.line(x="x", y="y", width=500, height=250)
    image = png_part(convert(line, "h"), "@h: HoloViews Curve")
    assert pixels(image) == (500, 250)


def test_without_chromedriver_the_summary_is_sent_and_the_status_says_why(
    no_browser: Callable[[str], None],
) -> None:
    no_browser("KIMI_CHROMEDRIVER")
    context = gather("What does @p show?", {"p": bokeh_figure(lines=2)})
    assert context.note == (
        f"@p: Bokeh figure sent as its data summary (no chromedriver to draw it with: "
        f"{HOW_TO_GET_DRIVER})"
    )
    (part,) = context.parts
    assert isinstance(part, TextPart)
    first, summary = part.text.split("\n", 1)
    assert first == "@p: Bokeh figure, as a JSON summary of its data (it could not be drawn here):"
    plot = json.loads(summary)
    assert plot["title"] == "Sales"
    assert plot["width"] == 400
    assert plot["x_axis"] == [{"type": "LinearAxis", "label": "week"}]
    assert plot["renderers"][0] == {
        "type": "GlyphRenderer",
        "glyph": "Line",
        "columns": {"x": 4, "y": 4},
    }
    assert plot["legend"] == ["line 0", "line 1"]


def test_without_chrome_a_layout_summary_is_bounded(no_browser: Callable[[str], None]) -> None:
    no_browser("KIMI_CHROME")
    layout = bokeh_layouts.column(bokeh_figure(lines=30), bokeh_layouts.row(bokeh_figure()))
    context = gather("Explain @grid", {"grid": layout})
    assert context.note == (
        f"@grid: Bokeh Column sent as its data summary (no Chrome or Chromium to draw it: "
        f"{HOW_TO_GET})"
    )
    (part,) = context.parts
    assert isinstance(part, TextPart)
    summary = json.loads(part.text.split("\n", 1)[1])
    many, row = summary["children"]
    assert len(many["renderers"]) == 21
    assert many["renderers"][-1] == "… 10 more"
    assert row["children"][0]["title"] == "Sales"
    small = convert(layout, "grid", limits=Limits(max_text_chars=300))
    assert len(small[0].text) <= 300  # type: ignore[union-attr]


def test_holoviews_on_bokeh_without_a_browser_is_drawn_by_matplotlib(
    backend: Callable[[str], None], no_browser: Callable[[str], None]
) -> None:
    backend("bokeh")
    no_browser("KIMI_CHROMEDRIVER")
    context = gather("What is @c?", {"c": hv.Curve([1, 3, 2])})
    assert context.note == (
        "@c: HoloViews Curve drawn with matplotlib, not Bokeh (no chromedriver to draw it "
        f"with: {HOW_TO_GET_DRIVER})"
    )
    assert pixels(png_part(context.parts, "@c: HoloViews Curve")) == (400, 400)
    assert hv.Store.current_backend == "bokeh"


def test_a_browser_that_cannot_start_is_one_line(
    monkeypatch: pytest.MonkeyPatch, no_browser: Callable[[str], None]
) -> None:
    no_browser("KIMI_CHROMEDRIVER")
    monkeypatch.setenv("KIMI_CHROMEDRIVER", "/bin/false")  # exists, but is no driver
    with pytest.raises(ContextError) as raised:
        convert(bokeh_figure(), "p")
    message = str(raised.value)
    assert message.startswith("@p: Bokeh could not start ")
    assert "\n" not in message


def test_holoviews_object_that_cannot_be_drawn_is_one_line(
    backend: Callable[[str], None],
) -> None:
    backend("matplotlib")
    with pytest.raises(ContextError) as raised:
        convert(hv.Dataset([(1, 2)], "x", "y"), "ds")
    assert str(raised.value) == (
        "@ds: HoloViews could not draw it with matplotlib "
        "(SkipRendering: No plotting class for Dataset found.)"
    )


def test_a_browser_that_died_is_replaced() -> None:
    plot = bokeh_figure()
    image = convert(plot, "p")[1]
    bokeh_charts._BROWSER._driver.quit()  # behind its back, as a crash would
    assert convert(plot, "p")[1] == image
