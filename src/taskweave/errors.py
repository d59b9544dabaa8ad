"""The errors taskweave reports to its users.

Every failure a caller can cause or fix is a `TaskweaveError`: a stable `code`,
a `message` that says what went wrong, and a `hint` that says what to do.
`taskweave.server.error_mapping` turns it into MCP results, JSON-RPC errors and
HTTP responses; the CLI prints it and exits non-zero. Anything else is a bug
and is reported as `internal`.
"""

from __future__ import annotations

from typing import Any

SHOWN_CHARS = 80


def clipped(text: str) -> str:
    """`text` cut short to quote in an error (a bad value can be very long)."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def shown(value: object) -> str:
    """`value` as an error message quotes it: its repr, cut short."""
    return clipped(repr(value))


class TaskweaveError(Exception):
    """A failure with a message meant for the person or agent who caused it."""

    code = "error"

    def __init__(self, message: str, *, hint: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """What a caller gets: `{"error": {code, message, hint, details...}}`."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            error["hint"] = self.hint
        error.update(self.details)
        return {"error": error}


class InvalidInput(TaskweaveError):
    """An argument is missing, of the wrong type, or out of range."""

    code = "invalid_input"


class NotFound(TaskweaveError):
    """An id that names nothing in this store."""

    code = "not_found"


class Conflict(TaskweaveError):
    """The request is valid but the current state forbids it (claimed, stale, finished...)."""

    code = "conflict"


class StoreError(TaskweaveError):
    """The store cannot be opened, trusted or written."""

    code = "store_error"


class StoreBusy(StoreError):
    """Another process held the store's lock for longer than a call may wait; nothing was changed."""

    code = "store_busy"
