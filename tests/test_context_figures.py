"""Matplotlib figures, axes, subfigures and seaborn grids → PNG parts (real Agg renders)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from kimi_jupyter.context import ContextError, Limits, convert, describe, sha256
from kimi_jupyter.conversation import MediaPart, TextPart


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def line_figure(width: float = 6.4, height: float = 4.8, dpi: float = 100) -> Figure:
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_subplot()
    x = np.linspace(0, 10, 100)
    ax.plot(x, np.sin(x), label="sin")
    ax.plot(x, np.cos(x), label="cos")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return fig


def media(parts: list[TextPart | MediaPart]) -> MediaPart:
    assert len(parts) == 2
    label, image = parts
    assert isinstance(label, TextPart)
    assert isinstance(image, MediaPart)
    return image


def test_figure_is_png_labelled_with_its_name() -> None:
    parts = convert(line_figure(), "fig")
    assert parts[0] == TextPart("@fig: matplotlib Figure")
    image = media(parts)
    assert image.mime == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert describe(image).startswith("image/png 640×480, ")


def test_same_figure_twice_gives_identical_bytes() -> None:
    fig = line_figure()
    first, second = media(convert(fig, "fig")), media(convert(fig, "fig"))
    assert first.data == second.data
    assert sha256(first) == sha256(second)
    assert b"Software" not in first.data
    assert b"matplotlib" not in first.data.lower()


def test_changed_figure_gives_other_bytes() -> None:
    fig = line_figure()
    before = media(convert(fig, "fig"))
    fig.axes[0].set_title("changed")
    assert media(convert(fig, "fig")).data != before.data


def test_big_figure_is_rendered_to_fit_the_box() -> None:
    parts = convert(line_figure(60, 30, dpi=100), "big")
    assert describe(media(parts)).startswith("image/png 4096×2048, ")


def test_figure_fits_a_smaller_configured_box() -> None:
    parts = convert(line_figure(), "fig", limits=Limits(max_image=(320, 320)))
    assert describe(media(parts)).startswith("image/png 320×240, ")


def test_axes_sends_its_figure() -> None:
    fig = line_figure()
    parts = convert(fig.axes[0], "ax")
    assert parts[0] == TextPart("@ax: matplotlib Axes")
    assert media(parts).data == media(convert(fig, "fig")).data


def test_subfigure_and_its_axes_are_cropped_to_the_subfigure() -> None:
    fig = Figure(figsize=(8, 4), dpi=50)
    grid = fig.subfigures(1, 2, squeeze=False)
    left, right = grid[0, 0], grid[0, 1]
    left.add_subplot().plot([1, 2, 3])
    right.add_subplot().bar(["a", "b"], [3, 1])
    assert describe(media(convert(left, "left"))).startswith("image/png 200×200, ")
    right_axes = media(convert(right.axes[0], "ax"))
    assert right_axes.data == media(convert(right, "right")).data


def test_seaborn_grids_are_accepted() -> None:
    sns = pytest.importorskip("seaborn")
    pd = pytest.importorskip("pandas")
    data = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6], "y": [2, 1, 3, 5, 4, 6], "c": list("ababab")})
    facet = sns.FacetGrid(data, col="c")
    facet.map(plt.scatter, "x", "y")
    for grid in (facet, sns.pairplot(data), sns.jointplot(data=data, x="x", y="y")):
        parts = convert(grid, "g")
        assert parts[0] == TextPart(f"@g: matplotlib {type(grid).__name__}")
        assert media(parts).mime == "image/png"


def test_empty_figure_is_an_error() -> None:
    message = (
        "@fig: the figure is empty (nothing is drawn on it); plot into it first, "
        "or mention @last to send what the previous cell displayed"
    )
    with pytest.raises(ContextError) as no_axes:
        convert(Figure(), "fig")
    assert str(no_axes.value) == message
    blank = Figure()
    blank.add_subplot().set_title("only a title")
    with pytest.raises(ContextError) as nothing_drawn:
        convert(blank, "fig")
    assert str(nothing_drawn.value) == message


def test_text_only_figure_is_not_empty() -> None:
    fig = Figure()
    fig.add_subplot().text(0.5, 0.5, "hello")
    assert media(convert(fig, "fig")).mime == "image/png"


def test_no_name_gives_only_the_image() -> None:
    parts = convert(line_figure())
    assert len(parts) == 1
    assert isinstance(parts[0], MediaPart)
