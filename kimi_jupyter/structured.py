"""`--json`, `--schema`, `-o` and `--code`: what an answer is asked to be, and what it becomes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kimi_jupyter.errors import KimiError

JSON_INSTRUCTION = "\n\nAnswer with a single JSON object and nothing else."
CODE_INSTRUCTION = "\n\nAnswer with one fenced Python code block (add comments inside if needed)."
_FENCE = re.compile(r"```[ \t]*(?:python|py|ipython)?[^\n]*\n(?P<code>.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Shape:
    """What the answer must look like, and how to turn it into a value."""

    response_format: dict[str, Any] | None = None
    instruction: str = ""
    model_class: Any = None  # a pydantic model to validate into, for --schema

    def parse(self, answer: str) -> Any:
        if self.response_format is None:
            return answer
        try:
            value = json.loads(answer)
        except ValueError as exc:
            raise KimiError(
                f"the answer is not valid JSON ({exc}); it is kept in the session"
            ) from None
        if self.model_class is not None:
            try:
                return self.model_class.model_validate(value)
            except ValueError as exc:
                first = str(exc).splitlines()[0]
                raise KimiError(
                    f"the answer does not fit {self.model_class.__name__}: {first}"
                ) from None
        return value


def json_shape() -> Shape:
    return Shape({"type": "json_object"}, JSON_INSTRUCTION)


def schema_shape(name: str, namespace: dict[str, Any]) -> Shape:
    """`--schema NAME`: a JSON-schema dict or a pydantic model class in the namespace."""
    if name not in namespace:
        raise KimiError(f"--schema: there is no variable {name!r}")
    obj = namespace[name]
    model_class = None
    if isinstance(obj, type) and hasattr(obj, "model_json_schema"):
        model_class, schema = obj, obj.model_json_schema()
    elif isinstance(obj, dict) and obj.get("type") == "object":
        schema = obj
    else:
        raise KimiError(
            f"--schema: {name} is a {type(obj).__name__}, not a JSON schema dict "
            '({"type": "object", ...}) or a pydantic model class'
        )
    schema = {
        k: v for k, v in schema.items() if k != "$schema"
    }  # Kimi misreads it (KIMI_WIRE §2.5)
    response = {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": True},
    }
    return Shape(response, JSON_INSTRUCTION, model_class)


def first_code_block(answer: str) -> str | None:
    match = _FENCE.search(answer)
    return match["code"].rstrip("\n") if match else None


def check_variable_name(name: str) -> str:
    if not name.isidentifier():
        raise KimiError(f"-o: {name!r} is not a valid variable name")
    return name
