"""Wall time of `Chat.map` over N rows: concurrency 1 vs concurrency C, same run, same server.

The simulator runs in another process (so it has its own GIL) with `latency_ms` before
each answer; it counts the requests it received per row, so the run checks that no row
was lost or sent twice, and each written answer must quote its own row.

    python benchmarks/bench_map.py [--rows 1000] [--latency-ms 50] [--concurrency 16]
                                   [--chunks N]

Target: ratio (time at 1 / time at C) >= 12 for C = 16.

Each worker keeps one connection (the client reads to the end of every answer), and the
simulator listens with a backlog of 128, so a burst of connects is not dropped.
`--chunks N` asks the simulator for N-event answers (default: its usual ~80 SSE events),
to show how much of the time is the client's SSE parsing rather than waiting.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

KEY = "sk-bench-map"
_ROW = re.compile(r"bench row (\d+)\b")


def serve(conn: Connection, latency_ms: float) -> None:
    """The child process: a simulator that reports per-row request counts when asked."""
    from kimi_jupyter.simulator import Simulator

    with Simulator(api_key=KEY, latency_ms=latency_ms) as sim:
        conn.send(sim.base_url)
        while conn.recv() == "counts":
            rows = Counter(int(m[1]) for m in map(_row_of, sim.requests) if m)
            sim.requests.clear()
            conn.send(dict(rows))


def _row_of(body: dict[str, Any]) -> re.Match[str] | None:
    content = body["messages"][-1]["content"]
    return _ROW.search(content if isinstance(content, str) else str(content))


def run(base_url: str, rows: int, concurrency: int, template: str) -> tuple[float, Any, Any]:
    import pandas as pd

    from kimi_jupyter import Chat
    from kimi_jupyter.conversation import Sessions

    chat = Chat("bench", sessions=Sessions(), api_key=KEY, base_url=base_url)
    df = pd.DataFrame({"id": range(rows)}, index=[f"r{i}" for i in range(rows)])
    start = time.perf_counter()
    report = chat.map(template, df, concurrency=concurrency, view="none")
    return time.perf_counter() - start, report, df


def check(df: Any, report: Any, counts: dict[int, int], rows: int) -> None:
    if report.done != rows or report.failed or report.not_started:
        raise SystemExit(f"not every row is done: {report}")
    sent_twice = {row: n for row, n in counts.items() if n != 1}
    missing = set(range(rows)) - set(counts)
    if sent_twice or missing:
        raise SystemExit(f"requests per row: missing {sorted(missing)[:10]}, "
                         f"not once {dict(list(sent_twice.items())[:10])}")  # fmt: skip
    for row_id, answer in zip(df["id"], df["answer"], strict=True):
        quoted = _ROW.search(answer)
        if quoted is None or int(quoted[1]) != row_id:
            raise SystemExit(f"row {row_id} got another row's answer: {answer[:200]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chunks", type=int, default=None)
    args = parser.parse_args()
    template = "bench row {id}"
    if args.chunks:
        template += f" [[sim: chunks={args.chunks} reasoning_chunks={args.chunks}]]"
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=serve, args=(theirs, args.latency_ms), daemon=True)
    child.start()
    base_url = ours.recv()
    answers = f"{args.chunks}-chunk answers" if args.chunks else "default answers"
    print(f"{args.rows:,} rows, {args.latency_ms:g} ms latency per request, simulator in "
          f"another process, {answers}")  # fmt: skip
    times: dict[int, float] = {}
    try:
        for concurrency in (1, args.concurrency):
            seconds, report, df = run(base_url, args.rows, concurrency, template)
            ours.send("counts")
            check(df, report, ours.recv(), args.rows)
            times[concurrency] = seconds
            print(f"  concurrency {concurrency:2d}: {seconds:7.2f} s  "
                  f"({args.rows / seconds:6.1f} rows/s)  {report.summary()}")  # fmt: skip
    finally:
        ours.send("stop")
        child.join(timeout=10)
    ratio = times[1] / times[args.concurrency]
    ideal = args.rows * args.latency_ms / 1000 / args.concurrency
    print(f"no row lost or sent twice; ideal time at {args.concurrency}: {ideal:.2f} s")
    print(f"ratio = {ratio:.1f}× (target >= 12×)")


if __name__ == "__main__":
    main()
