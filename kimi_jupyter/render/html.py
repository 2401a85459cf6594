"""Model text → sanitized HTML. Model output is hostile; this is the only way it becomes HTML.

markdown-it-py (`js-default`: raw HTML is escaped, `javascript:` links are refused) with
tables, strikethrough and `$…$`/`$$…$$` math kept intact for MathJax, and guards that keep
its cost linear (`_markdown.py`); then nh3 with an explicit allow-list. Model text causes no
request: an image becomes its alt text (a link to it if it is on the web, so it loads only
when clicked), there is no tag that loads anything (`img`, `video`, `link`, …), no `style`
but table alignment, and a `mermaid` block is shown as code, not drawn. Links open in a new
tab with `rel="noopener noreferrer"`. Code blocks are highlighted with Pygments into
`kimi-hl-*` classes that `HIGHLIGHT_CSS` styles.
"""

from __future__ import annotations

import html
import re

import nh3

from ._markdown import HighlightBudget, parser

__all__ = ["HIGHLIGHT_CSS", "HighlightBudget", "render_markdown", "render_text", "sanitize"]

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "del",
    "code", "pre", "span", "div", "blockquote", "ul", "ol", "li", "a", "sup", "sub",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "*": {"class"},
}
_CLASS_PREFIXES = ("kimi-", "language-", "math")
_DIAGRAM_CLASSES = ("language-mermaid", "language-mmd")
_ALIGN = {"text-align:left", "text-align:right", "text-align:center"}

HIGHLIGHT_CSS = (
    ".kimi-hl-c,.kimi-hl-c1,.kimi-hl-cm{color:#6a737d;font-style:italic}"
    ".kimi-hl-k,.kimi-hl-kn,.kimi-hl-kd,.kimi-hl-kc,.kimi-hl-ow{color:#d73a49;font-weight:bold}"
    ".kimi-hl-s,.kimi-hl-s1,.kimi-hl-s2,.kimi-hl-sd,.kimi-hl-sa{color:#22863a}"
    ".kimi-hl-m,.kimi-hl-mi,.kimi-hl-mf{color:#005cc5}"
    ".kimi-hl-nf,.kimi-hl-nc{color:#6f42c1}.kimi-hl-nb,.kimi-hl-bp{color:#e36209}"
    ".kimi-deep{white-space:pre-wrap}"
)


def render_markdown(text: str, *, highlight: HighlightBudget | None = None) -> str:
    """Markdown from the model → HTML that is safe in any frontend, trusted or not.

    `highlight` is how much code may still be coloured (a fresh budget per call if None);
    a live view passes one budget to all the pieces of one answer.
    """
    env = {"kimi_highlight": highlight if highlight is not None else HighlightBudget()}
    return _disarm_math_loaders(sanitize(parser().render(text, env)))


_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.DOTALL | re.IGNORECASE)
_REQUIRE = re.compile(r"\\(?=(?:<[^>]*>)*r(?:<[^>]*>)*e(?:<[^>]*>)*q(?:<[^>]*>)*u(?:<[^>]*>)*"
                      r"i(?:<[^>]*>)*r(?:<[^>]*>)*e(?![A-Za-z]))")  # fmt: skip


def _disarm_math_loaders(markup: str) -> str:
    """MathJax's `\\require{…}` loads code from the server when a frontend typesets trusted
    HTML: outside code, its backslash becomes a look-alike (U+29F5), also across tags."""
    pieces = _CODE.split(markup)
    return "".join(p if i % 2 else _REQUIRE.sub("\u29f5", p) for i, p in enumerate(pieces))


def render_text(text: str) -> str:
    """Plain text (thinking, errors) → escaped HTML that keeps its line breaks."""
    return _disarm_math_loaders(html.escape(text).replace("\n", "<br>\n"))


def sanitize(fragment: str) -> str:
    """The allow-list: no script, iframe, form, button, style or event handlers, no data-*,
    nothing that loads a resource (no img, media, link, object, srcset, CSS `url()`)."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "class":
        kept = [
            c for c in value.split() if c.startswith(_CLASS_PREFIXES) and c not in _DIAGRAM_CLASSES
        ]
        return " ".join(kept) or None
    if name == "style":  # markdown-it's table alignment, nothing else
        return value if value.replace(" ", "") in _ALIGN else None
    return value
