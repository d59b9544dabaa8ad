"""The task model's vocabulary and how records are shown to callers.

Rows come from the store as dicts of columns; what a tool returns is built
here, in one place, so every tool shows a task, a claim or a time the same way.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from taskweave.store.base import Row
from taskweave.store.schema import TASK_STATUSES

STATUSES = TASK_STATUSES
FINISHED = frozenset({"completed", "failed", "cancelled"})
COMPLETION_STATUSES = ("completed", "failed", "blocked")

# Status changes allowed through orchestrator_update_task. Claims (in_progress),
# completion and cancellation have tools of their own that check more.
UPDATE_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"blocked"}),
    "blocked": frozenset({"pending"}),
    "in_progress": frozenset({"pending", "blocked"}),
    "failed": frozenset({"pending"}),
    "completed": frozenset(),
    "cancelled": frozenset({"pending"}),
}

PRIORITIES = {"low": 1, "medium": 2, "high": 3, "critical": 4}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}
DEFAULT_PRIORITY = "medium"


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def task_uri(task_id: str) -> str:
    return f"taskweave://tasks/{task_id}"


def artifact_uri(artifact_id: str) -> str:
    return f"taskweave://artifacts/{artifact_id}"


def status_uri(session_id: str) -> str:
    return f"taskweave://sessions/{session_id}/status"


def claim_view(task: Row, now: float) -> dict[str, Any] | None:
    if task["status"] != "in_progress" or task["claimed_by"] is None:
        return None
    return {
        "client_id": task["claimed_by"],
        "expires_at": iso(task["claim_expires_at"]),
        "live": task["claim_expires_at"] is not None and task["claim_expires_at"] >= now,
    }


def task_brief(task: Row, now: float) -> dict[str, Any]:
    """The short form used in lists: enough to pick a task, not to do it."""
    view: dict[str, Any] = {
        "task_id": task["id"],
        "title": task["title"],
        "status": task["status"],
        "specialist": task["specialist"],
        "priority": PRIORITY_NAMES.get(task["priority"], str(task["priority"])),
    }
    if task["parent_id"]:
        view["parent_task_id"] = task["parent_id"]
    if claim := claim_view(task, now):
        view["claim"] = claim
    return view


def task_full(task: Row, dependencies: list[str], now: float) -> dict[str, Any]:
    return {
        **task_brief(task, now),
        "description": task["description"],
        "parent_task_id": task["parent_id"],
        "dependencies": dependencies,
        "summary": task["summary"],
        "version": task["version"],
        "claim": claim_view(task, now),
        "created_at": iso(task["created_at"]),
        "updated_at": iso(task["updated_at"]),
        "started_at": iso(task["started_at"]),
        "finished_at": iso(task["finished_at"]),
        "uri": task_uri(task["id"]),
    }


def client_view(client: Row, now: float, lease_seconds: float) -> dict[str, Any]:
    state = client["state"]
    if state == "connected" and client["last_seen"] + lease_seconds < now:
        state = "expired"
    return {
        "client_id": client["id"],
        "name": client["name"],
        "version": client["version"],
        "transport": client["transport"],
        "host": client["host"],
        "pid": client["pid"],
        "worktree": client["worktree"],
        "state": state,
        "first_seen": iso(client["first_seen"]),
        "last_seen": iso(client["last_seen"]),
    }


def event_view(event: Row) -> dict[str, Any]:
    view: dict[str, Any] = {"seq": event["seq"], "at": iso(event["at"]), "kind": event["kind"]}
    if event["actor"]:
        view["actor"] = event["actor"]
    if event["task_id"]:
        view["task_id"] = event["task_id"]
    if data := json.loads(event["data"]):
        view["data"] = data
    return view


def artifact_ref(artifact: Row) -> dict[str, Any]:
    return {
        "artifact_id": artifact["id"],
        "kind": artifact["kind"],
        "name": artifact["name"],
        "size": artifact["size"],
        "uri": artifact_uri(artifact["id"]),
    }


def progress(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    done = counts.get("completed", 0)
    countable = total - counts.get("cancelled", 0)
    return {
        "total": total,
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "percent_complete": round(100 * done / countable, 1) if countable else 0.0,
        "all_finished": total > 0 and all(counts.get(s, 0) == 0 for s in ("pending", "in_progress", "blocked")),
    }
