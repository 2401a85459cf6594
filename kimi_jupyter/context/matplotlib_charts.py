"""plotnine ggplots and seaborn objects plots as PNG parts, drawn through matplotlib.

Each is drawn at the size the user sees, the figure size and dpi its own theme or layout
gives (not the doubled "retina" size notebooks display), then fitted into `Limits` by
`figures.render_png`, so an unchanged plot gives the same bytes every time. The user's
object is never drawn itself: plotnine 0.15 draws a ggplot wrongly ever after once
`draw()` has been called on it, and a seaborn `Plot` made with `.on(figure)` would add
axes to that figure on every draw. Figures made here are closed, so no backend shows them
later, and matplotlib's interactive mode is left as it was.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kimi_jupyter.conversation import MediaPart, Part
from kimi_jupyter.errors import ContextError

from . import figures
from ._common import Limits, labelled, one_line, who

_MISSING = object()


def plotnine_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for plotnine `ggplot` and its compositions (`p1 | p2`, `p1 / p2`)."""
    kind = type(obj).__name__
    what = "plotnine ggplot" if kind == "ggplot" else f"plotnine composition ({kind})"
    drawn = vars(obj).get("figure")
    if drawn is not None:  # the user called draw(): that figure is what they see
        return labelled(name, what, render(drawn, "plotnine", who(name, obj), limits))
    plot = _copy_of(obj)
    try:
        with interactive_kept():
            figure = _drawn("plotnine", lambda: plot.draw(show=False), who(name, obj))
            return labelled(name, what, render(figure, "plotnine", who(name, obj), limits))
    finally:
        close(vars(plot).get("figure"))


def seaborn_objects_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for seaborn objects `Plot` (and the `Plotter` that `Plot.plot()` returns)."""
    what = f"seaborn.objects {type(obj).__name__}"
    target = getattr(obj, "_target", None)
    if type(obj).__name__ == "Plotter" or target is not None:
        # Already drawn (a Plotter), or drawn into the user's own figure by `.on(target)`:
        # that figure is what they see, and drawing again would add axes to it.
        shown = obj._figure if target is None else target
        parts = figures.figure_parts(shown, name, limits)
        return labelled(name, what, _media(parts))
    with interactive_kept():
        figure = _drawn("seaborn", lambda: obj.plot()._figure, who(name, obj))
        try:
            return labelled(name, what, render(figure, "seaborn", who(name, obj), limits))
        finally:
            close(figure)


def render(figure: Any, library: str, who: str, limits: Limits) -> MediaPart:
    """`figures.render_png`, with anything else the library raises while drawing (a
    layout engine runs at save time) as one line naming it."""
    try:
        return figures.render_png(figure, who, limits)
    except ContextError:
        raise
    except Exception as exc:
        raise ContextError(f"{who}: {library} could not draw it ({_problem(exc)})") from exc


@contextmanager
def interactive_kept() -> Iterator[None]:
    """Leave matplotlib's interactive mode as it was (HoloViews' plotting calls plt.ioff())."""
    import matplotlib

    was = matplotlib.is_interactive()
    try:
        yield
    finally:
        if matplotlib.is_interactive() != was:
            import matplotlib.pyplot as plt

            # pyplot's own switch, so its REPL display hook comes back with the mode
            plt.ion() if was else plt.ioff()


def close(figure: Any) -> None:
    """Take a figure made here out of pyplot (if it is there), so no backend shows it."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if figure is not None and pyplot is not None:
        pyplot.close(figure)


def _drawn(library: str, draw: Callable[[], Any], who: str) -> Any:
    try:
        return draw()
    except Exception as exc:
        raise ContextError(f"{who}: {library} could not draw it ({_problem(exc)})") from exc


def _problem(exc: BaseException) -> str:
    """The error, and its cause when it has one: seaborn's PlotSpecError names only the
    step that failed and points at a traceback the user is not shown."""
    said = one_line(exc).replace(" See the traceback above for more information.", "")
    cause = exc.__cause__
    return said if cause is None else f"{said} {one_line(cause)}"


def _copy_of(plot: Any) -> Any:
    """A copy to draw (plotnine shares the data rather than copying it). A composition's
    `__deepcopy__` leaves the copy on the original, unused: put back what was there, so the
    mention keeps nothing alive and changes nothing."""
    before = vars(plot).get("__copy", _MISSING)
    fresh = copy.deepcopy(plot)
    if before is _MISSING:
        vars(plot).pop("__copy", None)
    else:
        vars(plot)["__copy"] = before
    return fresh


def _media(parts: Sequence[Part]) -> MediaPart:
    media = parts[-1]
    assert isinstance(media, MediaPart)  # figure_parts ends with the image
    return media
