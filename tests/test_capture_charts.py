"""`@last` and `@Out[N]` on JavaScript charts, through a real InteractiveShell: drawn from the
object the cell displayed, else from the displayed spec, else its text and a note."""

from __future__ import annotations

import base64
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from kimi_jupyter._charts_shown import bokeh_model
from kimi_jupyter.capture import CellCapture
from kimi_jupyter.context import Limits, Registry
from kimi_jupyter.context._notes import collecting
from kimi_jupyter.context._sniff import image_size
from kimi_jupyter.context.vega_charts import vega_spec_parts
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.simulator import Simulator

from helpers import png

KEY = "sk-capture-charts-key"
PLOTLY = "application/vnd.plotly.v1+json"
HOLOVIEWS_EXEC = "application/vnd.holoviews_exec.v0+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
VEGALITE_SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.20.1.json",
    "data": {"values": [{"x": 1, "y": 3}, {"x": 2, "y": 1}, {"x": 3, "y": 2}]},
    "mark": "bar",
    "encoding": {
        "x": {"field": "x", "type": "ordinal"},
        "y": {"field": "y", "type": "quantitative"},
    },
    "width": 180,
    "height": 120,
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture
def capture(ip: InteractiveShell) -> CellCapture:
    magics = ip.magics_manager.registry["KimiMagics"]
    assert isinstance(magics.capture, CellCapture)
    return magics.capture


@pytest.fixture
def plotly_in_kernel() -> Iterator[None]:
    """Plotly's renderer in a Jupyter kernel (a bare shell would open a web browser)."""
    import plotly.io as pio

    before = pio.renderers.default
    pio.renderers.default = "plotly_mimetype"
    yield
    pio.renderers.default = before


@pytest.fixture
def altair_renderer() -> Iterator[Any]:
    import altair as alt

    before = alt.renderers.active
    yield alt.renderers
    alt.renderers.enable(before)


@pytest.fixture
def bokeh_notebook() -> Iterator[None]:
    from bokeh.io import output_notebook, reset_output

    with capture_output():
        output_notebook(hide_banner=True)
    yield
    reset_output()


def run(ip: InteractiveShell, code: str) -> None:
    result = ip.run_cell(code, store_history=True)
    assert result.error_in_exec is None, result.error_in_exec


def asked(capture: CellCapture) -> tuple[list[Part], list[str]]:
    with collecting() as notes:
        parts = capture.last_parts()
    return parts, notes


def images(parts: list[Part]) -> list[MediaPart]:
    return [p for p in parts if isinstance(p, MediaPart)]


def converted(obj: object) -> bytes:
    (image,) = images(Registry.default().convert(obj, "last", limits=Limits()))
    return image.data


def test_plotly_show_is_one_png_of_the_figure_size(
    ip: InteractiveShell, capture: CellCapture, plotly_in_kernel: None
) -> None:
    run(
        ip,
        "import plotly.graph_objects as go\n"
        "fig = go.Figure(go.Scatter(y=[1, 3, 2]), layout={'width': 400, 'height': 300})\n"
        "fig.show()",
    )
    parts, notes = asked(capture)
    (image,) = images(parts)
    assert image.mime == "image/png"
    assert image_size(image.data) == (400, 300)
    assert notes == []


@pytest.mark.parametrize(
    ("renderer", "shown_by"), [("html", "chart"), ("mimetype", "chart"), ("html", "display(chart)")]
)
def test_an_altair_chart_as_the_result_is_drawn_from_the_object(
    ip: InteractiveShell, capture: CellCapture, altair_renderer: Any, renderer: str, shown_by: str
) -> None:
    altair_renderer.enable(renderer)
    run(
        ip,
        "import altair as alt\n"
        "chart = alt.Chart(alt.Data(values=[{'x': 1, 'y': 2}, {'x': 2, 'y': 4}]))"
        ".mark_line().encode(x='x:Q', y='y:Q').properties(width=220, height=140)\n"
        f"{shown_by}",
    )
    (shown,) = capture.cells[-1].shown
    assert shown.obj is ip.user_ns["chart"]
    expected = "application/vnd.vegalite.v6.json" if renderer == "mimetype" else "text/plain"
    assert shown.mime == expected
    parts, notes = asked(capture)
    (image,) = images(parts)
    assert image.data == converted(ip.user_ns["chart"])
    assert notes == []


def test_a_plotly_spec_displayed_raw_is_drawn_from_the_spec(
    ip: InteractiveShell, capture: CellCapture
) -> None:
    ip.user_ns["SPEC"] = {
        "data": [{"type": "bar", "x": ["a", "b"], "y": [2, 5]}],
        "layout": {"width": 320, "height": 240},
    }
    run(ip, f"from IPython.display import display\ndisplay({{{PLOTLY!r}: SPEC}}, raw=True)")
    assert capture.cells[-1].shown[0].obj is None
    parts, notes = asked(capture)
    (image,) = images(parts)
    assert image_size(image.data) == (320, 240)
    assert notes == []


