"""Time to turn kernel objects into content parts, and what importing the package loads.

Measured in one process, median of N runs after one warm-up:
- a 10,000,000 × 10 pandas DataFrame → one JSON text part (target <= 0.5 s);
- a typical matplotlib figure (three lines, labels, legend; 6.4×4.8 in at 100 dpi) → PNG
  (target <= 0.3 s);
- `import kimi_jupyter.context` in a fresh interpreter loads none of pandas, polars,
  matplotlib, PIL or numpy.

    python benchmarks/bench_context.py [--runs 5]

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


def heavy_modules_after_import() -> list[str]:
    code = "import json, sys, kimi_jupyter.context; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(out.stdout)}
    return sorted(loaded & set(HEAVY))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
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
    heavy = heavy_modules_after_import()
    ok &= not heavy
    loads = ", ".join(heavy) or "none of " + ", ".join(HEAVY)
    print(f"{'import kimi_jupyter.context loads':36s} {loads}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
