"""Model text → sanitized HTML. Model output is hostile; this is the only way it becomes HTML.

markdown-it-py (`js-default`: raw HTML is escaped, `javascript:` links are refused) with
tables, strikethrough and `$…$`/`$$…$$` math kept intact for MathJax; then nh3 with an
explicit allow-list. Images that are not inline `data:` URLs become plain links, because a
remote image fetched on render leaks data when a prompt has been injected. Code blocks are
highlighted with Pygments into `kimi-hl-*` classes that `HIGHLIGHT_CSS` styles.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "del",
    "code", "pre", "span", "div", "blockquote", "ul", "ol", "li", "a", "img", "sup", "sub",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "*": {"class"},
}
_CLASS_PREFIXES = ("kimi-", "language-", "math")
_DATA_IMAGES = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
_ALIGN = {"text-align:left", "text-align:right", "text-align:center"}

HIGHLIGHT_CSS = (
    ".kimi-hl-c,.kimi-hl-c1,.kimi-hl-cm{color:#6a737d;font-style:italic}"
    ".kimi-hl-k,.kimi-hl-kn,.kimi-hl-kd,.kimi-hl-kc,.kimi-hl-ow{color:#d73a49;font-weight:bold}"
    ".kimi-hl-s,.kimi-hl-s1,.kimi-hl-s2,.kimi-hl-sd,.kimi-hl-sa{color:#22863a}"
    ".kimi-hl-m,.kimi-hl-mi,.kimi-hl-mf{color:#005cc5}"
    ".kimi-hl-nf,.kimi-hl-nc{color:#6f42c1}.kimi-hl-nb,.kimi-hl-bp{color:#e36209}"
)


def render_markdown(text: str) -> str:
    """Markdown from the model → HTML that is safe in any frontend, trusted or not."""
    return sanitize(_parser().render(text))


def render_text(text: str) -> str:
    """Plain text (thinking, errors) → escaped HTML that keeps its line breaks."""
    return html.escape(text).replace("\n", "<br>\n")


def sanitize(fragment: str) -> str:
    """The allow-list: no script, iframe, form, button, style or event handlers, no data-*."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "class":
        kept = [c for c in value.split() if c.startswith(_CLASS_PREFIXES)]
        return " ".join(kept) or None
    if name == "src":
        return value if value.startswith(_DATA_IMAGES) else None
    if name == "href" and value.lower().startswith("data:"):
        return None
    if name == "style":  # markdown-it's table alignment, nothing else
        return value if value.replace(" ", "") in _ALIGN else None
    return value


@functools.cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("js-default", {"highlight": _highlight})
    parser.enable(["table", "strikethrough"])
    dollarmath_plugin(parser, allow_digits=False, double_inline=True, renderer=_keep_math)
    parser.add_render_rule("image", _render_image)
    parser.add_render_rule("math_inline_double", _render_inline_display_math)
    return parser


def _keep_math(content: str, options: dict[str, Any]) -> str:
    delimiter = "$$" if options.get("display_mode") else "$"
    return html.escape(f"{delimiter}{content}{delimiter}")


def _render_inline_display_math(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A <div> inside a <p> would be hoisted out by the sanitizer and break the paragraph.
    content = _keep_math(tokens[idx].content.strip(), {"display_mode": True})
    return f'<span class="math">{content}</span>'


def _render_image(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.startswith(_DATA_IMAGES):
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'
    label = html.escape(f"image: {alt or src}")
    return f'<a href="{html.escape(src)}" class="kimi-remote-image">{label}</a>'


def _highlight(code: str, lang: str, attrs: str) -> str:
    if not lang:
        return ""  # markdown-it escapes it
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang.split()[0])
    except ClassNotFound:
        return ""
    formatter = HtmlFormatter(nowrap=True, classprefix="kimi-hl-")
    return str(highlight(code, lexer, formatter))
