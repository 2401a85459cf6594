"""A scripted agent's next step (`Move`) and the phrases its policies share (`agents`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .plan import PREFIX
from .transcript import Step, first_line

# The plot both plot policies draw after a small first one (the panel's plot-loop, --agent's
# code-loop): bigger, with readable labels.
BIGGER_PLOT = """import matplotlib.pyplot as plt

xs = list(range(10))
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(xs, [x * x for x in xs], marker="o", linewidth=2)
ax.set_title("Squares", fontsize=18)
ax.set_xlabel("x", fontsize=14)
ax.set_ylabel("x squared", fontsize=14)
ax.tick_params(labelsize=12)
plt.show()"""

Call = tuple[str, dict[str, Any]]
RUNS = ("run_cell", "run_code")  # the steps whose results carry outputs and images


@dataclass(frozen=True)
class Move:
    """A policy's next step: tool calls (with `content` said beside them), or the answer."""

    reasoning: str
    content: str
    calls: tuple[Call, ...] = ()


def call(name: str, reasoning: str, content: str = "", **arguments: Any) -> Move:
    """One tool call, with what the model thinks and says beside it."""
    return Move(reasoning, content, ((name, arguments),))


def answer(reasoning: str, text: str) -> Move:
    """The turn's answer: no calls, the text marked as the simulator's."""
    return Move(reasoning, f"{PREFIX} {text}")


def wrap_up(steps: list[Step], reasoning: str, text: str) -> Move:
    """An answer that ends the turn early, listing what was done."""
    return answer(reasoning, f"{text} {done_so_far(steps)}")


def done_so_far(steps: list[Step]) -> str:
    """The tool calls made, then what each finished run returned."""
    runs = runs_seen(steps)
    if not steps:
        return "I made no tool calls."
    names = ", ".join(step.name for step in steps)
    return f"Tool calls made: {names}." + (f"\n{runs}" if runs else "")


def bigger_labels(look: str, last: Step, doing: str) -> tuple[str, str]:
    """The reasoning and the content of the step that redraws a plot with bigger labels."""
    seen = "Looking at it, the labels are too small to read" if last.images else "No image"
    content = f"{PREFIX} {look} The labels are small, so I make them bigger."
    return f"{look} {seen}; {doing}", content


def refused_answer(last: Step, steps: list[Step], what: str = "") -> Move:
    """The answer after a step that did not happen: say which (`what`, or the call and its
    arguments), and why, and stop."""
    what = what or f"{last.name}({brief(last.arguments)})"
    why = why_not(last)
    runs = runs_seen(steps)
    return answer(
        f"{what} did not happen ({why}). I will not insist: I stop and say so.",
        f"I stopped: {what} did not happen ({why})." + (f"\n{runs}" if runs else ""),
    )


def why_not(step: Step) -> str:
    """What a step that did not happen says about it, on one line."""
    why = "no result came back" if step.result is None else clip(first_line(step.result))
    return why.rstrip(".")


def runs_seen(steps: list[Step]) -> str:
    """One line per run that happened: the image parts that came back, each size and short hash."""
    runs = [s for s in steps if s.name in RUNS and s.ran]
    return "\n".join(f"Run {n}: {images_seen(run)}." for n, run in enumerate(runs, 1))


def images_seen(step: Step) -> str:
    """`2 image parts (PNG 64x48 sha256:…, …)`: what a step's result showed the model."""
    count = len(step.images)
    noun = "image part" if count == 1 else "image parts"
    listed = ", ".join(image.describe() for image in step.images)
    return f"{count} {noun}" + (f" ({listed})" if listed else "")


def brief(arguments: dict[str, Any]) -> str:
    """A call's arguments as `k="v"`, without the code or source it carries."""
    shown = {k: v for k, v in arguments.items() if k not in ("source", "code")}
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def quoted(text: str) -> str:
    """`text` in double quotes, escaped as JSON."""
    return json.dumps(text, ensure_ascii=False)


def clip(text: str | None, limit: int = 120) -> str:
    """At most `limit` characters of `text`, an ellipsis marking a cut."""
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"
