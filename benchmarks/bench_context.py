"""Time to turn kernel objects into content parts, and what importing the package loads.

Measured in one process, median of N runs after one warm-up:
- a 10,000,000 × 10 pandas DataFrame → one JSON text part (target <= 0.5 s);
- a typical matplotlib figure (three lines, labels, legend; 6.4×4.8 in at 100 dpi) → PNG
  (target <= 0.3 s);
- each chart library's chart (three lines, 640×480) → PNG, side by side with the
  matplotlib figure of the same size: the first conversion (which starts kaleido's Chromium,
  selenium's chromedriver or vl-convert's engine) and the median after it, as a ratio to
  matplotlib's median (no target: printed for comparison);
- `import kimi_jupyter.context` in a fresh interpreter loads none of pandas, polars,
  matplotlib, PIL, numpy or the chart libraries.

    python benchmarks/bench_context.py [--runs 5] [--no-charts]

Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

HEAVY = ("pandas", "polars", "matplotlib", "PIL", "numpy")
CHART_LIBRARIES = ("plotly", "kaleido", "altair", "vl_convert", "bokeh", "selenium",
                   "holoviews", "hvplot", "plotnine", "seaborn")  # fmt: skip
WIDTH, HEIGHT = 640, 480  # every chart below, and the matplotlib figure they are compared with


def median_seconds(func: Callable[[], Any], runs: int) -> float:
    func()  # warm-up: first-call imports are not what is measured
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dataframe_case(runs: int) -> tuple[float, str]:
    import numpy as np
    import pandas as pd

    from kimi_jupyter.context import convert, describe

    df = pd.DataFrame({f"c{i}": np.arange(10_000_000) for i in range(10)}, copy=False)
    seconds = median_seconds(lambda: convert(df, "df"), runs)
    return seconds, describe(convert(df, "df")[0])


def figure_case(runs: int) -> tuple[float, str]:
    import numpy as np
    from matplotlib.figure import Figure

    from kimi_jupyter.context import convert, describe

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = fig.add_subplot()
    x = np.linspace(0, 10, 500)
    for k in range(3):
        ax.plot(x, np.sin(x + k), label=f"phase {k}")
    ax.set(xlabel="time (s)", ylabel="amplitude", title="Three sines")
    ax.legend()
    seconds = median_seconds(lambda: convert(fig, "fig"), runs)
    return seconds, describe(convert(fig, "fig")[-1])


def _lines() -> Any:
    import numpy as np
    import pandas as pd

    x = np.linspace(0, 10, 200)
    return pd.DataFrame(
        {"x": np.tile(x, 3), "y": np.concatenate([np.sin(x + k) for k in range(3)]),
         "phase": np.repeat(["0", "1", "2"], x.size)}
    )  # fmt: skip


def matplotlib_chart() -> Any:
    from matplotlib.figure import Figure

    data = _lines()
    fig = Figure(figsize=(WIDTH / 100, HEIGHT / 100), dpi=100)
    ax = fig.add_subplot()
    for phase, rows in data.groupby("phase"):
        ax.plot(rows["x"], rows["y"], label=phase)
    ax.legend()
    return fig


def plotly_chart() -> Any:
    import plotly.express as px

    return px.line(_lines(), x="x", y="y", color="phase", width=WIDTH, height=HEIGHT)


def altair_chart() -> Any:
    import altair as alt

    chart = alt.Chart(_lines()).mark_line().encode(x="x", y="y", color="phase")
    return chart.properties(width=WIDTH - 100, height=HEIGHT - 60)  # the axes add the rest


def plotnine_chart() -> Any:
    from plotnine import aes, geom_line, ggplot, theme

    size = theme(figure_size=(WIDTH / 100, HEIGHT / 100), dpi=100)
    return ggplot(_lines(), aes("x", "y", color="phase")) + geom_line() + size


def seaborn_objects_chart() -> Any:
    import seaborn.objects as so

    plot = so.Plot(_lines(), x="x", y="y", color="phase").add(so.Line())
    return plot.layout(size=(WIDTH / 100, HEIGHT / 100))


def bokeh_chart() -> Any:
    from bokeh.plotting import figure

    data = _lines()
    fig = figure(width=WIDTH, height=HEIGHT)
    for phase, rows in data.groupby("phase"):
        fig.line(rows["x"], rows["y"], legend_label=phase)
    return fig


def holoviews_chart() -> Any:
    import holoviews as hv

    hv.extension("matplotlib")
    curves = [hv.Curve(rows, "x", "y", label=phase) for phase, rows in _lines().groupby("phase")]
    return hv.Overlay(curves).opts(fig_inches=(WIDTH / 100, HEIGHT / 100), fig_size=100)


CHARTS: tuple[tuple[str, Callable[[], Any]], ...] = (
    ("matplotlib Figure", matplotlib_chart),
    ("Plotly (kaleido, Chromium)", plotly_chart),
    ("Altair (vl-convert)", altair_chart),
    ("plotnine (matplotlib)", plotnine_chart),
    ("seaborn objects (matplotlib)", seaborn_objects_chart),
    ("Bokeh (selenium, Chromium)", bokeh_chart),
    ("HoloViews (matplotlib backend)", holoviews_chart),
)


def chart_cases(runs: int) -> None:
    """Each library's chart → PNG: first conversion, then the median, against matplotlib."""
    from kimi_jupyter.context import convert, describe

    print(f"charts of {WIDTH}×{HEIGHT} → PNG, median of {runs} after the first:")
    print(f"{'chart':32s} {'first ms':>9s} {'median ms':>10s} {'× matplotlib':>13s}  sent")
    baseline = None
    for label, make in CHARTS:
        chart = make()
        start = time.perf_counter()
        parts = convert(chart, "chart")
        first = time.perf_counter() - start
        seconds = median_seconds(lambda chart=chart: convert(chart, "chart"), runs)
        baseline = baseline or seconds
        sent = describe(parts[-1])
        print(f"{label:32s} {first * 1000:9.1f} {seconds * 1000:10.1f} "
              f"{seconds / baseline:13.2f}  {sent}")  # fmt: skip


def heavy_modules_after_import() -> list[str]:
    code = "import json, sys, kimi_jupyter.context; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(out.stdout)}
    return sorted(loaded & {*HEAVY, *CHART_LIBRARIES})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-charts", action="store_true", help="skip the chart libraries")
    args = parser.parse_args()
    ok = True
    for label, case, target in (
        ("DataFrame 10,000,000 × 10 → JSON", dataframe_case, 0.5),
        ("figure 6.4×4.8 in @ 100 dpi → PNG", figure_case, 0.3),
    ):
        seconds, what = case(args.runs)
        ok &= seconds <= target
        verdict = "ok" if seconds <= target else "MISSED"
        goal = f"(target {target * 1000:.0f} ms, {verdict})"
        print(f"{label:36s} {seconds * 1000:8.1f} ms  {goal}  {what}")
    if not args.no_charts:
        chart_cases(args.runs)
    heavy = heavy_modules_after_import()
    ok &= not heavy
    loads = ", ".join(heavy) or "none of " + ", ".join((*HEAVY, *CHART_LIBRARIES))
    print(f"{'import kimi_jupyter.context loads':36s} {loads}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
