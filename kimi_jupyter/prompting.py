"""A prompt's mentions → the content parts sent with it (the magics and the chat share this)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kimi_jupyter.context import Limits, Registry, note, sha256
from kimi_jupyter.context._notes import collecting
from kimi_jupyter.context.cells import RECENT, Wanted, cell_parts
from kimi_jupyter.context.notebook import find_notebook
from kimi_jupyter.conversation import MediaPart, Part, TextPart
from kimi_jupyter.errors import KimiError
from kimi_jupyter.mentions import (
    NOT_FOUND,
    Mention,
    MentionError,
    cell_ref,
    find_mentions,
    input_number,
    is_notebook,
    resolve,
)


@dataclass(frozen=True)
class PartsOf:
    """A provider's answer that is already content parts (`@last`, `@error`).

    `sources`: for an image part (by index), the object it was drawn from, when the kernel
    still has it (a matplotlib figure the inline backend displayed), so that mentioning that
    object too sends the picture once.
    """

    parts: list[Part]
    sources: Mapping[int, object] = field(default_factory=dict)


@dataclass
class Context:
    """What a prompt's mentions resolved to: parts to send, and mentions left as text."""

    parts: list[Part] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)  # converters' notes (`_notes.py`)

    @property
    def note(self) -> str | None:
        """What was not sent as asked, in one line (`--dry-run`, the status line)."""
        said = list(self.substituted)
        if self.unresolved:
            names = ", ".join(self.unresolved)
            said.insert(0, f"{names}: not defined here, sent as plain text")
        return "; ".join(said) or None


def gather(
    prompt: str,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None = None,
    limits: Limits | None = None,
    *,
    converters: Registry | None = None,
) -> Context:
    """Resolve every mention once, in order; raises `MentionError` / `ContextError`."""
    context = Context()
    with collecting() as notes:
        _resolve_all(prompt, namespace, providers, limits, converters, context)
    context.substituted.extend(notes)
    context.parts = once_each(context.parts)
    leftover = prompt
    for text in context.resolved:
        leftover = leftover.replace(text, "")
    if context.resolved and not leftover.strip(" \t\n.,;:?!"):
        names = ", ".join(context.resolved)
        raise KimiError(f"the question is empty apart from {names}: say what you want to know")
    return context


def _resolve_all(
    prompt: str,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None,
    limits: Limits | None,
    converters: Registry | None,
    context: Context,
) -> None:
    seen: set[str] = set()
    pictured: dict[int, str] = {}  # id of an object already sent as a picture → its mention
    mentions = find_mentions(prompt)
    notebook_sent = False
    for mention in mentions:
        if mention.text in seen:
            continue
        seen.add(mention.text)
        if is_notebook(mention) or cell_ref(mention) is not None:
            if not notebook_sent:  # all of them at once, at the first
                context.parts.extend(_notebook_parts(mention, mentions, prompt, namespace, limits))
                notebook_sent = True
            context.resolved.append(mention.text)
            continue
        value = resolve(mention, namespace, providers)
        if value is NOT_FOUND:
            context.unresolved.append(mention.text)
            continue
        context.resolved.append(mention.text)
        if isinstance(value, PartsOf):
            said: set[str] = set()
            for index, part in enumerate(value.parts):
                source = value.sources.get(index)
                key = _picture_key(source) if source is not None else None
                earlier = pictured.get(key) if key is not None else None
                if earlier is not None and earlier != mention.text:
                    if earlier not in said:  # the picture's parts give way to one line
                        said.add(earlier)
                        context.parts.append(
                            TextPart(f"{mention.text}: the same figure as {earlier}")
                        )
                    continue
                if key is not None and isinstance(part, MediaPart):
                    pictured[key] = mention.text
                context.parts.append(part)
            continue
        registry = converters or Registry.default()
        context.parts.extend(_converted(value, mention.text, registry, limits, pictured))
        output = _output_of(mention, namespace, providers)
        if output is not None and output[0] not in seen:  # `@In[N]` brings `Out[N]` along
            seen.add(output[0])
            context.parts.extend(_converted(output[1], output[0], registry, limits, pictured))


