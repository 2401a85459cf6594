"""Function tool schemas (Kimi's rules, KIMI_WIRE §2 and §2.5) and argument binding."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NewType, Optional, Union

import pytest
from jsonschema import Draft202012Validator

from kimi_jupyter._binding import bind
from kimi_jupyter._schema import (
    FunctionSchema,
    ToolArgumentError,
    ToolDefinitionError,
    function_schema,
)
from kimi_jupyter.errors import KimiError

_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{2,63}$")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    """A point on the page.

    Attributes:
        x: Distance from the left edge.
        y: Distance from the top edge.
    """

    x: float
    y: float = 0.0


@dataclass
class Shape:
    name: str
    color: Color
    points: list[Point]
    parent: Point | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Node:
    children: list[Node]


@dataclass
class Range:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not be above high")


@dataclass(frozen=True)
class FieldInfo:
    """Duck-typed stand-in for pydantic's `Field(description=...)`."""

    description: str | None


class DataFrame:
    """Stand-in for pandas.DataFrame: nothing JSON can carry."""


UserId = NewType("UserId", int)


def checked_schema(func: Callable[..., Any], **kwargs: Any) -> FunctionSchema:
    """`function_schema`, with every schema this file produces checked against Kimi's rules."""
    schema = function_schema(func, **kwargs)
    assert_kimi_rules(schema)
    return schema


def assert_kimi_rules(schema: FunctionSchema) -> None:
    wire = schema.to_wire()
    assert wire["type"] == "function"
    assert _NAME.match(wire["function"]["name"])
    assert isinstance(wire["function"]["description"], str)
    parameters = wire["function"]["parameters"]
    Draft202012Validator.check_schema(parameters)
    assert "$schema" not in parameters
    assert parameters["type"] == "object"
    assert parameters["additionalProperties"] is False
    assert_typed_everywhere(parameters, "parameters")


def assert_typed_everywhere(node: dict[str, Any], where: str) -> None:
    """Moonshot rejects nested properties without `type`: check every property, item, value
    and branch; an `anyOf` counts as typed when each branch is."""
    if "anyOf" in node:
        for i, branch in enumerate(node["anyOf"]):
            assert_typed_everywhere(branch, f"{where}.anyOf[{i}]")
    else:
        assert "type" in node, f"{where} has no type"
    for name, sub in node.get("properties", {}).items():
        assert_typed_everywhere(sub, f"{where}.{name}")
    assert not isinstance(node.get("items"), list), f"{where}: tuple items, not prefixItems"
    if isinstance(node.get("items"), dict):
        assert_typed_everywhere(node["items"], f"{where}.items")
    for i, sub in enumerate(node.get("prefixItems", [])):
        assert_typed_everywhere(sub, f"{where}.prefixItems[{i}]")
    if isinstance(node.get("additionalProperties"), dict):
        assert_typed_everywhere(node["additionalProperties"], f"{where}.additionalProperties")


def param_schema(annotation: Any) -> dict[str, Any]:
    """The schema of a one-parameter tool's parameter annotated with `annotation`."""

    def probe(value):
        return value

    probe.__annotations__ = {"value": annotation}
    schema = checked_schema(probe)
    assert schema.parameters["required"] == ["value"]
    return dict(schema.parameters["properties"]["value"])


POINT = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "description": "Distance from the left edge."},
        "y": {"type": "number", "description": "Distance from the top edge.", "default": 0.0},
    },
    "required": ["x"],
    "additionalProperties": False,
}

