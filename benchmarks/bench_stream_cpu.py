"""CPU time per streamed chunk: kimi-jupyter's client vs the official `openai` SDK.

Both read the same stream of N chunks from the simulator, which runs in another process
on 127.0.0.1, so only the reader's CPU is counted (`time.process_time`). Runs alternate
(ours, theirs, ours, ...) and the medians are compared, in one run on one machine.

    python benchmarks/bench_stream_cpu.py [--chunks 100000] [--rounds 3]

Target: ratio (ours / openai) <= 1.0.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

KEY = "sk-bench"


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_jupyter.simulator", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, match.group(1)


def ours(base_url: str, prompt: str) -> tuple[int, str]:
    from kimi_jupyter.client import KimiClient
    from kimi_jupyter.config import Settings
    from kimi_jupyter.events import ContentDelta

    with KimiClient(Settings(api_key=KEY, base_url=base_url)) as client:
        count = 0
        stream = client.stream(
            {"model": "kimi-k2.6", "messages": [{"role": "user", "content": prompt}]}
        )
        for event in stream:
            if isinstance(event, ContentDelta):
                count += 1
        return count, stream.turn.answer


def openai_sdk(base_url: str, prompt: str) -> tuple[int, str]:
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=base_url, max_retries=0)
    parts: list[str] = []
    count = 0
    for chunk in client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": prompt}], stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            count += 1
            parts.append(chunk.choices[0].delta.content)
    client.close()
    return count, "".join(parts)


def measure(
    reader: Callable[[str, str], tuple[int, str]], base_url: str, prompt: str
) -> tuple[float, int, str]:
    start = time.process_time()
    count, answer = reader(base_url, prompt)
    return time.process_time() - start, count, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    prompt = f"benchmark [[sim: chunks={args.chunks} reasoning_chunks=0]]"
    import httpx
    import openai

    import kimi_jupyter

    print(
        f"kimi-jupyter {kimi_jupyter.__version__} (httpx {httpx.__version__}) vs "
        f"openai {openai.__version__}; {args.chunks:,} chunks, {args.rounds} rounds"
    )
    proc, base_url = start_simulator()
    try:
        ours(base_url, "warm up"), openai_sdk(base_url, "warm up")
        times: dict[str, list[float]] = {"kimi-jupyter": [], "openai": []}
        answers: dict[str, set[str]] = {"kimi-jupyter": set(), "openai": set()}
        for _ in range(args.rounds):
            for name, reader in (("kimi-jupyter", ours), ("openai", openai_sdk)):
                seconds, count, answer = measure(reader, base_url, prompt)
                times[name].append(seconds)
                answers[name].add(answer)
                print(f"  {name:13s} {seconds:7.3f} s CPU for {count:,} content chunks")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if answers["kimi-jupyter"] != answers["openai"]:
        raise SystemExit("the two clients read different answers")
    ours_s, theirs_s = statistics.median(times["kimi-jupyter"]), statistics.median(times["openai"])
    per_chunk = lambda s: s / args.chunks * 1e6  # noqa: E731
    print(f"kimi-jupyter: {per_chunk(ours_s):.2f} µs CPU per chunk (median of {args.rounds})")
    print(f"openai SDK:   {per_chunk(theirs_s):.2f} µs CPU per chunk (median of {args.rounds})")
    print(f"ratio kimi-jupyter / openai = {ours_s / theirs_s:.2f} (target <= 1.0)")


if __name__ == "__main__":
    main()
