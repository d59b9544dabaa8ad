"""Size limits on what callers send, and the checks that enforce them with a clear message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taskweave.errors import InvalidInput

TITLE = 200
NAME = 100
DESCRIPTION = 20_000
SUMMARY = 20_000
REASON = 2_000
SEARCH_TEXT = 500
IDEMPOTENCY_KEY = 200
ARTIFACT_CONTENT = 1_000_000
# One call's detailed work and artifacts together: as JSON, even with every character escaped
# (\uXXXX, 12 bytes for a character beyond the BMP), they fit in one request.
CALL_CONTENT = 4_000_000
# The largest request a transport takes (a stdio line, an HTTP body).
REQUEST_BYTES = 64 * 1024 * 1024
SUBTASKS = 100
DEPENDENCIES = 100
ARTIFACTS = 20
PAGE_SIZE = 200
LEASE_MIN_SECONDS = 10
LEASE_MAX_SECONDS = 86_400
EVENT_SEQ_MAX = 2**63 - 1



def text(field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    """`value` stripped; None when absent and optional. Too long or blank-but-required is refused."""
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"'{field}' must not be empty.", hint=f"Pass a non-empty '{field}'.")
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            f"'{field}' is {len(value):,} characters long; the limit is {limit:,}.",
            hint="Shorten it; put long output into 'detailed_work' or an artifact instead."
            if limit < ARTIFACT_CONTENT
            else "Split it into several artifacts.",
        )
    return value


def count(field: str, items: Sequence[Any], limit: int) -> None:
    if len(items) > limit:
        raise InvalidInput(
            f"'{field}' has {len(items)} entries; the limit is {limit}.",
            hint=f"Pass at most {limit}, in several calls if needed.",
        )


def between(field: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"'{field}' is {value}; it must be between {low} and {high}.", hint=f"Pass {low}..{high}.")
    return value
