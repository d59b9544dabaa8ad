"""Idempotency keys: a retried write with the same key and arguments gets the first answer, not a second change.

The answer is remembered in the same transaction as the change, so a key is
either remembered with its change or neither happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from taskweave.errors import Conflict, shown
from taskweave.store import Transaction

if TYPE_CHECKING:
    from taskweave.core.domain import Write


def request_hash(operation: str, arguments: Mapping[str, Any]) -> str:
    relevant = {k: v for k, v in arguments.items() if v is not None}
    canonical = json.dumps([operation, relevant], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(tx: Transaction, request: Write) -> dict[str, Any] | None:
    """The first answer for a reused key; a reuse with other arguments is refused."""
    key = request.idempotency_key
    if key is None:
        return None
    stored = tx.idempotent_response(request.session_id, key)
    if stored is None:
        return None
    if stored["tool"] != request.operation or stored["request_hash"] != request_hash(request.operation, request.arguments):
        raise Conflict(
            f"The idempotency_key {shown(key)} was already used for a different request.",
            hint="Use a new key for a new request; reuse a key only to retry the very same call.",
        )
    answer: dict[str, Any] = json.loads(stored["response"])
    return answer | {"replayed": True}


def remember(tx: Transaction, request: Write, answer: Mapping[str, Any], now: float) -> None:
    key = request.idempotency_key
    if key is not None:
        digest = request_hash(request.operation, request.arguments)
        tx.remember_response(request.session_id, key, request.operation, digest, json.dumps(answer), now)