ANNOTATIONS = {
    "int": (int, {"type": "integer"}),
    "float": (float, {"type": "number"}),
    "str": (str, {"type": "string"}),
    "bool": (bool, {"type": "boolean"}),
    "any": (Any, {"type": "string", "description": "passed as text"}),
    "object": (object, {"type": "string", "description": "passed as text"}),
    "annotated-any": (
        Annotated[Any, "A label."],
        {"type": "string", "description": "A label. (passed as text)"},
    ),
    "list": (list[int], {"type": "array", "items": {"type": "integer"}}),
    "bare-list": (list, {"type": "array"}),
    "list-any": (list[Any], {"type": "array"}),
    "sequence": (Sequence[str], {"type": "array", "items": {"type": "string"}}),
    "set": (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    "tuple-ellipsis": (tuple[float, ...], {"type": "array", "items": {"type": "number"}}),
    "tuple-fixed": (
        tuple[int, str],
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
    ),
    "dict": (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    "dict-any": (dict[str, Any], {"type": "object"}),
    "literal-str": (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
    "literal-int": (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
    "literal-mixed": (Literal["auto", 0], {"type": ["string", "integer"], "enum": ["auto", 0]}),
    "enum-str": (Color, {"type": "string", "enum": ["red", "blue"]}),
    "enum-int": (Level, {"type": "integer", "enum": [1, 2]}),
    "optional": (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045
    "pipe-none": (str | None, {"type": ["string", "null"]}),
    "union": (Union[int, str], {"type": ["integer", "string"]}),  # noqa: UP007
    "optional-list": (
        Optional[list[int]],  # noqa: UP045
        {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]},
    ),
    "optional-dataclass": (Point | None, {"anyOf": [POINT, {"type": "null"}]}),
    "dataclass": (Point, POINT),
    "annotated-str": (Annotated[int, "How many."], {"type": "integer", "description": "How many."}),
    "annotated-field": (
        Annotated[str, FieldInfo("The city.")],
        {"type": "string", "description": "The city."},
    ),
    "annotated-field-none": (Annotated[str, FieldInfo(None)], {"type": "string"}),
    "datetime": (dt.datetime, {"type": "string", "format": "date-time"}),
    "date": (dt.date, {"type": "string", "format": "date"}),
    "newtype": (UserId, {"type": "integer"}),
}


@pytest.mark.parametrize(("annotation", "expected"), ANNOTATIONS.values(), ids=ANNOTATIONS)
def test_annotation_schema(annotation: Any, expected: dict[str, Any]) -> None:
    assert param_schema(annotation) == expected


def test_nested_dataclass_with_enum_optional_and_list() -> None:
    def draw(shape: Shape) -> None:
        """Draw a shape."""

    assert checked_schema(draw).parameters["properties"]["shape"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "points": {"type": "array", "items": POINT},
            "parent": {"anyOf": [POINT, {"type": "null"}], "default": None},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "color", "points"],
        "additionalProperties": False,
    }


def test_whole_schema_required_defaults_and_wire_shape() -> None:
    def get_weather(city: str, days: int = 3, unit: Color = Color.RED, at=None) -> str:
        """Forecast for a city."""
        return city

    schema = checked_schema(get_weather)
    assert schema.to_wire() == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Forecast for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer", "default": 3},
                    "unit": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                    "at": {"type": "string", "description": "passed as text", "default": None},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }


def test_defaults_json_cannot_show_are_left_out() -> None:
    def plot(start: dt.date = dt.date(2024, 1, 1), width: float = float("nan")) -> None:
        """Plot."""

    assert checked_schema(plot).parameters["properties"] == {
        "start": {"type": "string", "format": "date"},
        "width": {"type": "number"},
    }


def test_google_docstring() -> None:
    def search(query: str, limit: int = 10, unannotated="") -> list[str]:
        """Search the notes
        by full text.

        Longer explanation that is not part of the summary.

        Args:
            query (str): Words to look for;
                quoted phrases match exactly.
            limit: At most this many results.
            unannotated: Anything.

        Returns:
            limit: not an argument.
        """
        return []

    schema = checked_schema(search)
    assert schema.description == "Search the notes by full text."
    props = schema.parameters["properties"]
    assert props["query"]["description"] == "Words to look for; quoted phrases match exactly."
    assert props["limit"]["description"] == "At most this many results."
    assert props["unannotated"]["description"] == "Anything. (passed as text)"


def test_google_arguments_header() -> None:
    def run(code: str) -> None:
        """Run code.

        Arguments:
            code: Python source.
        """

    assert checked_schema(run).parameters["properties"]["code"]["description"] == "Python source."


def test_numpy_docstring() -> None:
    def scale(values: list[float], factor: float, low: int = 0, high: int = 9) -> list[float]:
        """Scale values.

        Parameters
        ----------
        values : list of float
            The numbers
            to scale.
        factor : float
            Multiplier.
        low, high : int
            Bounds.

        Returns
        -------
        list of float
            The scaled numbers.
        """
        return values

    schema = checked_schema(scale)
    assert schema.description == "Scale values."
    props = schema.parameters["properties"]
    assert props["values"]["description"] == "The numbers to scale."
    assert props["factor"]["description"] == "Multiplier."
    assert props["low"]["description"] == props["high"]["description"] == "Bounds."


def test_sphinx_docstring() -> None:
    def convert(amount: float, currency: str) -> float:
        """Convert money.

        :param float amount: How much,
            in the source currency.
        :param currency: ISO code.
        :returns: the converted amount.
        """
        return amount

    schema = checked_schema(convert)
    assert schema.description == "Convert money."
    props = schema.parameters["properties"]
    assert props["amount"]["description"] == "How much, in the source currency."
    assert props["currency"]["description"] == "ISO code."


def test_annotated_description_wins_over_docstring() -> None:
    def book(city: Annotated[str, "Where to stay."], nights: int) -> None:
        """Book a hotel.

        Args:
            city: From the docstring.
            nights: How long.
        """

    props = checked_schema(book).parameters["properties"]
    assert props["city"] == {"type": "string", "description": "Where to stay."}
    assert props["nights"] == {"type": "integer", "description": "How long."}


def test_description_missing_overridden_and_bounded() -> None:
    def nodoc(x: int) -> None:
        pass

    def wordy(x: int) -> None:
        pass

    wordy.__doc__ = "word " * 1_000
    assert checked_schema(nodoc).description == ""
    assert checked_schema(nodoc, description="Given.").description == "Given."
    assert 100 < len(checked_schema(wordy).description) <= 1_000


def test_methods_partials_and_callables() -> None:
    class Calculator:
        def add(self, a: int, b: int) -> int:
            """Add two numbers."""
            return a + b

    bound = checked_schema(Calculator().add)
    assert list(bound.parameters["properties"]) == ["a", "b"]
    assert checked_schema(Calculator.add).parameters == bound.parameters
    partial = checked_schema(functools.partial(Calculator().add, b=1))
    assert (partial.name, partial.description) == ("add", "Add two numbers.")
    assert partial.parameters["required"] == ["a"]


@pytest.mark.parametrize("name", ["f", "df", "9lives", "has space", "x" * 65, "$web_search"])
def test_invalid_tool_names(name: str) -> None:
    def f(x: int) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match=r"not a valid Kimi tool name") as info:
        function_schema(f, name=name if name != "f" else None)
    assert repr(name) in str(info.value)
    assert '@tool(name="...")' in str(info.value)


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ToolDefinitionError, match=r"'<lambda>' is not a valid"):
        function_schema(lambda x: x)
    assert checked_schema(lambda x: x, name="identity").name == "identity"


