"""Model text is hostile: the one Markdown → HTML function and its allow-list."""

from __future__ import annotations

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


def test_links_get_noopener() -> None:
    out = render_markdown("[docs](https://platform.kimi.ai/docs)")
    assert '<a href="https://platform.kimi.ai/docs" rel="noopener noreferrer">docs</a>' in out


def test_remote_images_become_plain_links_and_inline_images_stay() -> None:
    out = render_markdown(
        "![track](http://remote.invalid/t.png) ![dot](data:image/png;base64,iVBO)"
    )
    assert '<img src="data:image/png;base64,iVBO" alt="dot">' in out
    assert "remote.invalid" in out
    assert '<img src="http' not in out
    assert '<a href="http://remote.invalid/t.png"' in out
    assert "image: track" in out


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
