"""Hostile model output through the Python HTML path and the live view: nothing loads, nothing runs.

Every vector (the shared corpus, `hostile_corpus.load()`, plus our own below) is rendered,
and the HTML is parsed with `html.parser`: every tag must be on the allow-list and none may
load anything, every attribute is checked by name and value (no `src`, `srcset`,
`background`, `style` but table alignment, no `url(`, no `javascript:`/`data:` link, no
`data:` URL at all), and every link opens in a new tab without an opener or referrer.
The live view is checked the same way after each partial update.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import hostile_corpus
import pytest

from kimi_jupyter.events import ContentDelta, ReasoningDelta
from kimi_jupyter.render.bundle import static_bundle
from kimi_jupyter.render.html import render_markdown
from kimi_jupyter.turn import Turn

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "del",
    "code", "pre", "span", "div", "blockquote", "ul", "ol", "li", "a", "sup", "sub",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip
ALIGN = {"text-align:left", "text-align:right", "text-align:center"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)  # as a browser finds it
CONTROL = re.compile(r"[\x00-\x20\x7f]+")
OURS = [
    "![x](x.png)",
    "![](/api/kernels)",
    "![x](/proxy/8888/x.png) ![y](/files/secret.txt) ![z](../../api/contents)",
    '![x](https://remote.invalid/x.png "title")',
    "![x](data:image/png;base64,iVBORw0KGgo=) ![y](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](data:text/html,<script>alert(1)</script>)",
    "[![inner](/img.png)](https://remote.invalid/)",
    "![a][ref]\n\n[ref]: /api/kernels",
    "[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [v](vbscript:msgbox(1))",
    "[x](&#106;avascript:alert(1)) [y](&#x6A;avascript:alert(1)) [z](%6Aavascript:alert(1))",
    "<javascript:alert(1)> <data:text/html,x> <https://remote.invalid/ok>",
    '<img src=x onerror=alert(1)> <img srcset="/a.png 1x"> <video src=/v.mp4 poster=/p.png>',
    "<audio src=/a.mp3></audio> <source src=/s.mp4> <link rel=stylesheet href=/x.css>",
    "<object data=/o.swf></object> <embed src=/e.swf> <iframe src=/i></iframe>",
    '<table background="/bg.png"><tr><td background="/td.png">x</td></tr></table>',
    '<div style="background:url(/x.png)">x</div> <style>@import url(/x.css)</style>',
    '<svg><image href="/x.png"/><use href="/s.svg#a"/></svg> <math><mi>x</mi></math>',
    "<input type=image src=/i.png> <body background=/b.png> <meta http-equiv=refresh>",
    '```mermaid\ngraph TD\n  A["<img src=/m.png>"] --> B\n```',
    "```mermaid\n%%{init: {'themeCSS': '.n{fill:url(/t.png)}'}}%%\ngraph TD\n  A-->B\n```",
    "```MERMAID\nflowchart TD\n  A[fa:fa-camera] --> B\n```",
    "~~~mermaid\nsequenceDiagram\n  A->>B: <img src=/s.png>\n~~~",
    "| a | b |\n|---|---|\n| ![x](/t.png) | [y](javascript:x) |\n",
    "> ![q](/quote.png)\n>\n> - ![l](/list.png)",
    "$$\n\\href{javascript:alert(1)}{x}\n$$ and $\\style{background:url(/m.png)}{x}$",
    "&lt;img src=/x.png&gt; &#60;img src=/y.png&#62; \\<img src=/z.png>",
    "<a href='/api/kernels' ping='/ping'>x</a> <form action=/f><button formaction=/b>",
]


def corpus() -> Iterator[tuple[str, str]]:
    """(id, text) of every vector in the shared corpus, then ours."""
    for vector in hostile_corpus.load():
        yield vector.id, vector.text
    for i, text in enumerate(OURS):
        yield f"ours-{i}", text


VECTORS = dict(corpus())
SMALL = {k: v for k, v in VECTORS.items() if len(v) <= 5_000}
EXPECT = {v.id: v.expect for v in hostile_corpus.load()}


class Inspector(HTMLParser):
    """Collects what in some HTML could load or run something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        names = {name for name, _ in attrs}
        for name, value in attrs:
            problem = _attribute_problem(tag, name, value or "")
            if problem:
                self.problems.append(f"<{tag} {name}={value!r}>: {problem}")
        if tag == "a" and {"target", "rel"} - names:
            self.problems.append(f"<a> without target/rel: {attrs}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")


