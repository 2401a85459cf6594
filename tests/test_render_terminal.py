"""Model text on a terminal: no escape sequence or control character gets through (A6)."""

from __future__ import annotations

import io
import random

import pytest

from kimi_jupyter.events import ContentDelta, ReasoningDelta, Usage
from kimi_jupyter.render.bundle import one_line
from kimi_jupyter.render.text import TextView
from kimi_jupyter.terminal import (
    TerminalFilter,
    bidi_notice,
    strip_bidi,
    strip_terminal,
)
from kimi_jupyter.turn import Turn

ESC = "\x1b"
HOSTILE = {
    "osc52 clipboard": (f"a{ESC}]52;c;cm0gLXJmIH4K\x07b", "ab"),
    "osc52 st": (f"a{ESC}]52;c;cm0gLXJmIH4K{ESC}\\b", "ab"),
    "osc8 link": (f"{ESC}]8;;https://evil.invalid{ESC}\\click{ESC}]8;;{ESC}\\", "click"),
    "osc title": (f"{ESC}]0;pwned\x07x", "x"),
    "csi colour": (f"{ESC}[31mred{ESC}[0m", "red"),
    "csi clear": (f"{ESC}[2J{ESC}[H{ESC}[?25lhidden cursor", "hidden cursor"),
    "csi private": (f"{ESC}[?1049h{ESC}[>4;2m{ESC}[1 q.", "."),
    "dcs": (f"{ESC}Pq#0;2;0;0;0#1!7~{ESC}\\ok", "ok"),
    "apc pm sos": (f"{ESC}_a{ESC}\\{ESC}^b{ESC}\\{ESC}Xc{ESC}\\d", "d"),
    "8-bit csi osc": ("\x9b31mx\x9d52;c;eA==\x9cy", "xy"),
    "nf and fe": (f"{ESC}(0{ESC}#8{ESC}c{ESC}7{ESC}8z", "z"),
    "c0": ("a\x07b\x08c\rd\x00e\x0cf\x7fg", "abcdefg"),
    "kept": ("tab\there\nnew line", "tab\there\nnew line"),
    "bidi": ("safe\u202eevil\u202c \u2066x\u2069", "safeevil x"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_sequences_and_controls_are_stripped(name: str) -> None:
    text, expected = HOSTILE[name]
    assert strip_terminal(text) == expected


@pytest.mark.parametrize("name", HOSTILE)
def test_a_sequence_split_across_deltas_is_still_stripped(name: str) -> None:
    text, expected = HOSTILE[name]
    for _ in range(20):
        stream, out, i = TerminalFilter(), [], 0
        rng = random.Random(name)
        while i < len(text):
            step = rng.randint(1, 4)
            out.append(stream.feed(text[i : i + step]))
            i += step
        out.append(stream.flush())
        assert "".join(out) == expected
    one_by_one = TerminalFilter()
    assert "".join(one_by_one.feed(c) for c in text) + one_by_one.flush() == expected


def test_an_unfinished_sequence_is_held_then_dropped_or_given_up() -> None:
    stream = TerminalFilter()
    assert stream.feed(f"before {ESC}]52;c;") == "before "
    assert stream.feed("ZXZpbA==") == ""
    assert stream.flush() == ""
    endless = TerminalFilter()
    shown = endless.feed(f"{ESC}]52;" + "A" * 10_000)
    assert ESC not in shown
    assert shown.endswith("AAAA")  # an OSC that never ends does not swallow the answer


def test_plain_text_passes_unchanged_and_fast_path_keeps_unicode() -> None:
    text = "Résumé — 日本語 🎉 `code` **bold** \\[x\\]"
    assert TerminalFilter().feed(text) == text


def text_view(color: bool) -> tuple[TextView, io.StringIO]:
    out = io.StringIO()
    return TextView(out, color=color), out


@pytest.mark.parametrize("color", [True, False])
def test_the_text_view_prints_no_model_escape(color: bool) -> None:
    view, out = text_view(color)
    hostile = f"x{ESC}]52;c;ZXZpbA==\x07y{ESC}[2J{ESC}]8;;http://e{ESC}\\z\u202e"
    for i in range(0, len(hostile), 3):
        view.add(ReasoningDelta(hostile[i : i + 3]))
    for i in range(0, len(hostile), 2):
        view.add(ContentDelta(hostile[i : i + 2]))
    turn = Turn(answer=hostile, reasoning=hostile, model=f"m{ESC}]0;t\x07", usage=Usage(1, 1, 2))
    view.finish(turn)
    written = out.getvalue()
    ours = written.replace("\x1b[2m", "").replace("\x1b[0m", "") if color else written
    assert ESC not in ours
    assert "\u202e" not in ours
    assert "xyz" in ours
    assert "— m · 2 tokens" in ours


def test_an_unstreamed_answer_and_an_error_are_stripped_too() -> None:
    view, out = text_view(False)
    view.notify(f"retrying: {ESC}]52;c;eA==\x07server said no")
    turn = Turn(answer=f"a{ESC}[31mb", status="failed", error=f"boom{ESC}]0;x\x07!")
    view.finish(turn)
    assert ESC not in out.getvalue()
    assert "[retrying: server said no]" in out.getvalue()
    assert "ab" in out.getvalue()
    assert "[Failed: boom!]" in out.getvalue()


def test_one_line_drops_whole_sequences_and_bidi() -> None:
    assert one_line(f"evil{ESC}[31m name\u202e\u2066x") == "evil namex"
    assert one_line(f"{ESC}]8;;http://e{ESC}\\link{ESC}]8;;{ESC}\\ here") == "link here"


def test_bidi_is_taken_out_of_code_with_a_count_for_the_notice() -> None:
    code = 'if access_level != "none\u202e \u2066# admin\u2069 \u2066":\n    pass'
    clean, count = strip_bidi(code)
    assert count == 4
    assert clean == 'if access_level != "none # admin ":\n    pass'
    assert strip_bidi("plain") == ("plain", 0)
    assert "removed 4 bidirectional" in bidi_notice(4)
    assert "\n" not in bidi_notice(4)
