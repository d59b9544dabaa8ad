"""One mapping from our errors to what each outside caller sees.

A `TaskweaveError` becomes a tool result with `isError: true` and
`{"error": {code, message, hint}}`, a JSON-RPC error for a resource read
(only a missing resource is "resource not found"), or a JSON HTTP response.
Any other exception is a bug: the caller gets `internal`, never a traceback,
and the log gets the traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from taskweave.errors import InvalidInput, NotFound, TaskweaveError

log = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = -32002


def tool_result(body: Mapping[str, Any], *, is_error: bool = False) -> types.CallToolResult:
    content = dict(body)
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=content, is_error=is_error
    )


def tool_error(error: TaskweaveError) -> types.CallToolResult:
    return tool_result(error.to_dict(), is_error=True)


def internal_tool_error(tool: str) -> types.CallToolResult:
    """For an exception that is not ours; the caller has already logged it."""
    return tool_result(
        {
            "error": {
                "code": "internal",
                "message": f"{tool} failed because of an internal error; nothing was changed.",
                "hint": "Retry once; if it fails again, report it with the server's log (stderr).",
            }
        },
        is_error=True,
    )


def request_error(error: TaskweaveError) -> MCPError:
    """A failed request other than a tool call (a resource read, a subscription)."""
    if isinstance(error, NotFound):
        code = RESOURCE_NOT_FOUND
    elif isinstance(error, InvalidInput):
        code = types.INVALID_PARAMS
    else:
        code = types.INTERNAL_ERROR
    return MCPError(code=code, message=error.message, data=error.to_dict()["error"])


def http_error_body(code: str, message: str, hint: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "hint": hint}}).encode()
