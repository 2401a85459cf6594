"""The scripted policies that run code in the kernel: `code-loop` and `clean-plot` (`agents`).

They call one tool, `run_code(code)`, which `%%kimi --agent` declares: the code runs in the
user's namespace and the result carries what it printed, its errors and its figures as
image parts. The code they write is plain pandas and matplotlib that works on any small
DataFrame, so a notebook driven by the simulator shows a believable turn.
"""

from __future__ import annotations

import re

from .moves import (
    BIGGER_PLOT,
    Move,
    answer,
    bigger_labels,
    call,
    clip,
    images_seen,
    refused_answer,
    runs_seen,
)
from .plan import PREFIX
from .transcript import Step, Turn, first_line

RUN = "run_code"
SQUARES = """# Squares, small labels
import matplotlib.pyplot as plt

xs = list(range(10))
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(xs, [x * x for x in xs], marker="o")
ax.set_title("Squares", fontsize=7)
ax.set_xlabel("x", fontsize=6)
ax.set_ylabel("x squared", fontsize=6)
ax.tick_params(labelsize=6)
plt.show()"""
BIGGER_SQUARES = "# Squares, bigger labels\n" + BIGGER_PLOT
# `<df>` stands for the mentioned DataFrame's name.
INSPECT = """# Look at <df>: size, columns and types, missing values, first rows
print(f"rows before: {len(<df>)}")
<df>.info()
print("\\nmissing values per column:")
print(<df>.isna().sum().to_string())
print("\\nfirst rows:")
print(<df>.head(10).to_string())"""
CLEAN = """# Clean <df> into <df>_clean: trim text, parse numbers and dates, drop duplicates, gaps
import pandas as pd


def _commonest(spellings):
    counts = spellings.value_counts()
    return next(s for s in spellings.unique() if counts[s] == counts.max())  # ties: first seen


def _cleaned(frame):
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype("string").str.strip().str.replace(r"\\s+", " ", regex=True)
        text = text.replace("", pd.NA)
        if "date" in str(column).lower():
            frame[column] = pd.to_datetime(text, errors="coerce", format="mixed")
            continue
        numbers = pd.to_numeric(text.str.replace(r"[,$€£%]", "", regex=True), errors="coerce")
        if text.notna().any() and numbers.notna().sum() >= 0.8 * text.notna().sum():
            frame[column] = numbers
        else:  # one spelling per value: the commonest of "north", "North", "NORTH"
            key = text.str.lower()
            frame[column] = key.map(text.groupby(key, sort=False).agg(_commonest))
    before = len(frame)
    frame = frame.drop_duplicates()
    print(f"rows before: {before}")
    print(f"duplicate rows dropped: {before - len(frame)}")
    kept = len(frame)
    frame = frame.dropna().reset_index(drop=True)
    print(f"rows with a missing or unreadable value dropped: {kept - len(frame)}")
    print(f"rows after: {len(frame)}")
    return frame


<df>_clean = _cleaned(<df>)
del _cleaned, _commonest
print(<df>_clean.dtypes.to_string())"""
CHART = """# <heading>
import matplotlib.pyplot as plt
import pandas as pd


def _chart(frame):
    numbers = frame.select_dtypes("number").columns
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if len(numbers) == 0:
        raise ValueError("<df>_clean has no numeric column to chart")
    y = numbers[0]
    series = frame.groupby(dates[0])[y].sum().sort_index() if dates else frame[y]
    fig, ax = plt.subplots(figsize=<figsize>)
    ax.plot(series.index, series.to_numpy(), marker="o"<linewidth>)
    ax.set_title(f"{y} per {dates[0]}" if dates else f"{y} by row"<title>)
    ax.set_xlabel(str(dates[0]) if dates else "row"<label>)
    ax.set_ylabel(str(y)<label>)<extra>
    plt.show()


_chart(<df>_clean)
del _chart"""
_FIRST_CHART = {
    "<heading>": "Chart <df>_clean: its first numeric column, summed per date (or by row)",
    "<figsize>": "(6, 3.5)",
    "<linewidth>": "",
    "<title>": "",
}
_SECOND_CHART = {
    "<heading>": "Chart <df>_clean again: bigger fonts, readable dates",
    "<figsize>": "(7, 4)",
    "<linewidth>": ", linewidth=2",
    "<title>": ", fontsize=16",
    "<label>": ", fontsize=13",
    "<extra>": """
    ax.tick_params(labelsize=11)
    ax.grid(alpha=0.3)
    if dates:
        fig.autofmt_xdate()  # slanted date ticks do not run into each other
    fig.tight_layout()""",
}
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z_]\w*)")
_DROPPED = {  # what the cleaning code prints → how the answer says it
    "duplicate rows dropped": "duplicate",
    "rows with a missing or unreadable value dropped": "with a missing or unreadable value",
}


