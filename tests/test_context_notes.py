"""A converter that sends something in place of what was asked says so, once, in the note
`--dry-run` and the status line show."""

from __future__ import annotations

from kimi_jupyter.context import Limits, Registry, note
from kimi_jupyter.conversation import Message, TextPart
from kimi_jupyter.prompting import gather
from kimi_jupyter.render.dryrun import dry_run_bundle


class Chart:
    pass


def summary_instead(obj: object, name: str | None, limits: Limits) -> list[TextPart]:
    note(f"@{name}: Chart sent as its data summary (no browser to draw it)")
    note(f"@{name}: Chart sent as its data summary (no browser to draw it)")  # said once
    return [TextPart('{"traces": 1}')]


def test_notes_join_the_not_sent_line_once_and_only_for_their_question() -> None:
    registry = Registry.with_builtins()
    registry.register(Chart, summary_instead)
    context = gather("Compare @fig with @nowhere", {"fig": Chart()}, converters=registry)
    assert context.note == (
        "@nowhere: not defined here, sent as plain text; "
        "@fig: Chart sent as its data summary (no browser to draw it)"
    )
    payload = {"model": "kimi-k2.6", "messages": [{"role": "user"}]}
    bundle = dry_run_bundle(Message("user", tuple(context.parts)), payload, note=context.note)
    assert "Not sent as asked: @nowhere: not defined here" in bundle["text/plain"]
    assert "@fig: Chart sent as its data summary" in bundle["text/html"]
    # the next question starts with no notes; a note outside a question is dropped
    note("outside any question")
    assert gather("What is @x?", {"x": 1}, converters=registry).note is None
