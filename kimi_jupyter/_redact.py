"""The API key out of text: every form a server or a library may show it in, and log records.

A server or gateway that echoes the key rarely echoes it plainly: it may be JSON-escaped
(`\\/`, `\\u002f`, or both, doubly), percent-encoded (`%2F`), an HTML entity (`&#47;`), cut
short, or mixed. So the text is decoded into a shadow string that remembers where each
character came from; any fragment of the key that is `FRAGMENT` characters or longer is found
there and the original span it came from is replaced by `***`. A fragment that long from a
random key is never ordinary text, and the shortest hint servers print (`sk-ab…wxyz`) stays.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from typing import Protocol

MASK = "***"
FRAGMENT = 12  # characters of the key that count as showing it
_SHORTEST = 8  # a "key" shorter than this is a test value: masking it would mangle words
_ESCAPED = re.compile(
    r"\\+u([0-9a-fA-F]{4})"  # \u002f, \\u002f
    r"|%([0-9a-fA-F]{2})"  # %2F
    r"|&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));"  # &#x2f; &#47;
    r"|\\+([^\w\s])"  # \/ \" \\
    r"|(.)",
    re.DOTALL,
)


def redact(text: str, secret: str | None) -> str:
    """`text` with every whole or partial, plain or escaped appearance of `secret` masked."""
    if not secret or len(secret) < _SHORTEST or not text:
        return text
    width = min(len(secret), FRAGMENT)
    if not any(mark in text for mark in "%\\&"):
        return _mask(text, None, text, secret, width)
    shadow, spans = _decoded(text)
    return _mask(text, spans, shadow, secret, width)


def _decoded(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with escapes undone, and for each of its characters the span it came from."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _ESCAPED.finditer(text):
        unicode, percent, hex_entity, entity, escaped, plain = match.groups()
        if plain is not None:
            char = plain
        elif escaped is not None:
            char = escaped
        else:
            code = int(unicode or percent or hex_entity or "0", 16) if not entity else int(entity)
            char = chr(code) if code < 0x110000 else "\ufffd"
        chars.append(char)
        spans.append(match.span())
    return "".join(chars), spans


def _mask(
    text: str, spans: list[tuple[int, int]] | None, shadow: str, secret: str, width: int
) -> str:
    """Mask the spans of `text` whose decoded `shadow` holds a `width`-long piece of `secret`
    (`spans` None: the shadow is the text itself)."""
    step = max(1, width // 2)  # every fragment of `width` holds one of these pieces whole
    pieces = {secret[i : i + step] for i in range(0, len(secret) - step + 1, step)}
    if not any(piece in shadow for piece in pieces):
        return text
    windows = {secret[i : i + width] for i in range(len(secret) - width + 1)}
    hidden = bytearray(len(text))
    for start in range(len(shadow) - width + 1):
        if shadow[start : start + width] in windows:
            first, last = (
                (start, start + width)
                if spans is None
                else (spans[start][0], spans[start + width - 1][1])
            )
            hidden[first:last] = b"\1" * (last - first)
    if not any(hidden):
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if not hidden[i]:
            out.append(char)
        elif i == 0 or not hidden[i - 1]:
            out.append(MASK)
    return "".join(out)


class Redactor(Protocol):
    """Anything that can mask itself out of text (a `config.Secret`)."""

    def redact(self, text: str) -> str: ...


class KeyFilter(logging.Filter):
    """Masks the keys in use out of every record of the loggers that may see one.

    httpcore logs response headers at DEBUG (a header may echo the key), httpx logs requests,
    and ours log failures. A logger's filters are not inherited by its children, so each
    logger that writes is named here. Keys are held weakly: a key no client uses any more is
    forgotten.
    """

    LOGGERS = (
        "httpx",
        "httpcore",
        "httpcore.connection",
        "httpcore.http11",
        "httpcore.http2",
        "httpcore.proxy",
        "httpcore.socks",
        "kimi_jupyter",
    )

    def __init__(self) -> None:
        super().__init__()
        self._keys: weakref.WeakSet[Redactor] = weakref.WeakSet()
        self._lock = threading.Lock()

    def watch(self, key: Redactor) -> None:
        with self._lock:
            self._keys.add(key)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            keys = list(self._keys)
        if not keys:
            return True
        message = record.getMessage()
        clean = _all(keys, message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _all(keys, record.exc_text)
        return True


def _all(keys: list[Redactor], text: str) -> str:
    for key in keys:
        text = key.redact(text)
    return text


_FILTER = KeyFilter()  # the process's one: loggers are process-wide too


def watch_logs(key: Redactor) -> None:
    """Mask `key` in the records of httpx, httpcore and kimi_jupyter from now on."""
    for name in KeyFilter.LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)  # a no-op once it is there
    _FILTER.watch(key)
