"""plotnine ggplots and seaborn objects plots → PNG parts through matplotlib (real renders)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from kimi_jupyter.context import ContextError, Limits, convert

from helpers import pixels, png_part

pd = pytest.importorskip("pandas")
p9 = pytest.importorskip("plotnine")
so = pytest.importorskip("seaborn.objects")

CHART_LIBRARIES = ("plotnine", "seaborn", "bokeh", "holoviews", "hvplot", "panel", "selenium")


@pytest.fixture(autouse=True)
def _no_figures_left() -> Iterator[None]:
    """Every test leaves pyplot as it found it: nothing made here waits to be shown."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def data() -> object:
    return pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": [2, 1, 4, 3, 5], "g": list("aabbb")})


def ggplot(width: float = 4, height: float = 3, dpi: int = 100) -> object:
    return (
        p9.ggplot(data(), p9.aes("x", "y", color="g"))
        + p9.geom_line()
        + p9.theme(figure_size=(width, height), dpi=dpi)
    )


def test_ggplot_is_a_png_at_its_theme_size_and_dpi() -> None:
    image = png_part(convert(ggplot(), "gg"), "@gg: plotnine ggplot")
    assert pixels(image) == (400, 300)
    assert pixels(convert(ggplot(dpi=50), "gg")[1]) == (200, 150)  # type: ignore[arg-type]


def test_same_ggplot_gives_identical_bytes_without_metadata() -> None:
    gg = ggplot()
    first, second = convert(gg, "gg"), convert(gg, "gg")
    assert first == second
    assert b"Software" not in png_part(first, "@gg: plotnine ggplot").data


def test_mentioned_ggplot_still_displays_as_before() -> None:
    gg = ggplot()
    shown = gg._repr_mimebundle_()  # type: ignore[attr-defined]
    convert(gg, "gg")
    convert(gg, "gg")
    assert "figure" not in vars(gg)  # never drawn itself (plotnine 0.15 breaks it after)
    assert gg._repr_mimebundle_() == shown  # type: ignore[attr-defined]


def test_already_drawn_ggplot_sends_the_figure_it_drew() -> None:
    gg = ggplot()
    figure = gg.draw()  # type: ignore[attr-defined]
    image = png_part(convert(gg, "gg"), "@gg: plotnine ggplot")
    assert image == convert(figure, "fig")[1]


def test_compositions_fit_the_last_plots_size_and_stay_unchanged() -> None:
    beside = ggplot(3, 3) | ggplot(6, 3)  # type: ignore[operator]
    before = dict(vars(beside))
    image = png_part(convert(beside, "both"), "@both: plotnine composition (Beside)")
    assert pixels(image) == (600, 300)
    assert vars(beside) == before  # nothing of the copy it drew is kept on it
    stack = ggplot() / ggplot()  # type: ignore[operator]
    image = png_part(convert(stack, "s"), "@s: plotnine composition (Stack)")
    assert pixels(image) == (400, 300)
    assert convert(stack, "s") == convert(stack, "s")


def test_ggplot_is_drawn_smaller_to_fit_the_limits() -> None:
    parts = convert(ggplot(), "gg", limits=Limits(max_image=(200, 200)))
    assert pixels(png_part(parts, "@gg: plotnine ggplot")) == (200, 150)


def test_ggplot_that_cannot_be_drawn_is_one_line() -> None:
    broken = p9.ggplot(data(), p9.aes("x", "nope")) + p9.geom_point()
    with pytest.raises(ContextError) as raised:
        convert(broken, "bad")
    message = str(raised.value)
    assert message.startswith("@bad: plotnine could not draw it (PlotnineError: ")
    assert "\n" not in message


def test_interactive_mode_and_pyplot_are_left_as_they_were() -> None:
    was = matplotlib.is_interactive()
    try:
        for interactive in (True, False):
            plt.ion() if interactive else plt.ioff()
            convert(ggplot() | ggplot(), "both")  # type: ignore[operator]
            convert(so.Plot(data(), x="x", y="y").add(so.Line()), "p")
            assert matplotlib.is_interactive() is interactive
            assert plt.get_fignums() == []
    finally:
        plt.ion() if was else plt.ioff()


def test_seaborn_objects_plot_is_a_png_at_its_layout_size() -> None:
    plot = so.Plot(data(), x="x", y="y", color="g").add(so.Line()).layout(size=(4, 3))
    image = png_part(convert(plot, "p"), "@p: seaborn.objects Plot")
    assert pixels(image) == (400, 300)
    assert convert(plot, "p") == convert(plot, "p")
    small = convert(plot, "p", limits=Limits(max_image=(100, 100)))
    assert pixels(png_part(small, "@p: seaborn.objects Plot")) == (100, 75)


def test_drawn_seaborn_objects_plots_send_what_was_drawn() -> None:
    plot = so.Plot(data(), x="x", y="y").add(so.Dot()).layout(size=(4, 3))
    plotter = plot.plot()
    image = png_part(convert(plotter, "p"), "@p: seaborn.objects Plotter")
    assert image == convert(plot, "p")[1]
    target = Figure(figsize=(5, 2), dpi=100)
    on_figure = so.Plot(data(), x="x", y="y").add(so.Dot()).on(target)
    on_figure.plot()
    axes = len(target.axes)
    image = png_part(convert(on_figure, "p"), "@p: seaborn.objects Plot")
    assert pixels(image) == (500, 200)
    assert len(target.axes) == axes  # not drawn into the user's figure again


def test_seaborn_objects_plot_that_cannot_be_drawn_is_one_line() -> None:
    plot = so.Plot(data(), x="x", y="y", color="g").add(so.Dot())
    with pytest.raises(ContextError) as raised:
        convert(plot.scale(color="no-such-palette"), "bad")
    message = str(raised.value)
    assert message.startswith("@bad: seaborn could not draw it (PlotSpecError: ")
    assert "no-such-palette" in message  # the cause, not "see the traceback above"
    assert "traceback" not in message
    assert "\n" not in message


def test_importing_the_context_package_imports_no_chart_library() -> None:
    code = (
        "import json, sys, kimi_jupyter.context\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        f"print(json.dumps(sorted(loaded & {set(CHART_LIBRARIES)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
