"""The task model's vocabulary: statuses, the moves between them, priorities."""

from __future__ import annotations

from taskweave.store.schema import FINISHED_STATUSES, TASK_STATUSES

STATUSES = TASK_STATUSES
FINISHED = FINISHED_STATUSES
OPEN = frozenset({"pending", "in_progress", "blocked"})
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
