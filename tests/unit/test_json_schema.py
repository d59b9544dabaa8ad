"""The input schemas' checker: every mismatch names the field and says what to pass."""

from __future__ import annotations

import pytest

from taskweave.errors import InvalidInput
from taskweave.server.json_schema import array, check, integer, obj, string
from taskweave.server.tools import TOOLS

SCHEMA = obj(
    {"title": string(), "limit": integer(), "status": {"anyOf": [string(), array(string())]}, "tags": array(string())},
    required=("title",),
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "'title' is required"),
        ({"title": None}, "'title' is required"),
        ({"title": 1}, "'title' must be a string, not an integer"),
        ({"title": "t", "limit": "ten"}, "'limit' must be an integer, not a string"),
        ({"title": "t", "limit": True}, "'limit' must be an integer, not a boolean"),
        ({"title": "t", "status": 3}, "'status' must be string or array"),
        ({"title": "t", "tags": ["a", 2]}, "'tags[1]' must be a string"),
        ({"title": "t", "colour": "red"}, "Unknown field(s) in arguments: 'colour'"),
        ({"title": "t", "x" * 10_000: 1}, "Unknown field(s) in arguments: 'xxxxx"),
        ([], "'arguments' must be an object"),
    ],
)
def test_mismatches_name_the_field(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check(value, SCHEMA)
    assert message in refused.value.message and refused.value.hint


def test_optional_nulls_and_fitting_values_pass() -> None:
    check({"title": "t", "limit": None, "status": ["a"], "tags": None}, SCHEMA)


def test_every_tool_refuses_a_field_its_schema_does_not_name() -> None:
    for tool in TOOLS:
        assert tool.schema["type"] == "object", tool.name
        given = {name: "x" for name in tool.schema.get("required", ())}
        with pytest.raises(InvalidInput, match="Unknown field"):
            check({**given, "colour": "red"}, tool.schema)


def test_a_long_bad_value_is_quoted_short() -> None:
    with pytest.raises(InvalidInput) as refused:
        check({"title": "t", "mode": "z" * 100_000}, obj({"title": string(), "mode": string(enum=("a", "b"))}))
    assert len(refused.value.message) < 200
