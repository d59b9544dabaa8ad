"""Tool arguments: read with their types, and JSON null is the same as leaving a field out."""

from __future__ import annotations

from taskweave.server.arguments import Arguments


def test_null_is_the_same_as_absent() -> None:
    args = Arguments({"title": "t", "description": None, "limit": None, "cascade": None})
    assert "description" not in args and "title" in args
    assert args.optional_text("description") is None
    assert args.integer_or("limit", 50) == 50
    assert args.flag("cascade") is False


def test_typed_readers() -> None:
    args = Arguments({"status": "pending", "ids": ["a", "b"], "limit": 0, "items": [{"name": "x", "mime_type": None}]})
    assert args.texts("status") == ["pending"] and args.texts("ids") == ["a", "b"] and args.texts("none") is None
    assert args.integer_or("limit", 50) == 0, "0 is a value, not an absent field"
    [item] = args.items("items")
    assert item.optional_text("name") == "x" and "mime_type" not in item
    assert args.items("missing") == [] and args.list_of("missing") == []
