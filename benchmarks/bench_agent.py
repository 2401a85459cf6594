"""Overhead of one agent step, excluding model time and kernel execution time.

A real kernel (jupyter_client) runs agent turns started from the panel comm (`agent_ask`,
as `tests/test_agent_comm.py` does) against the simulator in this process, on 127.0.0.1,
with no delays, playing `[[sim: agent=plot-loop]]`. A scripted page answers every
`agent_propose` at once: each `run_cell` comes back with a real matplotlib PNG and an error
(a run that raised, so the policy edits the cell and runs it again until its `agent_cap`),
so a turn is list → read → insert → run → edit → run → … and nothing is ever executed.

One step is measured from the end of the simulator's response carrying the tool call (the
kernel's loop has the call), through `agent_propose` reaching the page and the page's
`agent_result`, to the next request (with the result in it) arriving at the simulator. The
simulator's own time (request in → response written, timed in the simulator's handler) is
not the agent's and is left out; the page's time is included (it only answers). Printed:
median and p95 of that per-step overhead, split into kernel → page (tool call → propose
received) and page → request (result sent → next request in), beside the simulator's time.
All timestamps are `time.perf_counter()` in this process, so they compare directly.

Target: median step overhead < 50 ms.

    python benchmarks/bench_agent.py [--steps 200] [--per-turn 20]

Exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import queue
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import start_new_kernel

from kimi_jupyter._comm import TARGET
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.simulator import handler as sim_handler
from kimi_jupyter.simulator.notebook import ScriptedNotebook

KEY = "sk-bench-agent"
TARGET_MS = 50.0
Series = list[float]  # seconds, one per agent step
TRACEBACK = ["Traceback (most recent call last):", "  Cell In[1], line 9", "ValueError: bench"]


@dataclass
class Timings:
    """When each chat request reached the simulator and when its response was written."""

    served: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> Callable[[], None]:
        """Time the simulator's chat handler; returns the function that undoes it."""
        original = sim_handler._Handler._chat
        timings = self

        def timed(handler: Any, out: Any, raw: bytes) -> None:
            start = time.perf_counter()
            try:
                original(handler, out, raw)
            finally:
                end = time.perf_counter()
                with timings.lock:
                    timings.served.append((start, end))

        setattr(sim_handler._Handler, "_chat", timed)  # noqa: B010 (a method, replaced)
        return lambda: setattr(sim_handler._Handler, "_chat", original)