def test_a_vegalite_spec_displayed_raw_is_drawn_from_the_spec(
    ip: InteractiveShell, capture: CellCapture
) -> None:
    mime = "application/vnd.vegalite.v5+json"
    ip.user_ns["SPEC"] = VEGALITE_SPEC
    run(ip, f"from IPython.display import display\ndisplay({{{mime!r}: SPEC}}, raw=True)")
    parts, notes = asked(capture)
    (image,) = images(parts)
    (expected,) = images(vega_spec_parts(VEGALITE_SPEC, mime, "spec", Limits()))
    assert image.data == expected.data
    assert notes == []


def test_bokeh_show_is_drawn_from_the_model_the_cell_showed(
    ip: InteractiveShell, capture: CellCapture, bokeh_notebook: None
) -> None:
    run(
        ip,
        "from bokeh.plotting import figure, show\n"
        "p = figure(width=300, height=200)\n"
        "p.line([1, 2, 3], [3, 1, 2])\n"
        "show(p)",
    )
    (shown,) = capture.cells[-1].shown
    assert (shown.mime, shown.ident, shown.obj) == (BOKEH_EXEC, ip.user_ns["p"].id, ip.user_ns["p"])
    parts, notes = asked(capture)
    (image,) = images(parts)
    assert image_size(image.data) == (300, 200)
    assert image.data == converted(ip.user_ns["p"])
    assert notes == []


def test_a_bokeh_model_no_document_holds_is_found_among_live_objects(
    ip: InteractiveShell, bokeh_notebook: None
) -> None:
    from bokeh.io import curdoc
    from bokeh.plotting import figure

    p = figure(width=120, height=80)
    curdoc().add_root(p)
    assert bokeh_model(p.id, scan=False) is p
    curdoc().clear()
    assert bokeh_model(p.id, scan=False) is None
    assert bokeh_model(p.id, scan=True) is p
    del p
    gc.collect()


@pytest.mark.parametrize(
    ("bundle", "metadata", "library", "text"),
    [
        (
            {"text/html": "<div></div>", HOLOVIEWS_EXEC: "", "text/plain": ":Curve [x] (y)"},
            {HOLOVIEWS_EXEC: {"id": "gone-1"}},
            "HoloViews",
            ":Curve [x] (y)",
        ),
        (
            {"application/javascript": "", BOKEH_EXEC: ""},
            {BOKEH_EXEC: {"id": "gone-2"}},
            "Bokeh",
            None,
        ),
    ],
)
def test_a_chart_nothing_here_can_draw_is_its_text_and_a_note(
    ip: InteractiveShell,
    capture: CellCapture,
    bundle: dict[str, str],
    metadata: dict[str, Any],
    library: str,
    text: str | None,
) -> None:
    ip.user_ns.update(BUNDLE=bundle, METADATA=metadata)
    run(ip, "from IPython.display import display\ndisplay(BUNDLE, metadata=METADATA, raw=True)")
    label = f"In[{ip.execution_count - 1}]"
    parts, notes = asked(capture)
    assert images(parts) == []
    said = f"@last: {label} displayed a {library} chart that cannot be drawn here ("
    (note,) = notes
    assert note.startswith(said)
    sent = parts[-1]
    assert isinstance(sent, TextPart)
    if text is not None:
        assert note.endswith("): sent its text instead")
        assert sent.text == text
    else:
        assert note.endswith("): sent a line saying so instead")
        assert sent.text == f"[{label} displayed a {library} chart that cannot be drawn here]"


def test_a_displayed_image_still_wins(ip: InteractiveShell, capture: CellCapture) -> None:
    image = png(6, 5)
    ip.user_ns["BUNDLE"] = {"image/png": base64.b64encode(image).decode(), PLOTLY: {"data": []}}
    run(ip, "from IPython.display import display\ndisplay(BUNDLE, raw=True)")
    (sent,) = images(asked(capture)[0])
    assert sent.data == image
    # Matplotlib axes beside the image their figure was displayed as are not drawn again.
    ip.user_ns["PNG"] = image
    run(
        ip,
        "import matplotlib.figure\nfrom IPython.display import Image\n"
        "ax = matplotlib.figure.Figure().add_subplot()\nax.plot([1, 2])\n"
        "display(Image(data=PNG))\nax",
    )
    assert capture.cells[-1].shown[-1].obj is ip.user_ns["ax"]
    parts, _ = asked(capture)
    assert [p.data for p in images(parts)] == [image]
    assert isinstance(parts[-1], TextPart)
    assert parts[-1].text.startswith("<Axes:")


def test_a_plotnine_plot_is_the_png_it_displayed(
    ip: InteractiveShell, capture: CellCapture
) -> None:
    run(
        ip,
        "import plotnine as p9\n"
        "import pandas as pd\n"
        "frame = pd.DataFrame({'x': [1, 2, 3], 'y': [2, 1, 3]})\n"
        "p9.ggplot(frame, p9.aes('x', 'y')) + p9.geom_point()",
    )
    (shown,) = capture.cells[-1].shown
    assert shown.mime == "image/png"
    (image,) = images(asked(capture)[0])
    displayed = shown.data
    assert image.data == (base64.b64decode(displayed) if isinstance(displayed, str) else displayed)


