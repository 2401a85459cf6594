"""What a map did: the `MapReport` and the list prices its cost is counted at."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimi_jupyter.events import Usage

if TYPE_CHECKING:
    from kimi_jupyter.render.progress import MapProgress

    from ._table import _Table
    from ._workers import _Outcome, _Workers

__all__ = ["PRICES_PER_MILLION", "MapReport"]

# [UNVERIFIED] kimi-k2.6 list prices in USD per million tokens (input = cache miss);
# pass `prices=` to run_map for your platform's.
PRICES_PER_MILLION = {"input": 0.95, "cached": 0.16, "output": 4.00}


@dataclass(frozen=True)
class MapReport:
    """What a map did. Every row is counted once: done + failed + skipped + not_started."""

    column: str
    done: int
    failed: int
    skipped: int  # already done before (or, with retry_failed, never failed)
    not_started: int  # queued or in flight when the map was stopped
    stopped: bool
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    elapsed: float
    cost: float  # at the prices given (list prices by default)
    retries: int = 0
    gate_waits: int = 0  # times a worker held back for the shared backoff
    throttled_workers: int = 0  # distinct workers that did
    list_prices: bool = True  # False when `prices=` was given

    def summary(self) -> str:
        rows = f"{self.done:,} done, {self.failed:,} failed, {self.skipped:,} skipped"
        if self.not_started:
            rows += f", {self.not_started:,} not started"
        tokens = f"{self.prompt_tokens:,} in + {self.completion_tokens:,} out tokens"
        if self.cached_tokens:
            tokens += f" ({self.cached_tokens:,} cached)"
        parts = [f"kimi map → {self.column!r}: {rows}", tokens, f"{self.elapsed:.1f} s"]
        if self.retries:
            parts.append(f"{self.retries:,} retries")
        priced = "list prices" if self.list_prices else "the prices given"
        parts.append(f"≈ ${self.cost:.{2 if self.cost >= 1 else 4}f} at {priced}")
        return ("stopped · " if self.stopped else "") + " · ".join(parts)

    def __repr__(self) -> str:
        return f"<MapReport {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<span class='kimi-map-report'>{html.escape(self.summary())}</span>"


def _report(
    table: _Table,
    wanted: int,
    results: dict[int, _Outcome],
    progress: MapProgress,
    workers: _Workers,
    stopped: bool,
    prices: dict[str, float] | None,
) -> MapReport:
    usage = Usage.total(o.usage for o in results.values())
    prompt, cached, completion = usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens
    price = {**PRICES_PER_MILLION, **(prices or {})}
    cost = ((prompt - cached) * price["input"] + cached * price["cached"]
            + completion * price["output"]) / 1e6  # fmt: skip
    failed = sum(o.error is not None for o in results.values())
    return MapReport(
        column=table.column,
        done=len(results) - failed,
        failed=failed,
        skipped=len(table.keys) - wanted,
        not_started=wanted - len(results),
        stopped=stopped,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        elapsed=time.monotonic() - progress.started,
        cost=cost,
        retries=workers.retries,
        gate_waits=workers.gate.waits,
        throttled_workers=workers.gate.held_workers,
        list_prices=prices is None,
    )