def _run(code: str, reasoning: str, content: str = "") -> Move:
    return call(RUN, reasoning, content, code=code)


def _purpose(step: Step) -> str:
    """What a run was for: its code's first comment line, else its first line."""
    code = str(step.arguments.get("code") or "")
    return clip(first_line(code).lstrip("# "), 80) or "empty code"


# --- code-loop -------------------------------------------------------------------------


def code_loop(turn: Turn) -> Move:
    """run (small labels) → look at the images → run (bigger labels) → answer."""
    runs = [s for s in turn.steps if s.name == RUN]
    if not runs:
        reasoning = "I plot the squares first, then look at the picture."
        return _run(SQUARES, reasoning, f"{PREFIX} First I plot the squares.")
    last = runs[-1]
    if not last.ran:
        return refused_answer(last, turn.steps, f"{RUN} ({_purpose(last)})")
    look = f"Run {len(runs)} returned {images_seen(last)}."
    failed = last.raised
    if failed:
        return _rewrite(last, runs, look, failed, turn.steps)
    good = [run for run in runs if not run.raised]
    if len(good) == 1:
        reasoning, content = bigger_labels(look, last, "I run it again with bigger labels.")
        return _run(BIGGER_SQUARES, reasoning, content)
    return answer(
        f"{look} The labels are readable now; I am done.",
        "Done: I plotted the squares, looked at the picture, enlarged its labels and ran it "
        f"again.\n{runs_seen(turn.steps)}",
    )


def _rewrite(last: Step, runs: list[Step], look: str, failed: str, steps: list[Step]) -> Move:
    if len(runs) > 1 and runs[-2].raised:
        return answer(
            f"{look} It raised {failed} again after my rewrite; I stop rather than loop.",
            f"I stopped: my code raised {failed} twice in a row, so I ran nothing else.\n"
            f"{runs_seen(steps)}",
        )
    code = str(last.arguments.get("code") or SQUARES)
    body = code.partition("\n")[2] if code.startswith("#") else code
    rewritten = f"# {_purpose(last)}, rewritten after {failed}\n{body}"
    reasoning = f"{look} It raised {failed}; I rewrite the code and run it once more."
    return _run(rewritten, reasoning, f"{PREFIX} {look} It raised {failed}, so I rewrite it.")


# --- clean-plot ------------------------------------------------------------------------


def mentioned(text: str) -> str | None:
    """The first `@name` of the user's message: the DataFrame to clean."""
    match = _MENTION.search(text)
    return match.group(1) if match else None


def clean_plot(turn: Turn) -> Move:
    """inspect → clean → chart → look → chart again (bigger fonts) → answer with the counts."""
    name = mentioned(turn.asked)
    if name is None:
        return answer(
            "The user did not say which data: their message mentions no @name.",
            "Which data should I clean and plot? Mention the DataFrame with @, e.g. "
            '"clean @sales and plot it".',
        )
    runs = [s for s in turn.steps if s.name == RUN]
    if not runs:
        reasoning = f"I look at {name} first: its columns, types, missing values, first rows."
        content = f"{PREFIX} First I look at {name}: its columns, types and missing values."
        return _run(INSPECT.replace("<df>", name), reasoning, content)
    last = runs[-1]
    if not last.ran:
        return refused_answer(last, turn.steps, f"{RUN} ({_purpose(last)})")
    failed = last.raised
    if failed:
        return _failed(name, last, runs, failed)
    return _CLEAN_STEPS[min(len(runs), len(_CLEAN_STEPS)) - 1](name, runs)


