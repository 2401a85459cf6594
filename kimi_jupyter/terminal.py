"""Model text made safe to print on a terminal, and code made safe to put in a cell.

A terminal obeys what model text may carry: ANSI/ECMA-48 escape sequences (OSC 52 writes
the clipboard, OSC 8 hides where a link goes, CSI moves the cursor over what was printed),
C0 and C1 control characters, and bidirectional overrides that show code in another order
than it runs (Trojan Source). `TerminalFilter` strips them from a stream whose sequences may
be split across deltas; `strip_terminal` from one string; `strip_bidi` takes the overrides
out of code, counting them so the caller can say so. UI-free.
"""

from __future__ import annotations

import re

# A complete sequence: CSI (7- or 8-bit); a string (OSC, DCS, SOS, PM, APC) up to BEL or
# ST; an nF escape (intermediates, then a final byte); any other two-character escape.
# An opener without its end is held back while streaming, its ESC dropped in the end.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]+[\x30-\x7e]"
    r"|\x1b[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e]"  # not the CSI or string openers
)
# What a sequence cut off by the end of a delta can look like, up to that end.
_UNFINISHED = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*\x1b?"
    r"|\x1b[\x20-\x2f]*"
)
_INTRODUCER = re.compile(r"[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
# C0 but tab and newline, DEL, C1; and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_HELD_MAX = 4_096  # an unfinished sequence longer than this is given up and shown as text


class TerminalFilter:
    """Strips escape sequences and control characters from streamed text; a sequence split
    across deltas is held back until it ends (or `flush`, which drops it)."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self._held = ""
        if _INTRODUCER.search(text) is None:
            return _CONTROL.sub("", text)
        text = _SEQUENCE.sub("", text)
        start = _unfinished_start(text)
        if start >= 0:
            text, self._held = text[:start], text[start:]
        return _CONTROL.sub("", text)

    def flush(self) -> str:
        """The end of the stream: an unfinished sequence is dropped."""
        self._held = ""
        return ""


def strip_terminal(text: str) -> str:
    """One string with no escape sequence and no control character but newline and tab."""
    stream = TerminalFilter()
    return stream.feed(text) + stream.flush()


def strip_bidi(code: str) -> tuple[str, int]:
    """Code without bidi embeddings, overrides or isolates, and how many there were."""
    clean, count = _BIDI.subn("", code)
    return clean, count


def bidi_notice(count: int) -> str:
    """The one line that says what `strip_bidi` took out."""
    return (
        f"kimi: removed {count} bidirectional control character(s) (U+202A-202E, U+2066-2069) "
        "from the code: they can make code read differently from how it runs"
    )


def _unfinished_start(text: str) -> int:
    """Where a sequence that the end of `text` cut off starts, or -1. It is opened by the
    last introducer, or by the one before it when the last is the ESC of a string's ST."""
    last = _last_introducer(text, len(text))
    for start in (_last_introducer(text, last), last):
        if start >= 0 and len(text) - start <= _HELD_MAX and _UNFINISHED.fullmatch(text, start):
            return start
    return -1


def _last_introducer(text: str, end: int) -> int:
    return max(text.rfind(c, 0, end) for c in "\x1b\x90\x98\x9b\x9d\x9e\x9f") if end > 0 else -1
