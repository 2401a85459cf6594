"""Model text is hostile: the one Markdown → HTML function and its allow-list."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kimi_jupyter.render.html import render_markdown, render_text, sanitize

XSS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '<iframe src="https://evil.example"></iframe>',
    '<form action="https://evil.example"><button>go</button></form>',
    "<style>body{display:none}</style>",
    '<a href="#" onclick="window.__xss=1" data-x="1">x</a>',
    '<svg onload="window.__xss=1"></svg>',
]


@pytest.mark.parametrize("payload", XSS)
def test_raw_html_from_the_model_is_escaped_text(payload: str) -> None:
    out = render_markdown(f"before {payload} after")
    assert "<script" not in out
    assert "<img" not in out
    assert "<iframe" not in out
    assert "<form" not in out
    assert "<style" not in out
    assert "<svg" not in out
    assert "&lt;" in out  # shown, not run


@pytest.mark.parametrize("payload", XSS)
def test_sanitizer_alone_strips_dangerous_markup(payload: str) -> None:
    out = sanitize(payload)
    for bad in ("<script", "onerror", "onclick", "onload", "<iframe", "<form", "<button",
                "<style", "data-x", "<svg"):  # fmt: skip
        assert bad not in out


def test_javascript_and_data_links_are_not_links() -> None:
    out = render_markdown("[a](javascript:alert(1)) [b](data:text/html,<b>x</b>) [c](vbscript:x)")
    assert "href" not in out


def test_links_open_in_a_new_tab_with_noopener() -> None:
    out = render_markdown("[docs](https://platform.kimi.ai/docs)")
    assert (
        '<a href="https://platform.kimi.ai/docs" target="_blank" rel="noopener noreferrer">docs</a>'
    ) in out


def test_images_in_model_text_become_their_alt_text_and_load_nothing() -> None:
    out = render_markdown(
        "![track](http://remote.invalid/t.png) ![dot](data:image/png;base64,iVBO) "
        "![api](/api/kernels) ![](x.png)"
    )
    assert "<img" not in out
    assert "data:" not in out
    assert '<a href="http://remote.invalid/t.png" class="kimi-image-link"' in out  # on click
    assert "image: track" in out
    assert '<span class="kimi-image-alt">image: dot</span>' in out
    assert '<span class="kimi-image-alt">image: api</span>' in out
    assert "/api/kernels" not in out
    assert '<span class="kimi-image-alt">image: x.png</span>' in out


def test_mermaid_blocks_are_plain_code() -> None:
    out = render_markdown('```mermaid\ngraph TD; A["<img src=x>"]-->B\n```')
    assert out == ('<pre><code>graph TD; A["&lt;img src=x&gt;"]--&gt;B\n</code></pre>\n')
    assert "mermaid" not in sanitize('<code class="language-mermaid">x</code>')


def test_tables_strikethrough_and_alignment() -> None:
    out = render_markdown("| a | b |\n|:--|--:|\n| 1 | ~~2~~ |")
    assert "<table>" in out
    assert '<th style="text-align:left">a</th>' in out
    assert "<s>2</s>" in out


def test_math_is_kept_for_mathjax_and_not_mangled_by_markdown() -> None:
    out = render_markdown(
        "Inline $a_1 * b_2 * c$ and\n\n$$\n\\frac{x_1}{y_2}\n$$\n\ncosts $5 or $6"
    )
    assert "$a_1 * b_2 * c$" in out
    assert "<em>" not in out
    assert "$$\\frac{x_1}{y_2}$$" in out
    assert "costs $5 or $6" in out


def test_code_blocks_are_highlighted_with_our_classes_only() -> None:
    out = render_markdown('```python\nimport os\nprint("<b>hi</b>")\n```')
    assert '<code class="language-python">' in out
    assert '<span class="kimi-hl-kn">import</span>' in out
    assert "&lt;b&gt;hi&lt;/b&gt;" in out
    unknown = render_markdown("```nosuchlang\n<x>\n```")
    assert "&lt;x&gt;" in unknown


def test_foreign_classes_are_dropped() -> None:
    assert (
        sanitize('<span class="jp-Dialog kimi-hl-k">x</span>') == '<span class="kimi-hl-k">x</span>'
    )


def test_render_text_escapes_and_keeps_lines() -> None:
    assert (
        render_text('<b onclick="x">a</b>\nb')
        == "&lt;b onclick=&quot;x&quot;&gt;a&lt;/b&gt;<br>\nb"
    )


def stock_parser() -> Any:
    """markdown-it as it was configured before the guards (images and fences aside)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    from kimi_jupyter.render import _markdown

    md = MarkdownIt("js-default")
    md.enable(["table", "strikethrough"])
    dollarmath_plugin(md, allow_digits=False, double_inline=True, renderer=_markdown._keep_math)
    md.add_render_rule("math_inline_double", _markdown._render_inline_display_math)
    md.add_render_rule("image", _markdown._render_image)
    return md


def test_the_linear_guards_render_what_markdown_it_renders() -> None:
    """Runs taken at once, label guards, the plain fast path and the table rule change the
    cost, not the output: random Markdown renders exactly as the stock parser renders it."""
    from kimi_jupyter.render._markdown import HighlightBudget, parser

    units = [*"ab *_[]()!<>&\\`~$:-#|\n", "http://x", "&amp;", "![", "](", "**", "\n\n", "> ",
             "- ", "1. ", "| a |", "|---|", "|:-:|", "\n| x | y |\n|--|--|\n", "\\|", "[[", "]]",
             "[[[", "    ", "\\\\\\", "<<<", "&&", "!!["]  # fmt: skip
    rng = random.Random(11)
    stock, ours = stock_parser(), parser()
    for _ in range(3_000):
        text = "".join(rng.choice(units) for _ in range(rng.randint(1, 40)))
        env = {"kimi_highlight": HighlightBudget(0)}
        assert ours.render(text, env) == stock.render(text), text


@pytest.mark.parametrize(
    "text",
    [
        "> " * 2_000 + "the end",
        "- " * 5_000 + "the end",
        "".join("  " * d + f"- item {d}\n" for d in range(60)) + "\nthe end",
    ],
)
def test_deep_nesting_is_shown_as_text_not_dropped(text: str) -> None:
    out = render_markdown(text)
    assert "the end" in out  # markdown-it drops everything past its nesting limit
    assert '<pre class="kimi-deep">' in out


def test_a_10000_row_table_keeps_every_row_and_cell_markup() -> None:
    rows = "".join(f"| {i} | **b{i}** |\n" for i in range(10_000))
    out = render_markdown("| a | b |\n|--:|---|\n" + rows)
    assert out.count("<tr>") == 10_001
    assert '<td style="text-align:right">9999</td>' in out
    assert "<td><strong>b9999</strong></td>" in out