def test_name_override_fixes_a_short_name() -> None:
    def df(x: int) -> None:
        pass

    assert checked_schema(df, name="describe_frame").name == "describe_frame"


UNSUPPORTED = {
    "dataframe": (DataFrame, "DataFrame cannot be sent as JSON"),
    "callable": (Callable[[int], int], "cannot be sent as JSON"),
    "int-keys": (dict[int, str], "dict keys must be str, not int"),
    "recursive": (Node, "dataclass Node contains itself"),
    "literal-object": (Literal[b"x"], "Literal value b'x' is not a JSON"),
    "list-of-dataframes": (list[DataFrame], "DataFrame cannot be sent as JSON"),
    "unresolved": ("NoSuchType", "cannot be resolved"),
}


@pytest.mark.parametrize(("annotation", "reason"), UNSUPPORTED.values(), ids=UNSUPPORTED)
def test_unsupported_annotations(annotation: Any, reason: str) -> None:
    def summarize(value):
        return value

    summarize.__annotations__ = {"value": annotation}
    with pytest.raises(ToolDefinitionError) as info:
        function_schema(summarize)
    message = str(info.value)
    assert "\n" not in message
    assert "'summarize'" in message
    assert reason in message
    assert isinstance(info.value, KimiError)


def test_unsupported_names_the_parameter() -> None:
    def summarize(df: DataFrame, title: str) -> str:
        return title

    with pytest.raises(ToolDefinitionError) as info:
        function_schema(summarize)
    assert str(info.value).startswith("cannot describe parameter 'df' of tool 'summarize': ")