def _clean(name: str, runs: list[Step]) -> Move:
    rows = _count(runs, "rows before")
    seen = f"{name} has {rows} rows" if rows is not None else f"I have looked at {name}"
    reasoning = (
        f"{seen}. I clean it into {name}_clean: trim the text, read numbers and dates that "
        "are stored as text, then drop duplicate rows and rows with a missing value."
    )
    return _run(CLEAN.replace("<df>", name), reasoning, f"{PREFIX} {seen}; now I clean it.")


def _chart(name: str, runs: list[Step]) -> Move:
    made = f"{name}_clean is made: {_rows(runs)}."
    reasoning = f"{made} I chart its first numeric column."
    return _run(_chart_code(name, _FIRST_CHART), reasoning, f"{PREFIX} {made} Now I chart it.")


def _look(name: str, runs: list[Step]) -> Move:
    look = f"The chart came back as {images_seen(runs[-1])}."
    if not runs[-1].images:
        return answer(f"{look} I cannot look at it, so I stop here.", _summary(name, runs, look))
    reasoning = f"{look} Looking at it, the fonts are small and the dates crowd each other."
    content = f"{PREFIX} {look} I make the fonts bigger and the dates readable."
    return _run(_chart_code(name, _SECOND_CHART), reasoning, content)


def _done(name: str, runs: list[Step]) -> Move:
    seen = "\n".join(f"Chart {n}: {images_seen(run)}." for n, run in enumerate(runs[2:], 1))
    return answer(
        f"The second chart came back as {images_seen(runs[-1])}; it reads well. I am done.",
        _summary(name, runs, seen),
    )


_CLEAN_STEPS = (_clean, _chart, _look, _done)


def _chart_code(name: str, values: dict[str, str]) -> str:
    code = CHART
    for token in ("<heading>", "<figsize>", "<linewidth>", "<title>", "<label>", "<extra>"):
        code = code.replace(token, values.get(token, ""))
    return code.replace("<df>", name)


def _summary(name: str, runs: list[Step], seen: str) -> str:
    rows = _rows(runs)
    rows = rows[0].upper() + rows[1:]
    return f"Done: I cleaned {name} into {name}_clean and charted it.\n{rows}.\n{seen}"


def _failed(name: str, last: Step, runs: list[Step], failed: str) -> Move:
    step = f"step {len(runs)} ({_purpose(last)})"
    made = f" {name}_clean is made: {_rows(runs)}." if len(runs) > 2 else ""
    return answer(
        f"My {step} raised {failed}. I will not guess at a fix in a loop: I explain and stop.",
        f"I stopped: my {step} raised {_error_line(last.result or '', failed)}, so I ran "
        f"nothing else.{made} Fix the data or tell me more, and ask again.",
    )


def _error_line(text: str, failed: str) -> str:
    """`ValueError: the message`, as the output said it, else the exception's name."""
    for line in text.splitlines():
        line = line.removeprefix("[error]").strip()
        if line.startswith(f"{failed}:"):
            return clip(line)
    return failed


def _count(runs: list[Step], label: str) -> int | None:
    """The last `label: N` a run printed."""
    pattern = re.compile(rf"{re.escape(label)}: (\d+)\s*$", re.MULTILINE)
    found = [int(m.group(1)) for run in runs for m in pattern.finditer(run.result or "")]
    return found[-1] if found else None


def _rows(runs: list[Step]) -> str:
    """`9 rows before, 6 after (3 dropped: 2 duplicate, 1 with …)`, from what was printed."""
    before, after = _count(runs, "rows before"), _count(runs, "rows after")
    if before is None or after is None:
        return "the row counts are not in the output I got"
    dropped = [f"{n} {said}" for label, said in _DROPPED.items() if (n := _count(runs, label))]
    why = f": {', '.join(dropped)}" if dropped else ""
    return f"{before} rows before, {after} after ({before - after} dropped{why})"
