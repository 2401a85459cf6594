"""Kernel→frontend traffic of the live view vs. the naive `HTML.value += token`.

A real kernel (jupyter_client) runs `%%kimi` against the simulator (in this process, on
127.0.0.1); every iopub message of that execution is counted (its JSON header, parent
header, metadata and content, plus buffers). Printed: bytes sent / bytes of the final text
(answer + thinking), and the largest number of widget updates in any one second.

    python benchmarks/bench_live_view.py [--tokens 20000] [--naive-tokens 1000]

Target: ours <= 3 at 20,000 reasoning + 20,000 answer tokens; at most 20 updates a second.
The naive view resends everything on each token (quadratic), so it is run at a smaller size
in the same run, next to ours at that size.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jupyter_client.manager import start_new_kernel

from kimi_jupyter.simulator import Simulator

KEY = "sk-bench-live-view"
OURS = "%%kimi --new -s bench\nbench [[sim: chunks={n} reasoning_chunks={n}]]"
NAIVE = """
import ipywidgets as w
from IPython.display import display
from kimi_jupyter import Chat
from kimi_jupyter.events import ContentDelta, ReasoningDelta
view = w.HTML()
display(view)
for event in Chat("naive").stream("bench [[sim: chunks={n} reasoning_chunks={n}]]"):
    if isinstance(event, (ContentDelta, ReasoningDelta)):
        view.value += event.text
"""
FINAL = """
import json
from kimi_jupyter.kernel import KernelContext
_t = KernelContext.current().sessions.get({session!r}).turns[-1]
print(json.dumps([len(_t.answer.encode()), len(_t.reasoning.encode())]))
"""


def message_bytes(msg: dict[str, Any]) -> int:
    """Bytes on the wire as jupyter_client packs them (compact UTF-8 JSON) plus buffers."""
    parts = (msg["header"], msg["parent_header"], msg["metadata"], msg["content"])
    packed = (json.dumps(p, default=str, ensure_ascii=False, separators=(",", ":")) for p in parts)
    return sum(len(p.encode()) for p in packed) + sum(len(b) for b in msg.get("buffers") or ())


@dataclass
class Traffic:
    """What one execution sent: live-view bytes, the final saved output, repaint bursts."""

    live: int = 0
    final: int = 0
    bursts: list[datetime] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)

    def add(self, msg: dict[str, Any]) -> None:
        kind = msg["msg_type"]
        if kind == "update_display_data":
            self.final += message_bytes(msg)  # the static bundle that replaces the view
        elif kind in ("comm_open", "comm_msg", "comm_close", "display_data"):
            self.live += message_bytes(msg)
        if kind == "comm_msg":
            when = msg["header"]["date"]
            if not self.bursts or (when - self.bursts[-1]).total_seconds() > 0.02:
                self.bursts.append(when)  # the widget updates of one repaint come together
        elif kind == "stream":
            self.stdout.append(msg["content"]["text"])

    def max_repaints_per_second(self) -> int:
        return max(
            (sum(1 for t in self.bursts if 0 <= (t - s).total_seconds() < 1) for s in self.bursts),
            default=0,
        )


def run(client: Any, code: str) -> Traffic:
    traffic = Traffic()
    reply = client.execute_interactive(code, output_hook=traffic.add, timeout=600)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"cell failed: {reply['content']}")
    return traffic


def final_text_bytes(client: Any, session: str) -> int:
    lines = "".join(run(client, FINAL.format(session=session)).stdout).strip().splitlines()
    return sum(json.loads(lines[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--naive-tokens", type=int, default=1_000)
    args = parser.parse_args()
    with Simulator(api_key=KEY) as sim:
        os.environ.update(KIMI_BASE_URL=sim.base_url, KIMI_API_KEY=KEY)
        manager, client = start_new_kernel(kernel_name="python3")
        try:
            run(client, "%load_ext kimi_jupyter")
            rows = []
            for label, code, session, n in (
                ("ours", OURS, "bench", args.naive_tokens),
                ("naive HTML.value += token", NAIVE, "naive", args.naive_tokens),
                ("ours", OURS, "bench", args.tokens),
            ):
                start = time.perf_counter()
                traffic = run(client, code.format(n=n))
                seconds = time.perf_counter() - start
                text = final_text_bytes(client, session)
                rows.append((label, n, traffic, text, seconds))
                print(f"  {label} at {n:,}+{n:,} tokens: {seconds:.1f} s", flush=True)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    print(f"{'view':26s} {'tokens':>14s} {'live bytes':>11s} {'text bytes':>10s} "
          f"{'ratio':>7s} {'repaints/s':>10s} {'saved output':>12s} {'s':>5s}")  # fmt: skip
    for label, n, t, text, seconds in rows:
        print(f"{label:26s} {f'{n:,}+{n:,}':>14s} {t.live:>11,} {text:>10,} "
              f"{t.live / text:>7.2f} {t.max_repaints_per_second():>10d} {t.final:>12,} "
              f"{seconds:>5.1f}")  # fmt: skip
    _, n, ours, text, _ = rows[-1]
    print(f"ours at {n:,}+{n:,} tokens: live-view bytes / text bytes = {ours.live / text:.2f} "
          f"(target <= 3); at most {ours.max_repaints_per_second()} repaints in any second "
          f"(target <= 20); the saved static bundle adds {ours.final / text:.2f}x "
          "(answer in text/html, text/plain and the turn record)")  # fmt: skip


if __name__ == "__main__":
    main()