def test_asking_twice_sends_identical_bytes(
    ip: InteractiveShell, sim: Simulator, plotly_in_kernel: None
) -> None:
    run(
        ip,
        "import plotly.express as px\n"
        "px.bar(x=['a', 'b', 'c'], y=[3, 1, 2], width=360, height=260).show()",
    )
    for _ in range(2):
        ip.run_cell_magic("kimi", "--no-thinking", "what is in @last?")
    sent = [
        [part["image_url"]["url"] for part in request["messages"][-1]["content"]
         if part.get("type") == "image_url"]
        for request in sim.requests[-2:]
    ]  # fmt: skip
    assert len(sent[0]) == 1
    assert sent[0] == sent[1]


def dry_run(ip: InteractiveShell, prompt: str) -> dict[str, str]:
    with capture_output() as out:
        ip.run_cell_magic("kimi", "--dry-run", prompt)
    (shown,) = out.outputs
    data: dict[str, str] = shown.data
    return data


def test_dry_run_shows_the_chart_thumbnail_and_the_note(
    ip: InteractiveShell, plotly_in_kernel: None
) -> None:
    run(
        ip,
        "import plotly.graph_objects as go\n"
        "go.Figure(go.Bar(y=[2, 3]), layout={'width': 300, 'height': 200}).show()",
    )
    bundle = dry_run(ip, "what is in @last?")
    assert "image/png 300×200" in bundle["text/plain"]
    assert "<img" in bundle["text/html"]
    assert "Not sent as asked" not in bundle["text/plain"]

    ip.user_ns["BUNDLE"] = {HOLOVIEWS_EXEC: "", "text/plain": ":Curve [x] (y)"}
    ip.user_ns["METADATA"] = {HOLOVIEWS_EXEC: {"id": "gone"}}
    run(ip, "from IPython.display import display\ndisplay(BUNDLE, metadata=METADATA, raw=True)")
    label = f"In[{ip.execution_count - 1}]"
    bundle = dry_run(ip, "what is in @last?")
    said = f"Not sent as asked: @last: {label} displayed a HoloViews chart that cannot be drawn"
    assert said in bundle["text/plain"]
    assert "cannot be drawn here" in bundle["text/html"]


def test_out_n_of_a_chart_is_its_image(ip: InteractiveShell, altair_renderer: Any) -> None:
    altair_renderer.enable("html")
    run(
        ip,
        "import altair as alt\n"
        "alt.Chart(alt.Data(values=[{'x': 1}, {'x': 2}])).mark_tick().encode(x='x:Q')"
        ".properties(width=150, height=40)",
    )
    number = ip.execution_count - 1
    bundle = dry_run(ip, f"what is in @Out[{number}]?")
    assert "image/png" in bundle["text/plain"]
    assert "Not sent as asked" not in bundle["text/plain"]


@pytest.fixture
def inline_png(ip: InteractiveShell) -> Iterator[None]:
    """Figures display as the inline backend shows them: a cropped PNG, not `@fig`'s bytes."""
    from matplotlib.figure import Figure
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    yield
    ip.display_formatter.formatters["image/png"].pop(Figure, None)


@pytest.mark.parametrize("shown_as", ["inline png", "object"])
@pytest.mark.parametrize(
    "prompt",
    ["Compare @fig and @last", "Compare @last and @fig", "Compare @ax with @last"],
)
def test_a_figure_mentioned_and_displayed_last_is_sent_once(
    ip: InteractiveShell, prompt: str, shown_as: str, request: pytest.FixtureRequest
) -> None:
    """`@fig` and `@last` for one figure send it once, whether the cell displayed it as the
    inline backend's PNG (other bytes than `@fig` draws) or as the object."""
    if shown_as == "inline png":
        request.getfixturevalue("inline_png")
    run(
        ip,
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "from IPython.display import display\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 3, 2])\n"
        "display(fig)\nplt.close(fig)",
    )
    bundle = dry_run(ip, prompt)
    assert bundle["text/plain"].count("image/png") == 1, bundle["text/plain"]
    second = prompt.split()[-1]
    first = "@ax" if "@ax" in prompt else ("@fig" if second == "@last" else "@last")
    assert f"{second}: the same figure as {first}" in bundle["text/plain"]


def test_another_figure_displayed_last_is_still_sent(ip: InteractiveShell) -> None:
    run(
        ip,
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "from IPython.display import display\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 3, 2])\n"
        "other, _ = plt.subplots(figsize=(2, 2))\n_.plot([2, 1])\n"
        "display(other)\nplt.close('all')",
    )
    bundle = dry_run(ip, "Compare @fig and @last")
    assert bundle["text/plain"].count("image/png") == 2, bundle["text/plain"]
