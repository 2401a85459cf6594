"""`@` mentions: what counts as one, and resolving without running code."""

from __future__ import annotations

import pytest

from kimi_jupyter.mentions import NOT_FOUND, MentionError, find_mentions, resolve


def texts(prompt: str) -> list[str]:
    return [m.text for m in find_mentions(prompt)]


def test_the_mention_forms() -> None:
    prompt = "Compare @df.T with @res[\"auc\"], @res['f1'], @Out[3], @In[-1], @_, @last and @error."
    expected = ["@df.T", '@res["auc"]', "@res['f1']", "@Out[3]", "@In[-1]", "@_", "@last", "@error"]
    assert texts(prompt) == expected


def test_emails_and_doubled_at_are_not_mentions() -> None:
    assert texts("write to ana@example.com or @@x") == []


def test_trailing_punctuation_is_not_part_of_the_mention() -> None:
    assert texts("what is in @df? and @df.") == ["@df", "@df"]


def test_resolution_walks_attributes_and_items_only() -> None:
    class Box:
        def __init__(self) -> None:
            self.inner = {"k": [10, 20]}

    namespace = {"b": Box(), "Out": {3: "three"}, "In": ["", "x = 1"]}
    (m1, m2, m3) = find_mentions('@b.inner["k"][-1] @Out[3] @In[1]')
    assert resolve(m1, namespace) == 20
    assert resolve(m2, namespace) == "three"
    assert resolve(m3, namespace) == "x = 1"


def test_undefined_names_stay_text() -> None:
    (mention,) = find_mentions("decorate with @property")
    assert resolve(mention, {}) is NOT_FOUND
    (defined,) = find_mentions("is @x set")
    assert resolve(defined, {"x": None}) is None


def test_providers_answer_special_names() -> None:
    (mention,) = find_mentions("what does @last show")
    assert resolve(mention, {}, {"last": lambda: "shown"}) == "shown"


@pytest.mark.parametrize(
    ("prompt", "namespace", "message"),
    [
        ("@Out[99]", {"Out": {1: "a", 2: "b"}}, "@Out[99]: no entry 99 (there are 2: … 1, 2)"),
        ("@df.colums", {"df": object()}, "@df.colums: object has no attribute 'colums'"),
        ('@d["x"]', {"d": {}}, "@d[\"x\"]: no entry 'x' in this dict"),
        ("@n[0]", {"n": 5}, "@n[0]: int cannot be indexed with 0"),
        ("@o.__class__", {"o": 1}, "@o.__class__: dunder attributes are not followed"),
    ],
)
def test_missing_attributes_and_items_are_one_line_errors(
    prompt: str, namespace: dict[str, object], message: str
) -> None:
    (mention,) = find_mentions(prompt)
    with pytest.raises(MentionError) as info:
        resolve(mention, namespace)
    assert str(info.value) == message
