"""`%load_ext` time: kimi_jupyter vs jupyter_ai_magics, each in fresh processes, in one run.

Also checks that loading kimi_jupyter imports none of pandas, polars, matplotlib, PIL, NumPy.

    python benchmarks/bench_load_ext.py [--runs 5]

Target: kimi_jupyter takes at most a tenth of jupyter_ai_magics (about a second).
jupyter-ai-magics is not a dependency: `pip install jupyter-ai-magics` to compare.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys

HEAVY = ("pandas", "polars", "matplotlib", "PIL", "numpy")
CODE = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", {name!r})
seconds = time.perf_counter() - start
print(json.dumps([seconds, sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})]))
"""


def load_time(name: str) -> tuple[float, list[str]]:
    code = CODE.format(name=name, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return float(seconds), list(heavy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    names = ["kimi_jupyter"]
    if importlib.util.find_spec("jupyter_ai_magics") is not None:
        names.append("jupyter_ai_magics")
    samples: dict[str, list[float]] = {name: [] for name in names}
    heavy: list[str] = []
    for _ in range(args.runs):  # interleaved, so both see the same machine
        for name in names:
            seconds, loaded = load_time(name)
            samples[name].append(seconds)
            heavy = loaded if name == "kimi_jupyter" else heavy
            print(f"  {name:18s} {seconds * 1000:8.1f} ms")
    ours = statistics.median(samples["kimi_jupyter"])
    print(f"kimi_jupyter: {ours * 1000:.1f} ms median; heavy imports: {heavy or 'none'}")
    if "jupyter_ai_magics" in samples:
        theirs = statistics.median(samples["jupyter_ai_magics"])
        print(f"jupyter_ai_magics: {theirs * 1000:.1f} ms median")
        print(f"ratio kimi_jupyter / jupyter_ai_magics = {ours / theirs:.3f} (target <= 0.1)")
    else:
        print("jupyter_ai_magics is not installed: `pip install jupyter-ai-magics` to compare")


if __name__ == "__main__":
    main()
