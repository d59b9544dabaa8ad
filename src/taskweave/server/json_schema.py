"""Tool input schemas, written compactly, and the checker that enforces them.

The schemas are what `tools/list` publishes, so they stay small: types,
required fields and enums, nothing an agent does not need. The same schema
checks every call before the domain sees it, so a wrong type or an unknown
field gets an error that names the field, not a Python repr. Objects are
closed: a field the schema does not name is refused, without every schema
having to say `additionalProperties: false`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from taskweave.errors import InvalidInput, shown

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


Schema = dict[str, Any]


def string(description: str = "", enum: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "string"}
    if description:
        schema["description"] = description
    if enum:
        schema["enum"] = list(enum)
    return schema


def integer(description: str = "") -> Schema:
    return {"type": "integer", **({"description": description} if description else {})}


def boolean(description: str = "") -> Schema:
    return {"type": "boolean", **({"description": description} if description else {})}


def array(items: Schema, description: str = "") -> Schema:
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def obj(properties: Schema, required: tuple[str, ...] = (), description: str = "") -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def check(value: Any, schema: Mapping[str, Any], path: str = "") -> None:
    """Raise `InvalidInput` naming the first place where `value` does not fit `schema`."""
    where = path or "arguments"
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            try:
                check(value, option, path)
                return
            except InvalidInput:
                continue
        expected = " or ".join(option.get("type", "?") for option in schema["anyOf"])
        raise InvalidInput(f"'{where}' must be {expected}, not {_json_type(value)}.", hint=_fix_hint(path))
    expected_type = schema.get("type")
    if expected_type and not _is_type(value, expected_type):
        raise InvalidInput(f"'{where}' must be {_article(expected_type)}, not {_json_type(value)}.", hint=_fix_hint(path))
    if expected_type == "string":
        _check_text(value, where)
    if "enum" in schema and value not in schema["enum"]:
        raise InvalidInput(
            f"'{where}' is {shown(value)}.", hint=f"Use one of: {', '.join(str(option) for option in schema['enum'])}."
        )
    if expected_type == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if value.get(name) is None:
                raise InvalidInput(f"'{_join(path, name)}' is required.", hint=f"Pass '{_join(path, name)}'.")
        unknown = sorted(set(value) - set(properties))
        if unknown:
            raise InvalidInput(
                f"Unknown field(s) in {where}: {', '.join(shown(name) for name in unknown[:10])}.",
                hint=f"Allowed fields: {', '.join(properties) or 'none'}.",
            )
        for name, item in value.items():
            if name in properties and item is not None:
                check(item, properties[name], _join(path, name))
    elif expected_type == "array":
        for index, item in enumerate(value):
            check(item, schema.get("items", {}), f"{where}[{index}]")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(value: str, where: str) -> None:
    """One rule for text on every store: no NUL characters and no unpaired surrogates (neither is text)."""
    if "\x00" in value:
        raise InvalidInput(f"'{where}' contains a NUL character.", hint="Remove it: text cannot hold NUL characters.")
    if _SURROGATE.search(value):
        raise InvalidInput(
            f"'{where}' contains an unpaired surrogate (a half of a UTF-16 pair).",
            hint="Send valid Unicode text.",
        )


def _is_type(value: Any, json_type: str) -> bool:
    if json_type in ("integer", "number") and isinstance(value, bool):
        return False
    if json_type == "number":
        return isinstance(value, int | float)
    return isinstance(value, JSON_TYPES[json_type])


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for name, types in JSON_TYPES.items():
        if _is_type(value, name):
            return _article(name)
    return _article("number") if isinstance(value, float) else type(value).__name__


def _article(json_type: str) -> str:
    return f"an {json_type}" if json_type[0] in "aeiou" else f"a {json_type}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fix_hint(path: str) -> str:
    return f"Fix '{path}' and call again." if path else "Pass the arguments as a JSON object."
