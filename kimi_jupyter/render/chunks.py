"""Where a growing answer can be frozen, so that a repaint only redoes a small open tail.

`MarkdownChunker` takes the text as it streams and hands back pieces of Markdown that render
on their own: finished blocks (up to a blank line or a closing fence), and parts of a block
that is still open, so the tail never grows past about `max_tail` characters whatever the
text is: an open code fence or `$$` block is frozen by complete lines, each part closed and
the rest reopened with the same fence line; a table by complete rows under the same header
(hidden by CSS in the parts that continue one); one long line at a sentence, a space, or
anywhere. Every character is scanned once and copied a bounded number of times, so the cost
of a whole answer is linear in its length. The parts may look a little different from the
whole (a paragraph split in two); the saved output renders the whole text again.

`PlainChunker` does the same for plain text (the thinking pane). UI-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kimi_jupyter.render.live import text_freeze_point

MAX_TAIL = 1024
MIN_PIECE = 512  # an open block's complete lines are frozen once they are this long
_DELIMITER_ROW = re.compile(r"\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?")


@dataclass(frozen=True)
class Piece:
    """Markdown that renders on its own; `joined` continues the piece before it."""

    source: str
    joined: bool = False


class PlainChunker:
    """Plain text: freeze at the last newline, or at a space (or anywhere) in a long line."""

    def __init__(self, max_tail: int = 800) -> None:
        self._buf, self._max_tail = "", max_tail

    def feed(self, text: str) -> list[Piece]:
        self._buf += text
        cut = text_freeze_point(self._buf, 0, self._max_tail)
        if cut == 0:
            return []
        piece, self._buf = self._buf[:cut], self._buf[cut:]
        return [Piece(piece)]

    def tail(self) -> Piece:
        return Piece(self._buf)


@dataclass(frozen=True)
class _Split:
    """How the parts of a split block render: its head again, its body de-indented."""

    head: str  # the fence line without its indent, or the table's header and delimiter rows
    indent: int = 0  # the fence line's indent, removed from body lines as markdown-it does
    close: str = ""  # the fence's closing line, added to each part but the last

    def render(self, body: str, *, closed: bool = False) -> str:
        if self.indent:
            body = re.sub(f"(?m)^ {{1,{self.indent}}}", "", body)
        if closed and self.close:
            body = (body if body.endswith("\n") else body + "\n") + self.close
        return self.head + body


class MarkdownChunker:
    """Markdown: finished blocks, then parts of the open block; see the module docstring."""

    def __init__(self, max_tail: int = MAX_TAIL, min_piece: int = MIN_PIECE) -> None:
        self._max_tail, self._min_piece = max_tail, min_piece
        self._buf = ""  # the text not frozen yet
        self._pos = 0  # start of the first line not scanned yet (the incomplete one)
        self._broken = False  # that line began in text already frozen: plain text
        self._boundary = 0  # end of the last finished block in _buf
        self._kind = ""  # the open block: "", "fence", "math" or "table"
        self._close = ""  # the open fence's closing marker
        self._head = ""  # its first line(s): fence line, or table header and delimiter row
        self._start = 0  # where it starts in _buf, or -1 once part of it was frozen
        self._header_line: tuple[int, int] | None = None  # a line a table may start with
        self._split: _Split | None = None  # the split block _buf begins inside
        self._split_end = -1  # where that block ends in _buf, once known

    def feed(self, text: str) -> list[Piece]:
        """Add streamed text; return the pieces that are now frozen, in order."""
        self._buf += text
        while (end := self._buf.find("\n", self._pos)) >= 0:
            self._scan(self._pos, end)
            self._pos = end + 1
        pieces = self._freeze_split()
        if self._boundary > 0:
            pieces.append(Piece(self._take(self._boundary)))
        if self._due():
            pieces += self._cut_open_block()
        return pieces

    def tail(self) -> Piece:
        """The open tail as Markdown: the split block's head, then the text since."""
        if self._split is not None:
            body = self._buf if self._buf.strip() else ""  # no empty box under the head
            return Piece(self._split.render(body) if body else "", joined=True)
        return Piece(self._buf)

    def _due(self) -> bool:
        if len(self._buf) - self._pos > self._max_tail:
            return True  # one long line
        if self._kind:
            return self._pos - max(self._start, 0) >= self._min_piece
        return len(self._buf) > self._max_tail

    def _scan(self, start: int, end: int) -> None:
        """Classify one complete line; `_buf[start:end]` has no newline."""
        broken, self._broken = self._broken, False
        line = self._buf[start:end]
        stripped = line.strip()
        if self._kind in ("fence", "math"):
            if not broken and _closes(stripped, self._close):
                self._end_block(end + 1)
                self._boundary = end + 1
            return
        if self._kind == "table":
            if broken or "|" in stripped:
                return
            self._end_block(start)
        if broken or not stripped:
            self._header_line = None
            if not broken:
                self._boundary = end + 1
            return
        self._open_block(line, stripped, start, end)

    def _open_block(self, line: str, stripped: str, start: int, end: int) -> None:
        opener = _fence_marker(stripped)
        if opener or (stripped.startswith("$$") and not _one_line_math(stripped)):
            self._kind, self._close = ("fence", opener) if opener else ("math", "$$")
            self._head, self._start, self._header_line = line + "\n", start, None
        elif self._header_line and _DELIMITER_ROW.fullmatch(stripped):
            header_start, _ = self._header_line
            self._kind, self._start, self._header_line = "table", header_start, None
            self._head = self._buf[header_start : end + 1]
        else:
            self._header_line = (start, end) if "|" in stripped else None

    def _end_block(self, end: int) -> None:
        if self._start < 0:
            self._split_end = end
        self._kind, self._start = "", 0

    def _cut_open_block(self) -> list[Piece]:
        """Freeze complete lines of the open block, or cut a long tail of plain text."""
        pieces = self._freeze_split()
        if self._kind and self._start > 0:  # what comes before the open block is finished
            pieces.append(Piece(self._take(self._start)))
        if not self._kind:
            return [*pieces, Piece(self._take(self._plain_cut()))]
        joined = self._start < 0
        if not joined:
            self._split = self._new_split()
            self._take(len(self._head))
            self._start = -1
        cut = self._pos
        if len(self._buf) - cut > self._max_tail:
            cut = len(self._buf) - self._min_piece // 2
        assert self._split is not None
        pieces.append(Piece(self._split.render(self._take(cut), closed=True), joined))
        return pieces

    def _new_split(self) -> _Split:
        if self._kind == "table":
            return _Split(self._head)
        head = self._head.lstrip(" ")
        close = self._close + "\n"
        return _Split(head, len(self._head) - len(head), close)

    def _freeze_split(self) -> list[Piece]:
        """The rest of a split block that has ended since, with its head again."""
        if self._split is None or self._split_end < 0:
            return []
        body = self._take(self._split_end)
        split, self._split, self._split_end = self._split, None, -1
        if not body.strip() or body.strip() == split.close.strip():
            return []  # every line was frozen already: no empty box
        return [Piece(split.render(body), joined=True)]

    def _plain_cut(self) -> int:
        """All complete lines, or inside the last line: after a sentence, a space, anywhere."""
        if self._pos > 0 and len(self._buf) - self._pos <= self._max_tail // 2:
            if self._header_line is not None and self._header_line[0] > 0:
                return self._header_line[0]  # a table may start there: keep it whole
            return self._pos
        end = len(self._buf) - self._min_piece // 2
        start = max(self._pos, len(self._buf) - self._max_tail)  # not a tiny first piece
        for separator in (". ", " "):
            at = self._buf.rfind(separator, start, end)
            if at > start:
                return at + len(separator)
        return end

    def _take(self, cut: int) -> str:
        """Remove `_buf[:cut]` (frozen now) and shift every position kept into `_buf`."""
        taken, self._buf = self._buf[:cut], self._buf[cut:]
        if cut > self._pos:
            self._broken = True
        self._pos = max(0, self._pos - cut)
        self._boundary = max(0, self._boundary - cut)
        if self._start > 0:
            self._start = max(0, self._start - cut)
        if self._split_end >= 0:
            self._split_end -= cut
        if self._header_line is not None:
            start, end = self._header_line
            self._header_line = (start - cut, end - cut) if start >= cut else None
        return taken


def _fence_marker(stripped: str) -> str:
    """The closing marker a fence line opens (```` ``` ````, `~~~~`, …), or ""."""
    if not stripped.startswith(("```", "~~~")):
        return ""
    char = stripped[0]
    marker = char * (len(stripped) - len(stripped.lstrip(char)))
    if char == "`" and "`" in stripped[len(marker) :]:
        return ""  # an info string with a backtick: inline code, not a fence
    return marker


def _closes(stripped: str, marker: str) -> bool:
    if marker == "$$":
        return stripped.startswith("$$") or stripped.endswith("$$")
    return stripped.startswith(marker) and not stripped.strip(marker[0])


def _one_line_math(stripped: str) -> bool:
    return len(stripped) > 2 and stripped.endswith("$$")