@pytest.mark.parametrize(("star", "expected"), [("args", "'*args'"), ("kwargs", "'**kwargs'")])
def test_star_parameters_are_refused(star: str, expected: str) -> None:
    def gather(*args: int) -> None:
        pass

    def configure(**kwargs: int) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match=re.escape(expected)):
        function_schema(gather if star == "args" else configure)


def draw(shape: Shape, copies: int = 1) -> list[Shape]:
    """Draw a shape some number of times."""
    return [shape] * copies


def place(
    points: list[Point],
    scale: float,
    where: dict[str, Point] | None = None,
    size: tuple[int, int] = (1, 1),
    key: int | str = 0,
    when: dt.datetime | None = None,
    day: dt.date | None = None,
    level: Level = Level.LOW,
    extra=None,
) -> None:
    """Place points."""


def test_bind_builds_dataclasses_and_enum_members() -> None:
    schema = checked_schema(draw)
    arguments = {
        "shape": {
            "name": "kite",
            "color": "blue",
            "points": [{"x": 1}, {"x": 2.5, "y": 3}],
            "parent": {"x": 0},
        },
    }
    args, kwargs = bind(draw, schema, arguments)
    assert args == ()
    assert kwargs == {
        "shape": Shape("kite", Color.BLUE, [Point(1.0, 0.0), Point(2.5, 3.0)], Point(0.0))
    }
    shape = kwargs["shape"]
    assert shape.color is Color.BLUE
    assert all(type(p) is Point and type(p.x) is float for p in shape.points)
    assert draw(*args, **kwargs) == [shape]


def test_bind_converts_numbers_containers_unions_and_dates() -> None:
    schema = checked_schema(place)
    _, kwargs = bind(
        place,
        schema,
        {
            "points": [{"x": 1, "y": 2}],
            "scale": 2,
            "where": {"home": {"x": 0}},
            "size": [3, 4.0],
            "key": "k",
            "when": "2024-05-06T07:08:09Z",
            "day": "2024-05-06",
            "level": 2,
            "extra": "as is",
        },
    )
    assert kwargs == {
        "points": [Point(1.0, 2.0)],
        "scale": 2.0,
        "where": {"home": Point(0.0)},
        "size": (3, 4),
        "key": "k",
        "when": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
        "day": dt.date(2024, 5, 6),
        "level": Level.HIGH,
        "extra": "as is",
    }
    assert type(kwargs["scale"]) is float
    assert [type(n) for n in kwargs["size"]] == [int, int]
    assert kwargs["level"] is Level.HIGH


def test_bind_leaves_omitted_defaults_to_python_and_keeps_null() -> None:
    schema = checked_schema(place)
    _, kwargs = bind(place, schema, {"points": [], "scale": 1.5, "where": None, "key": 7})
    assert kwargs == {"points": [], "scale": 1.5, "where": None, "key": 7}


def test_bind_positional_only_parameters() -> None:
    def clamp(
        value: float, low: float = 0.0, high: float = 1.0, /, *, strict: bool = False
    ) -> float:
        return min(max(value, low), high)

    schema = checked_schema(clamp)
    assert bind(clamp, schema, {"value": 5, "high": 3}) == ((5.0, 0.0, 3.0), {})
    assert bind(clamp, schema, {"value": 5, "strict": True}) == ((5.0,), {"strict": True})