def _attribute_problem(tag: str, name: str, value: str) -> str | None:
    allowed = {"class", "title"} | {
        "a": {"href", "target", "rel"},
        "ol": {"start"},
        "th": {"style"},
        "td": {"style"},
    }.get(tag, set())
    if name not in allowed:
        return "attribute not allowed"
    if "url(" in value.lower():
        return "CSS url()"
    if "data:" in CONTROL.sub("", value).lower():
        return "data: URL"
    if name == "style" and value.replace(" ", "") not in ALIGN:
        return "style other than alignment"
    scheme = SCHEME.match(CONTROL.sub("", value))  # browsers drop tabs and newlines too
    if name == "href" and scheme and scheme[1].lower() not in ("http", "https", "mailto"):
        return "link scheme"
    if name not in ("href", "title") and hostile_corpus.MARKER in value:  # title is text
        return "a vector's URL"
    if name == "target" and value != "_blank":
        return "target"
    if name == "rel" and value != "noopener noreferrer":
        return "rel"
    if name == "class" and any(
        not c.startswith(("kimi-", "language-", "math")) or "mermaid" in c for c in value.split()
    ):
        return "class"
    return None


def problems(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def test_the_inspector_catches_what_it_looks_for() -> None:
    bad = (
        '<img src="/x.png"><a href="javascript:x">a</a><a href="/x">b</a>'
        '<td style="background:url(/x)">c</td><video poster="/p"></video>'
        '<code class="language-mermaid">d</code><span srcset="/a 1x">e</span><!-- f -->'
    )
    found = problems(bad)
    assert len(found) == 11, found  # img twice (tag, src), video twice, javascript: twice
    good = '<a href="/x" target="_blank" rel="noopener noreferrer">ok</a>'
    assert problems(good) == []


def test_the_corpus_is_there() -> None:
    assert len(VECTORS) >= len(OURS) + 300, "tests/fixtures/hostile/*.json went missing"
    assert {v.kind for v in hostile_corpus.load()} == set(hostile_corpus.CLASSES)


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_the_python_html_path_loads_and_runs_nothing(vector: str) -> None:
    html = render_markdown(VECTORS[vector])
    assert problems(html) == []
    expect = EXPECT.get(vector, ())
    if "code-block" in expect:
        assert "<pre><code" in html
    if "link" in expect:
        assert "<a href=" in html
    if "img-data" in expect:  # an image in model text loads nothing, not even inline data
        assert "image:" in html


@pytest.mark.parametrize("vector", ["ours-0", "ours-1", "jupyter-kernels", "data-url-png"])
def test_model_images_are_alt_text(vector: str) -> None:
    text = VECTORS.get(vector, "![x](x.png)")
    html = render_markdown(text)
    assert "image:" in html
    assert "<img" not in html


def test_the_saved_output_of_every_vector_is_clean() -> None:
    for vector, text in SMALL.items():
        bundle = static_bundle(Turn(answer=text, reasoning=text), "s")
        assert problems(bundle["text/html"].replace("<style>", "").replace("</style>", "")) == [], (
            vector
        )


def test_mermaid_from_the_model_is_never_a_diagram() -> None:
    for vector, text in VECTORS.items():
        if "mermaid" in text.lower() and "```" in text:
            html = render_markdown(text)
            assert "language-mermaid" not in html, vector
            assert "<pre><code>" in html, vector


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0  # every event is due for a repaint
        return self.now


def widget_html(view: Any) -> Iterator[str]:
    for pane in (view.thinking, view.answer):
        for widget in pane.widgets:
            value = getattr(widget, "value", None)
            if isinstance(value, str):
                yield value


def test_the_live_view_is_clean_after_each_partial_update() -> None:
    from kimi_jupyter.render.widget import LiveView

    for vector, text in SMALL.items():
        view = LiveView(clock=Clock(), interval=0.0)
        view.add(ReasoningDelta(text[:200]))
        checked: set[int] = set()
        for i in range(0, len(text), 7):
            view.add(ContentDelta(text[i : i + 7]))
            for value in widget_html(view):
                if id(value) not in checked:  # each new value once
                    assert problems(value) == [], (vector, i, value)
                    checked.add(id(value))
        view.finish("done")
        assert view.answer.text == text
        view.close()


def test_the_live_view_of_the_size_vectors_is_clean() -> None:
    from kimi_jupyter.render.widget import LiveView

    for vector, text in VECTORS.items():
        if len(text) <= 5_000:
            continue
        view = LiveView(clock=Clock(), interval=0.0)
        for i in range(0, len(text), 4_096):
            view.add(ContentDelta(text[i : i + 4_096]))
            assert problems(view.answer._tail.value) == [], vector
        view.finish("done")
        for value in widget_html(view):
            assert problems(value) == [], vector
        view.close()
