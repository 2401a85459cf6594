"""Kernel CPU and peak memory of the live view and the final render, per 1 MB answer shape.

Each shape (one long code fence, 1 MB of `<`, deep nesting, a 10,000-row table, thousands
of backticks, one 1 MB line, …) is streamed through `LiveView.add(ContentDelta(...))` in
20-byte tokens with a fake clock at 100 tokens a second (so repaints come as in a real
stream), with widget messages serialized as a kernel would; then rendered once as the saved
output (`static_bundle`). Printed side by side: CPU seconds (`time.process_time`) and peak
traced memory (`tracemalloc`, a second pass) of each, and their ratio to 1 MB of prose.

    python benchmarks/bench_adversarial.py [--size 1000000] [--token 20] [--shapes fence,lt]

Target: every ratio <= 3, and the final render of 1 MB about a second.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import comm
from comm.base_comm import BaseComm

from kimi_jupyter.events import ContentDelta, Done, Usage
from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.turn import Turn

PARAGRAPH = (
    "The data has **three** groups, and the `mean` of each one is close to the others. "
    "A plot of the residuals shows no trend, so the linear model is a fair fit here. "
    "See [the docs](https://example.org/docs) for the options of `fit`, and note that "
    "outliers above the 99th percentile were dropped before fitting. Then the model "
    "was refit on the rest, which changed the slope by less than one percent.\n\n"
)


def _fit(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def shapes(size: int) -> dict[str, str]:
    """1 MB (or `size`) answers of each shape, prose first."""
    rows = max(1, size // 100)
    row = "| {i:>6} | alpha | beta | 3.14159 | gamma delta | 2024-01-01 | ok | **x** |\n"
    table = "| n | a | b | c | d | date | s | m |\n|--:|---|---|--:|---|---|---|---|\n"
    return {
        "prose": _fit(PARAGRAPH, size),
        "code fence": "```python\n" + _fit("result = compute(frame, column='x')  # step\n", size),
        "1 MB of <": "<" * size,
        "deep > > > nesting": _fit("> " * 60 + "a quoted line\n", size),
        "nested lists": _fit("".join("  " * d + "- item\n" for d in range(40)), size),
        "10,000-row table": (table + "".join(row.format(i=i) for i in range(rows)))[:size],
        "backticks": _fit("` x `` y ``` z ```` ", size),
        "one 1 MB line": _fit("abcdefgh,", size),
    }


EXTRA = {"1 MB of [": "[", "1 MB of **a": "**a ", "1 MB of ![a": "![a"}  # with --shapes


class CountingComm(BaseComm):
    """Serializes every widget message as the kernel would, and counts the bytes."""

    sent = 0

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        CountingComm.sent += len(json.dumps(data, ensure_ascii=False, default=str).encode())


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def live(text: str, token: int) -> None:
    from kimi_jupyter.render.widget import LiveView

    view = LiveView(clock=Clock(0.01))
    for i in range(0, len(text), token):
        view.add(ContentDelta(text[i : i + token]))
    view.add(Done("stop"))
    view.finish("done")
    view.close()


def final(text: str) -> None:
    turn = Turn(answer=text, status="done", finish_reason="stop", usage=Usage(1, 1, 2))
    static_bundle(turn, "bench")


def measure(run: Callable[[], None]) -> tuple[float, float]:
    """CPU seconds (untraced), then peak MB under tracemalloc (a second run)."""
    gc.collect()
    start = time.process_time()
    run()
    seconds = time.process_time() - start
    gc.collect()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--token", type=int, default=20)
    parser.add_argument("--shapes", help="comma-separated names (default: all)")
    args = parser.parse_args()
    comm.create_comm = CountingComm  # type: ignore[assignment]
    texts = shapes(args.size) | {k: _fit(v, args.size) for k, v in EXTRA.items()}
    default = [name for name in texts if name not in EXTRA]
    wanted = ["prose", *(args.shapes.split(",") if args.shapes else default)]
    rows, base = [], None
    for name in dict.fromkeys(w for w in wanted if w in texts):
        text = texts[name]
        CountingComm.sent = 0
        live_cpu, live_mb = measure(lambda t=text: live(t, args.token))  # type: ignore[misc]
        sent = CountingComm.sent / 2 / len(text.encode())  # two runs
        final_cpu, final_mb = measure(lambda t=text: final(t))  # type: ignore[misc]
        row = (name, live_cpu, live_mb, final_cpu, final_mb, sent)
        base = base or row
        rows.append(row)
        print(f"  {name}: live {live_cpu:.2f} s, final {final_cpu:.2f} s", flush=True)
    _print_table(rows, base, args.size)


COLUMNS = ("live CPU s", "×", "live MB", "×", "final CPU s", "×", "final MB", "×", "wire/text")


def _print_table(rows: list[tuple[str, float, float, float, float, float]],
                 base: Any, size: int) -> None:  # fmt: skip
    print(f"\n{size:,}-character answers, live view (20-byte tokens, 100 tokens/s fake clock) "
          "and final render (static_bundle); × = ratio to prose")  # fmt: skip
    print(f"{'shape':20s}" + "".join(f"{h:>12s}" if len(h) > 2 else f"{h:>6s}" for h in COLUMNS))
    worst = 0.0
    for name, lc, lm, fc, fm, sent in rows:
        ratios = (lc / base[1], lm / base[2], fc / base[3], fm / base[4])
        worst = max(worst, *ratios)
        print(f"{name:20s}{lc:>12.2f}{ratios[0]:>6.1f}{lm:>12.1f}{ratios[1]:>6.1f}"
              f"{fc:>12.2f}{ratios[2]:>6.1f}{fm:>12.1f}{ratios[3]:>6.1f}{sent:>12.2f}")  # fmt: skip
    verdict = "ok" if worst <= 3 else "OVER"
    print(f"worst ratio to prose: {worst:.1f} (target <= 3: {verdict}); wire/text = bytes of "
          "widget messages per character of the answer")  # fmt: skip


if __name__ == "__main__":
    main()
