"""Mentions that fail: any exception is one line naming the mention; `@last` and `@In[-1]`
say which cell they read and never quietly pick another one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kimi_jupyter.context import ContextError, Registry
from kimi_jupyter.conversation import TextPart
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.mentions import Inputs, MentionError, find_mentions, is_question, resolve
from kimi_jupyter.prompting import gather
from kimi_jupyter.simulator import Simulator

from helpers import png

KEY = "sk-mention-faults-key"


class Touchy:
    """An object whose property and item access raise what user code raises."""

    @property
    def stats(self) -> Any:
        raise RuntimeError("the cache is\nnot warm")

    @property
    def empty(self) -> Any:
        raise ValueError

    def __getitem__(self, key: Any) -> Any:
        raise ValueError(f"no column {key!r} in this backend")


class BadDict(dict[str, int]):
    def items(self) -> Any:
        raise RuntimeError("items() is broken")


def one(prompt: str, namespace: dict[str, Any]) -> Any:
    (mention,) = find_mentions(prompt)
    return resolve(mention, namespace)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("see @t.stats", "@t.stats: reading .stats raised RuntimeError: the cache is not warm"),
        ("see @t.empty", "@t.empty: reading .empty raised ValueError"),
        (
            'see @t["price"]',
            "@t[\"price\"]: reading ['price'] raised ValueError: no column 'price' in this backend",
        ),
        ("see @t[3]", "@t[3]: reading [3] raised ValueError: no column 3 in this backend"),
    ],
)
def test_any_exception_from_access_is_one_line_naming_the_mention(
    prompt: str, message: str
) -> None:
    with pytest.raises(MentionError) as info:
        one(prompt, {"t": Touchy()})
    assert str(info.value) == message


def test_a_converter_that_raises_is_one_line_naming_the_mention() -> None:
    with pytest.raises(ContextError) as info:
        gather("what is in @d?", {"d": BadDict(a=1)})
    assert str(info.value) == "@d: reading it raised RuntimeError: items() is broken"
    registry = Registry.with_builtins()
    registry.register(int, lambda obj, name, limits: [TextPart(str(1 / 0))])
    with pytest.raises(ContextError, match=r"^@n: reading it raised ZeroDivisionError: "):
        gather("what is @n?", {"n": 5}, converters=registry)


def test_in_counts_back_over_code_cells_not_questions() -> None:
    history = [
        "",
        "x = 41",
        "get_ipython().run_cell_magic('kimi', '', 'what is x?\\n')",
        "y = x + 1",
        "get_ipython().run_line_magic('kimi', 'explain @In[-1]')",  # the asking cell
    ]
    namespace = {"In": history}
    assert one("explain @In[-1]", namespace) == "y = x + 1"
    assert one("explain @In[-2]", namespace) == "x = 41"
    assert one("explain @In[2]", namespace) == history[2]  # positive indices are cells
    with pytest.raises(MentionError, match=r"^@In\[-3\]: no cell -3 \(there are 2 code cells"):
        one("explain @In[-3]", namespace)
    assert isinstance(one("all of @In", namespace), Inputs)


def test_questions_are_recognised_typed_or_stored() -> None:
    assert is_question("%%kimi -s a\nwhy?")
    assert is_question("df = load()\n%kimi what is @df")
    assert is_question("get_ipython().run_cell_magic('kimi', '', 'q')")
    assert not is_question("text = '%kimi is a magic'")


# Through a real shell


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def run(ip: InteractiveShell, code: str) -> Any:
    """A cell as a kernel runs it: stored in the history, so it has an `In[n]`."""
    result = ip.run_cell(code, store_history=True)
    if result.error_in_exec is not None and not isinstance(result.error_in_exec, UsageError):
        raise result.error_in_exec
    return result


def test_a_raising_property_is_one_line_in_a_cell_and_sends_nothing(
    ip: InteractiveShell, sim: Simulator
) -> None:
    ip.user_ns["t"] = Touchy()
    before = len(sim.requests)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("kimi", "", "summarise @t.stats")
    assert str(info.value) == "@t.stats: reading .stats raised RuntimeError: the cache is not warm"
    assert len(sim.requests) == before
    assert KernelContext.current().sessions.get("default").exchanges == []


def test_dry_run_says_which_cell_last_is(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.user_ns["PNG"] = png(5, 4)
    shown = run(ip, "from IPython.display import Image, display\ndisplay(Image(data=PNG))")
    capsys.readouterr()
    run(ip, "%%kimi --dry-run\nwhat does @last show?")
    out = capsys.readouterr().out
    assert f": @last: the output of In[{shown.execution_count}]" in out
    assert "image/png 5×4" in out


def test_last_does_not_reach_past_a_cell_that_displayed_nothing(
    ip: InteractiveShell, sim: Simulator
) -> None:
    ip.user_ns["PNG"] = png(5, 4)
    shown = run(ip, "from IPython.display import Image, display\ndisplay(Image(data=PNG))")
    quiet = run(ip, "x = 1")
    before = len(sim.requests)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("kimi", "", "what does @last show?")
    assert str(info.value) == (
        f"@last: the previous cell (In[{quiet.execution_count}]) displayed nothing; "
        f"In[{shown.execution_count}] did: run it again to ask about it"
    )
    assert len(sim.requests) == before
    failed = ip.run_cell("1 / 0", store_history=True)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("kimi", "", "what does @last show?")
    assert str(info.value) == (
        f"@last: the previous cell (In[{failed.execution_count}]) displayed nothing; "
        "it raised an error: mention @error"
    )


def test_last_skips_questions_and_sends_the_image(ip: InteractiveShell, sim: Simulator) -> None:
    ip.user_ns["PNG"] = png(5, 4)
    shown = run(ip, "from IPython.display import Image, display\ndisplay(Image(data=PNG))")
    run(ip, "%%kimi --no-thinking\nwhat does @last show?")
    run(ip, "%%kimi --no-thinking\nand what colour is @last?")  # the plot again, not the answer
    parts = sim.requests[-1]["messages"][-1]["content"]
    assert parts[1]["text"].startswith(f"@last: the output of In[{shown.execution_count}]\n")
    assert parts[2]["image_url"]["url"].startswith("data:image/png;base64,")


def test_in_minus_one_is_the_cell_before_the_question(ip: InteractiveShell, sim: Simulator) -> None:
    run(ip, "answer = 41 + 1")
    run(ip, "%%kimi --no-thinking\nwhat does @In[-1] do?")
    parts = sim.requests[-1]["messages"][-1]["content"]
    assert parts[1] == {"type": "text", "text": "@In[-1]: answer = 41 + 1"}
    run(ip, "%kimi --no-thinking and @In[-1]?")  # a line question is not "the cell before"
    parts = sim.requests[-1]["messages"][-1]["content"]
    assert parts[1] == {"type": "text", "text": "@In[-1]: answer = 41 + 1"}