def figure_png() -> bytes:
    """A typical matplotlib figure (6.4×4.8 in at 100 dpi) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = fig.add_subplot()
    xs = list(range(10))
    ax.plot(xs, [x * x for x in xs], marker="o")
    ax.set(title="Squares", xlabel="x", ylabel="x squared")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class Page:
    """The panel's side: a comm opened from the client, answering each proposal at once on
    cells kept in memory, and noting when each proposal arrived and each result left."""

    def __init__(self, client: Any, image: bytes) -> None:
        self.client, self.comm_id = client, uuid.uuid4().hex
        run_outputs = [
            {"output_type": "display_data", "metadata": {},
             "data": {"image/png": base64.b64encode(image).decode(),
                      "text/plain": "<Figure size 640x480 with 1 Axes>"}},
            {"output_type": "error", "ename": "ValueError", "evalue": "bench",
             "traceback": TRACEBACK},
        ]  # fmt: skip
        self.notebook = ScriptedNotebook.of("xs = [1, 2, 3]", run_outputs=run_outputs)
        self.steps: list[tuple[str, float, float]] = []  # tool, propose received, result sent
        self._send("comm_open", {"comm_id": self.comm_id, "target_name": TARGET, "data": {}})

    def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        self.client.shell_channel.send(self.client.session.msg(msg_type, content))

    def send(self, data: dict[str, Any]) -> None:
        self._send("comm_msg", {"comm_id": self.comm_id, "data": data})

    def turn(self, turn: str, prompt: str, cap: int) -> dict[str, Any]:
        """Ask `prompt` as agent turn `turn`, answer every step, return its `done`."""
        self.send({"type": "agent_ask", "id": turn, "session": turn, "prompt": prompt,
                   "mode": "ask", "cap": cap})  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            received = time.perf_counter()
            if msg["msg_type"] != "comm_msg" or msg["content"]["comm_id"] != self.comm_id:
                continue
            data = msg["content"]["data"]
            if data.get("id") != turn:
                continue
            if data["type"] == "agent_propose":
                done = self.notebook.carry_out(data["tool"], data["args"])
                self.send({"type": "agent_result", "id": turn, "step": data["step"],
                           "status": "done", **done})  # fmt: skip
                self.steps.append((data["tool"], received, time.perf_counter()))
            elif data["type"] == "error":
                raise SystemExit(f"agent turn {turn} failed: {data.get('message')}")
            elif data["type"] == "done":
                ended: dict[str, Any] = data
                return ended
        raise SystemExit(f"agent turn {turn} did not end in 120 s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(steps: int, per_turn: int, warmup: int) -> tuple[Series, Series, Series, Series]:
    """Per step: (overhead, kernel → page, page → request, simulator), in seconds."""
    timings = Timings()
    undo = timings.install()
    image = figure_png()
    overhead: list[float] = []
    to_page: list[float] = []
    to_request: list[float] = []
    simulator: list[float] = []
    try:
        with Simulator(api_key=KEY) as sim:
            env = {**os.environ, "KIMI_BASE_URL": sim.base_url, "KIMI_API_KEY": KEY}
            manager, client = start_new_kernel(kernel_name="python3", env=env)
            try:
                reply = client.execute_interactive("%load_ext kimi_jupyter",
                                                   store_history=False, timeout=60)  # fmt: skip
                assert reply["content"]["status"] == "ok", reply["content"]
                page = Page(client, image)
                turns = warmup + -(-steps // per_turn)
                for number in range(turns):
                    first_request, first_step = len(timings.served), len(page.steps)
                    prompt = f"Plot xs readably [[sim: agent=plot-loop agent_cap={per_turn}]]"
                    done = page.turn(f"t{number}", prompt, cap=per_turn)
                    record = done["record"]
                    assert record["status"] == "done", record["status"]
                    assert "1 image part (PNG 640x480" in record["answer"], record["answer"]
                    with timings.lock:
                        served = timings.served[first_request:]
                    taken = page.steps[first_step:]
                    # One tool call per response: request k's tool call is step k, and its
                    # result is in request k + 1; the last request is the answer.
                    assert len(served) == len(taken) + 1, (len(served), len(taken))
                    if number < warmup:
                        continue
                    for k, (_tool, proposed, answered) in enumerate(taken):
                        (start, end), (next_in, _) = served[k], served[k + 1]
                        overhead.append(next_in - end)
                        to_page.append(proposed - end)
                        to_request.append(next_in - answered)
                        simulator.append(end - start)
            finally:
                client.stop_channels()
                manager.shutdown_kernel(now=True)
    finally:
        undo()
    return overhead, to_page, to_request, simulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="agent steps measured")
    parser.add_argument("--per-turn", type=int, default=20,
                        help="steps in each agent turn (its step cap and agent_cap)")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=1, help="turns run before measuring")
    args = parser.parse_args()
    overhead, to_page, to_request, simulator = measure(args.steps, args.per_turn, args.warmup)
    print(f"{len(overhead)} agent steps in turns of {args.per_turn} (plot-loop, a real kernel, "
          "the simulator without delays, a page answering at once)")  # fmt: skip
    print(f"{'':38s} {'median ms':>10s} {'p95 ms':>8s}")
    for label, values in (
        ("step overhead (tool call → request)", overhead),
        ("  kernel → page (agent_propose)", to_page),
        ("  page → next request (agent_result)", to_request),
        ("simulator's own time (left out)", simulator),
    ):
        print(f"{label:38s} {statistics.median(values) * 1000:10.1f} "
              f"{percentile(values, 0.95) * 1000:8.1f}")  # fmt: skip
    median = statistics.median(overhead) * 1000
    ok = median < TARGET_MS
    print(f"target: median step overhead < {TARGET_MS:.0f} ms: {median:.1f} ms, "
          f"{'ok' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