def _converted(
    value: Any, text: str, registry: Registry, limits: Limits | None, pictured: dict[int, str]
) -> list[Part]:
    """The parts for one mentioned object; a figure already sent is one line instead."""
    earlier = pictured.get(_picture_key(value))
    if earlier is not None:
        return [TextPart(f"{text}: the same figure as {earlier}")]
    parts = list(registry.convert(value, text[1:], limits=limits))
    if any(isinstance(part, MediaPart) for part in parts):
        pictured[_picture_key(value)] = text
    return parts


def _output_of(
    mention: Mention,
    namespace: Mapping[str, Any],
    providers: Mapping[str, Callable[[], Any]] | None,
) -> tuple[str, Any] | None:
    """`("@Out[N]", value)` for an `@In[N]` whose cell had a result, else None."""
    if "In" in (providers or {}):
        return None
    number = input_number(mention, namespace)
    results = namespace.get("Out")
    if number is None or not isinstance(results, Mapping) or number not in results:
        return None
    return f"@Out[{number}]", results[number]


def _notebook_parts(
    first: Mention,
    mentions: Sequence[Mention],
    prompt: str,
    namespace: Mapping[str, Any],
    limits: Limits | None,
) -> list[Part]:
    """`@notebook` and every `@cell:N` of the prompt (`first` is the first of them), as one
    block (`context.cells`)."""
    notebook = find_notebook(namespace, prompt)
    if notebook is None:
        raise MentionError(
            f"{first.text}: this kernel cannot see its notebook (no page with kimi-jupyter sent it "
            "and no saved notebook file is known); ask from JupyterLab or Notebook 7, or "
            "mention @In[N] (the cell that ran as In[N])"
        )
    wanted: list[Wanted] = []
    for mention in mentions:
        ref = cell_ref(mention)
        index = notebook.index_of(ref) if ref is not None else None
        if ref is not None and index is None:
            count = len(notebook.cells)
            raise MentionError(
                f"{mention.text}: no such cell in {notebook.name or 'this notebook'} "
                f"(it has {count}: @cell:1 to @cell:{count}, or a cell's id)"
            )
        if index is not None:
            wanted.append(Wanted(index, mention.text))
    whole = any(is_notebook(m) for m in mentions)
    if whole:
        numbers = ((m.text, input_number(m, namespace)) for m in mentions)
        ran = ((text, notebook.ran_as(n)) for text, n in numbers if n is not None)
        wanted.extend(Wanted(i, text) for text, i in ran if i is not None)
        why = "just above the question" if notebook.current is not None else "run last"
        wanted.extend(Wanted(i, why) for i in notebook.recent(RECENT))
    if notebook.saved:
        note(f"{first.text}: read from {notebook.name} as last saved")
    return cell_parts(notebook, wanted, limits or Limits(), listing=whole)


def once_each(parts: Sequence[Part]) -> list[Part]:
    """`parts` with each image or video sent once: a later copy (same SHA-256, e.g. two
    names for equal bytes) is dropped, and its label, if it has one, says so."""
    seen: set[str] = set()
    kept: list[Part] = []
    for part in parts:
        if not isinstance(part, MediaPart):
            kept.append(part)
            continue
        digest = sha256(part)
        if digest not in seen:
            seen.add(digest)
            kept.append(part)
            continue
        label = kept[-1] if kept else None
        if isinstance(label, TextPart) and label.text.startswith("@") and "\n" not in label.text:
            kept[-1] = TextPart(label.text + _SAME_IMAGE)
    return kept


_SAME_IMAGE = " (the same image as above, sent once)"


def _picture_key(obj: object) -> int:
    """One key for a figure and its axes (`@ax` draws `ax.figure`)."""
    try:
        figure = getattr(type(obj), "figure", None) is not None and getattr(obj, "figure", None)
    # A user object's property may raise anything; then it is its own key.
    except Exception:  # noqa: BLE001
        return id(obj)
    is_figure = type(figure).__name__ in ("Figure", "SubFigure")
    return id(figure) if is_figure else id(obj)
