"""The map itself: check the input, send the rows, write each answer as it ends, report."""

from __future__ import annotations

import queue
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from kimi_jupyter.errors import KimiError
from kimi_jupyter.render.progress import MapProgress, ProgressView, make_view

from ._report import MapReport, _report
from ._table import _check_template, _missing, _prompts, _shape, _Table
from ._workers import _Outcome, _Workers

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat
    from kimi_jupyter.structured import Shape

__all__ = ["run_map"]


def run_map(
    chat: Chat,
    template: str,
    df: Any,
    *,
    column: str = "answer",
    concurrency: int = 8,
    json: bool = False,
    schema: Any = None,
    retry_failed: bool = False,
    view: str | ProgressView | None = None,
    prices: dict[str, float] | None = None,
    **options: Any,
) -> MapReport:
    """Ask `template`, filled from each row, once per row; write the answers into `df`.

    `schema` is a JSON-schema dict or a pydantic model class; `retry_failed` sends only the
    rows that failed before; `options` are per-request options (`thinking=False`, ...).
    """
    return _map(chat, template, df, _shape(json, schema), column=column, concurrency=concurrency,
                retry_failed=retry_failed, view=view, prices=prices, options=options)  # fmt: skip


def _map(
    chat: Chat,
    template: str,
    df: Any,
    shape: Shape,
    *,
    column: str,
    concurrency: int,
    retry_failed: bool,
    view: str | ProgressView | None,
    prices: dict[str, float] | None,
    options: dict[str, Any],
) -> MapReport:
    table = _Table(df, column)
    _check_template(template, table.columns, column)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise KimiError(f"map: concurrency must be a whole number ≥ 1, got {concurrency!r}")
    row_options = {**options, "response_format": shape.response_format}
    chat.fork().preview("", **row_options)  # unknown options fail here, before any request
    chat.settings.require_key()
    wanted = _wanted(table, retry_failed)
    prompts, failures = _prompts(template, table, wanted, shape)
    workers = _Workers(chat, min(concurrency, max(len(prompts), 1)), shape, row_options)
    display = make_view(view, len(wanted), workers.halt)
    table.prepare()
    results = {pos: _Outcome(error=error) for pos, error in failures.items()}
    for pos, error in failures.items():
        table.write(pos, None, error)
    progress = MapProgress(total=len(wanted), failed=len(failures))
    try:
        stopped = _run(workers, prompts, table, results, progress, display)
    finally:
        table.flush()
    report = _report(table, len(wanted), results, progress, workers, stopped, prices)
    display.finish(report)
    return report


def _wanted(table: _Table, retry_failed: bool) -> list[int]:
    """The rows to send: not done (answered without error); with `retry_failed`, failed."""
    return [
        pos
        for pos in range(len(table.keys))
        if not table.is_done(pos) and not (retry_failed and _missing(table.errors[pos]))
    ]


def _run(
    workers: _Workers,
    prompts: dict[int, str],
    table: _Table,
    results: dict[int, _Outcome],
    progress: MapProgress,
    display: ProgressView,
) -> bool:
    """Submit the rows, write each as it finishes; True if some never finished (stopped)."""
    pool = ThreadPoolExecutor(max_workers=workers.size, thread_name_prefix="kimi-map")
    ended: queue.SimpleQueue[Future[_Outcome | None]] = queue.SimpleQueue()
    futures: dict[Future[_Outcome | None], int] = {}
    try:
        for pos, prompt in prompts.items():
            future = pool.submit(workers.ask, prompt)
            futures[future] = pos
            future.add_done_callback(ended.put)  # concurrent.futures.wait is O(pending)
        left = len(futures)
        while left and not workers.stop.is_set():
            for future in _drain(ended, timeout=0.1):
                left -= 1
                _write(table, futures[future], future.result(), results, progress)
            progress.retries = workers.retries
            display.update(progress)
    except KeyboardInterrupt:
        pass  # a kernel interrupt: stop like the Stop button, keep what finished
    finally:
        workers.halt()  # cancel the rest: close the streams in flight and every fork
        pool.shutdown(wait=False, cancel_futures=True)
        for future, pos in futures.items():  # rows that ended before Stop/Ctrl-C are kept
            done = future.done() and not future.cancelled()
            if pos not in results and done and future.exception() is None:
                _write(table, pos, future.result(), results, progress)
    return any(pos not in results for pos in prompts)


def _drain(ended: queue.SimpleQueue[Future[Any]], timeout: float) -> list[Future[Any]]:
    """The futures that ended: wait up to `timeout` for the first, then take all there are."""
    try:
        found = [ended.get(timeout=timeout)]
    except queue.Empty:
        return []
    while not ended.empty():
        found.append(ended.get_nowait())
    return found


def _write(
    table: _Table,
    pos: int,
    outcome: _Outcome | None,
    results: dict[int, _Outcome],
    progress: MapProgress,
) -> None:
    if outcome is None:  # stopped before it finished: the row stays as it was
        return
    table.write(pos, outcome.value, outcome.error)
    if pos in results:
        return
    results[pos] = outcome
    progress.done += outcome.error is None
    progress.failed += outcome.error is not None
    if outcome.usage is not None:
        progress.tokens += outcome.usage.total_tokens
