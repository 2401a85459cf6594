"""The markdown-it parser behind `html.render_markdown`, with guards that keep it linear.

Model text may be built to be slow (a megabyte of `<`, `[`, deep nesting, a huge table) or to
load something (images, diagrams). Here:

- only the characters our inline rules react to stop plain text, and runs of `<`, `&`, `!`
  and backslashes are taken in one step, so a flood of them costs what prose costs;
- a link or image label must close within `MAX_LABEL` characters and nest at most
  `MAX_BRACKETS` deep, or its `[` is text (unclosed labels rescanned the rest of the text);
- blocks nested deeper than `MAX_DEPTH` are shown as preformatted text, not dropped (markdown-it
  drops everything after its nesting limit);
- inline content without markup characters (most table cells) skips the inline parser;
- images become their alt text, and `mermaid` blocks plain code: model text loads nothing;
- code is highlighted only within a per-render budget of characters (`HighlightBudget`).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt, rules_inline
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

from ._table import render_table, table_rule

MAX_DEPTH = 16  # nested blocks (a list item counts two)
MAX_LABEL = 1_000
MAX_BRACKETS = 8
HIGHLIGHT_CHARS = 100_000  # per answer; a longer block is shown without colours
_DIAGRAMS = frozenset({"mermaid", "mmd"})  # drawn by frontends: shown as code instead
# What the enabled inline rules react to (markdown-it's default set adds `:`, `-`, `#`, …,
# which here are plain text, and each would cost a full round of rules).
_MEANINGFUL = re.compile(r"[\n!$&*<\[\\\]_`~]")
_RUNS = {c: re.compile(re.escape(c) + "{2,}") for c in "<&![\\"}  # no backreference: no stack


@dataclass
class HighlightBudget:
    """Characters of code that may still be highlighted (Pygments costs several times the
    Markdown around it); shared by the chunks of one live view."""

    chars: int = HIGHLIGHT_CHARS

    def take(self, size: int) -> bool:
        if size > self.chars:
            return False
        self.chars -= size
        return True


@functools.cache
def parser() -> MarkdownIt:
    md = MarkdownIt("js-default")
    md.enable(["table", "strikethrough"])
    md.disable(["linkify", "html_inline", "html_block"])  # off in js-default anyway
    dollarmath_plugin(md, allow_digits=False, double_inline=True, renderer=_keep_math)
    md.inline.terminator_re = _MEANINGFUL
    md.inline.ruler.before("text", "kimi_runs", _runs)
    md.inline.ruler.at("link", _label_guard(rules_inline.link, 0))
    md.inline.ruler.at("image", _label_guard(rules_inline.image, 1))
    md.block.ruler.at("table", table_rule, {"alt": ["paragraph", "reference"]})
    md.block.ruler.before("table", "kimi_deep", _deep_block)
    md.core.ruler.at("inline", _inline)
    md.add_render_rule("kimi_deep", _render_deep)
    md.add_render_rule("kimi_table", render_table(_render_cell, _MEANINGFUL))
    md.add_render_rule("image", _render_image)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("math_inline_double", _render_inline_display_math)
    return md


def _runs(state: StateInline, silent: bool) -> bool:
    """`<<<<`, `&&&&`, `!!!!`: all but the last are text; `\\\\` pairs are
    backslashes; so is a run of `[` when no `]` follows close enough to close any of them."""
    pattern = _RUNS.get(state.src[state.pos])
    match = pattern.match(state.src, state.pos, state.posMax) if pattern else None
    if match is None:
        return False
    run, end = match.group(), match.end()
    if run[0] == "[" and state.src.find("]", end, min(state.posMax, end + MAX_LABEL)) >= 0:
        return False
    if run[0] == "\\":
        text, end = "\\" * (len(run) // 2), state.pos + len(run) // 2 * 2
    else:
        text, end = run[:-1], end - 1
    if not silent:
        state.pending += text
    state.pos = end
    return True


def _label_guard(
    rule: Callable[[StateInline, bool], bool], offset: int
) -> Callable[[StateInline, bool], bool]:
    def guarded(state: StateInline, silent: bool) -> bool:
        start = state.pos + offset
        if start >= state.posMax or state.src[start] != "[":
            return False
        close = state.src.find("]", start + 1, min(state.posMax, start + 1 + MAX_LABEL))
        if close < 0 or state.src.count("[", start + 1, close) > MAX_BRACKETS:
            return False
        return rule(state, silent)

    return guarded


def _deep_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if silent or state.level < MAX_DEPTH:
        return False
    line = start
    while line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
        line += 1
    token = state.push("kimi_deep", "pre", 0)
    token.content = state.getLines(start, line, state.blkIndent, False)
    token.map = [start, line]
    state.line = line
    return True


def _inline(state: StateCore) -> None:
    """The core `inline` rule, with plain content (most table cells) taken as it is."""
    md = state.md
    for token in state.tokens:
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        if _MEANINGFUL.search(token.content) is None:
            token.children.append(Token("text", "", 0, content=token.content))
        else:
            md.inline.parse(token.content, md, state.env, token.children)


def _render_cell(renderer: RendererHTML, text: str, options: OptionsDict, env: EnvType) -> str:
    md = parser()
    tokens: list[Token] = []
    md.inline.parse(text, md, env, tokens)
    for token in (*tokens, *(c for t in tokens for c in t.children or ())):
        if token.type == "text_special":  # what the core `text_join` rule does
            token.type = "text"
    return renderer.renderInline(tokens, options, env)


def _render_deep(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<pre class="kimi-deep">{escapeHtml(tokens[idx].content)}</pre>\n'


def _render_image(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An image in model text is never loaded: its alt text, as a link if it is on the web."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    label = html.escape(f"image: {alt or src}")
    if src.lower().startswith(("https://", "http://")):
        return f'<a href="{html.escape(src)}" class="kimi-image-link">{label}</a>'
    return f'<span class="kimi-image-alt">{label}</span>'


def _render_fence(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    info = unescapeAll(token.info).strip() if token.info else ""
    lang = info.split(maxsplit=1)[0] if info else ""
    if lang.lower() in _DIAGRAMS:
        lang = ""  # a diagram from the model is shown as its source, never drawn
    budget = env.get("kimi_highlight") if isinstance(env, dict) else None
    code = token.content
    body = ""
    if lang and isinstance(budget, HighlightBudget) and budget.take(len(code)):
        body = _highlight(code, lang)
    attrs = f' class="language-{escapeHtml(lang)}"' if lang else ""
    return f"<pre><code{attrs}>{body or escapeHtml(code)}</code></pre>\n"


def _highlight(code: str, lang: str) -> str:
    from pygments import highlight

    lexer = _lexer(lang.lower())
    return str(highlight(code, lexer, _formatter())) if lexer is not None else ""


@functools.lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@functools.cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, classprefix="kimi-hl-")


def _keep_math(content: str, options: dict[str, Any]) -> str:
    delimiter = "$$" if options.get("display_mode") else "$"
    return html.escape(f"{delimiter}{content}{delimiter}")


def _render_inline_display_math(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A <div> inside a <p> would be hoisted out by the sanitizer and break the paragraph.
    content = _keep_math(tokens[idx].content.strip(), {"display_mode": True})
    return f'<span class="math">{content}</span>'
