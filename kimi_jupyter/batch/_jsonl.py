"""`to_batch_jsonl`: the requests a map would send, as a Batch API input file."""

from __future__ import annotations

import json as _json
import os
from typing import TYPE_CHECKING, Any

from kimi_jupyter.errors import KimiError

from ._table import _check_template, _prompts, _shape, _Table

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat

__all__ = ["to_batch_jsonl"]

_STREAM_FIELDS = ("stream", "stream_options")


def to_batch_jsonl(
    chat: Chat,
    template: str,
    df: Any,
    path: str | os.PathLike[str],
    *,
    json: bool = False,
    schema: Any = None,
    **options: Any,
) -> int:
    """Write one Batch API line per row: the body `map` would send, without streaming.

    `custom_id` is `str(index label)` (the row number for polars); returns the line count.
    """
    shape = _shape(json, schema)
    table = _Table(df, "answer")
    _check_template(template, table.columns, "\0")
    prompts, failures = _prompts(template, table, range(len(table.keys)), shape)
    if failures:
        pos, error = next(iter(failures.items()))
        raise KimiError(f"map: row {table.keys[pos]!r}: {error}")
    fork = chat.fork()
    row_options = {**options, "response_format": shape.response_format}
    with open(path, "w", encoding="utf-8") as out:
        for pos, prompt in prompts.items():
            _, payload = fork.preview(prompt, **row_options)
            body = {k: v for k, v in payload.items() if k not in _STREAM_FIELDS}
            line = {"custom_id": str(table.keys[pos]), "method": "POST",
                    "url": "/v1/chat/completions", "body": body}  # fmt: skip
            out.write(_json.dumps(line, ensure_ascii=False) + "\n")
    return len(prompts)
