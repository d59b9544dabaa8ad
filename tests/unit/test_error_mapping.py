"""One mapping from our errors to what callers see: tool results, JSON-RPC errors, HTTP bodies."""

from __future__ import annotations

import json

import mcp_types as types
import pytest

from taskweave.errors import Conflict, InvalidInput, NotFound, StoreError, TaskweaveError
from taskweave.server.error_mapping import (
    RESOURCE_NOT_FOUND,
    http_error_body,
    internal_tool_error,
    request_error,
    tool_error,
)


def test_a_refusal_is_an_error_result_with_code_message_hint_and_details() -> None:
    result = tool_error(Conflict("Taken.", hint="Pick another.", claimed_by="c_1"))
    body = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert result.is_error and result.structured_content == body
    assert body == {"error": {"code": "conflict", "message": "Taken.", "hint": "Pick another.", "claimed_by": "c_1"}}


def test_an_internal_error_says_nothing_changed_and_leaks_nothing() -> None:
    body = internal_tool_error("orchestrator_plan_task").structured_content
    assert body is not None and body["error"]["code"] == "internal" and "nothing was changed" in body["error"]["message"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("No task.", hint="h"), RESOURCE_NOT_FOUND),
        (InvalidInput("Bad.", hint="h"), types.INVALID_PARAMS),
        (StoreError("The disk is full.", hint="h"), types.INTERNAL_ERROR),
    ],
)
def test_only_a_missing_resource_is_resource_not_found(error: TaskweaveError, code: int) -> None:
    mapped = request_error(error)
    assert mapped.error.code == code and mapped.error.message == error.message


def test_http_error_bodies_are_our_json_errors() -> None:
    body = json.loads(http_error_body("unauthorized", "Missing token.", "Send one."))
    assert body == {"error": {"code": "unauthorized", "message": "Missing token.", "hint": "Send one."}}