BAD_ARGUMENTS = {
    "not-an-object": ([1, 2], "the arguments must be a JSON object, not list"),
    "missing": ({}, "missing required argument 'shape'"),
    "unexpected": (
        {"shape": {"name": "a", "color": "red", "points": []}, "foo": 1},
        "unexpected argument 'foo'",
    ),
    "wrong-type": (
        {"shape": {"name": "a", "color": "red", "points": []}, "copies": "abc"},
        "argument 'copies': 'abc' is not of type 'integer'",
    ),
    "bool-for-int": (
        {"shape": {"name": "a", "color": "red", "points": []}, "copies": True},
        "argument 'copies': True is not of type 'integer'",
    ),
    "bad-enum": (
        {"shape": {"name": "a", "color": "green", "points": []}},
        "argument 'shape.color': 'green' is not one of ['red', 'blue']",
    ),
    "nested-missing": (
        {"shape": {"name": "a", "color": "red", "points": [{"y": 1}]}},
        "missing required argument 'shape.points[0].x'",
    ),
    "nested-unexpected": (
        {"shape": {"name": "a", "color": "red", "points": [], "size": 3}},
        "unexpected argument 'shape.size'",
    ),
    "nested-wrong-type": (
        {"shape": {"name": "a", "color": "red", "points": [{"x": 1}, {"x": "far"}]}},
        "argument 'shape.points[1].x': 'far' is not of type 'number'",
    ),
    "optional-branch": (
        {"shape": {"name": "a", "color": "red", "points": [], "parent": {"x": []}}},
        "argument 'shape.parent.x': [] is not of type 'number'",
    ),
}


@pytest.mark.parametrize(("arguments", "expected"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS)
def test_bind_reports_bad_arguments_in_one_line(arguments: Any, expected: str) -> None:
    schema = checked_schema(draw)
    with pytest.raises(ToolArgumentError) as info:
        bind(draw, schema, arguments)
    assert str(info.value) == expected
    assert isinstance(info.value, KimiError)


def test_bind_reports_bad_dates_and_post_init_checks() -> None:
    def book(day: dt.date, nights: Range) -> None:
        pass

    schema = checked_schema(book)
    with pytest.raises(ToolArgumentError, match=r"^argument 'day': '5th May' is not a date$"):
        bind(book, schema, {"day": "5th May", "nights": {"low": 1, "high": 2}})
    with pytest.raises(ToolArgumentError) as info:
        bind(book, schema, {"day": "2024-05-05", "nights": {"low": 3, "high": 2}})
    assert str(info.value) == "argument 'nights': low must not be above high"


def test_bind_clips_long_messages_to_one_line() -> None:
    def echo(n: int) -> int:
        return n

    schema = checked_schema(echo)
    with pytest.raises(ToolArgumentError) as info:
        bind(echo, schema, {"n": "line\n" * 500})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("argument 'n': ")
    assert len(message) < 400


def test_schema_is_not_shared_with_the_wire_copy() -> None:
    schema = checked_schema(draw)
    schema.to_wire()["function"]["parameters"]["properties"].clear()
    assert "shape" in schema.parameters["properties"]
    assert dataclasses.is_dataclass(schema)


def test_checker_catches_untyped_nested_properties() -> None:
    bad = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}}
    with pytest.raises(AssertionError, match=r"parameters\.a\.b has no type"):
        assert_typed_everywhere(bad, "parameters")
    with pytest.raises(AssertionError, match="prefixItems"):
        assert_typed_everywhere({"type": "array", "items": [{"type": "string"}]}, "p")


def test_importing_the_schema_module_stays_light() -> None:
    code = (
        "import json, sys, kimi_jupyter._schema\n"
        "print(json.dumps(sorted(m for m in ('IPython', 'ipywidgets', 'jsonschema') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
