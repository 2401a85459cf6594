"""`Chat.map` and `%kimi map`: one independent request per row of a DataFrame.

Rows are asked on a bounded thread pool, each worker with its own fork of the chat (the
same settings and defaults, its own HTTP client, no history). A shared `Gate` makes every
worker back off when any of them is told to wait by a 429. Results are written into the
DataFrame passed in, on the calling thread as rows finish: `df[column]` holds the answer
(or the parsed value with `json=`/`schema=`), `df[f"{column}_error"]` the error of a failed
row. A rerun skips the rows that are done, so a stopped or partly failed map is resumed by
running it again. Stop (the widget's button) and Ctrl-C end a map cleanly: queued rows are
cancelled, rows in flight are closed and left unwritten, finished rows are kept.
"""

from __future__ import annotations

from ._jsonl import to_batch_jsonl
from ._magic import map_magic
from ._report import PRICES_PER_MILLION, MapReport
from ._run import run_map
from ._workers import Gate

__all__ = ["PRICES_PER_MILLION", "Gate", "MapReport", "map_magic", "run_map", "to_batch_jsonl"]
