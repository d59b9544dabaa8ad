"""A tool call's arguments, read with their types once they fit the tool's schema.

Many clients send `null` for a field they leave out, so null means absent,
for every field of every tool: it never resets a field or stands for a
default of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast


class Arguments:
    def __init__(self, raw: Mapping[str, object]) -> None:
        self._values = {name: value for name, value in raw.items() if value is not None}

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str) -> str:
        """A required string (the schema check has refused a call without it)."""
        return cast(str, self._values[name])

    def optional_text(self, name: str) -> str | None:
        return cast(str | None, self._values.get(name))

    def integer(self, name: str) -> int | None:
        return cast(int | None, self._values.get(name))

    def integer_or(self, name: str, default: int) -> int:
        return cast(int, self._values.get(name, default))

    def flag(self, name: str) -> bool:
        return bool(self._values.get(name, False))

    def texts(self, name: str) -> list[str] | None:
        """A list of strings, or a single string as a list of one."""
        value = self._values.get(name)
        if isinstance(value, str):
            return [value]
        return cast(list[str] | None, value)

    def items(self, name: str) -> list[Arguments]:
        """A list of objects, each read the same way."""
        return [Arguments(item) for item in cast(list[Mapping[str, object]], self._values.get(name, []))]

    def list_of(self, name: str) -> list[object]:
        return cast(list[object], self._values.get(name, []))
