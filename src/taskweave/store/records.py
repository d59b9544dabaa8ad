"""The shapes of the rows the store hands out, one per table or query.

They are `TypedDict`s: what a query returns is a plain dict of its columns, at no
cost, and the type checker still knows every column's name and type.
"""

from __future__ import annotations

from typing import Any, TypedDict

Row = dict[str, Any]


class WorkspaceRow(TypedDict):
    id: str
    identity: str
    root: str
    types: str
    vcs: str | None
    created_at: float
    updated_at: float


class SessionRow(TypedDict):
    id: str
    workspace_id: str
    name: str
    status: str
    metadata: str
    created_at: float
    last_activity_at: float
    ended_at: float | None
    last_event_seq: int
    task_seq: int
    tasks_pending: int
    tasks_in_progress: int
    tasks_blocked: int
    tasks_completed: int
    tasks_failed: int
    tasks_cancelled: int
    parents_pending: int
    parents_in_progress: int
    parents_blocked: int
    parents_completed: int
    parents_failed: int
    parents_cancelled: int
    message_seq: int
    specialist_messages_waiting: int


class ListedSession(SessionRow):
    workspace_root: str


class ClientRow(TypedDict):
    id: str
    session_id: str
    name: str
    version: str
    transport: str
    pid: int | None
    host: str
    worktree: str | None
    state: str
    first_seen: float
    last_seen: float
    message_seq: int
    principal: str | None


class StaleClient(TypedDict):
    id: str
    session_id: str
    name: str


class TaskRow(TypedDict):
    id: str
    session_id: str
    seq: int
    parent_id: str | None
    title: str
    description: str
    specialist: str
    priority: int
    status: str
    summary: str | None
    version: int
    claimed_by: str | None
    claim_expires_at: float | None
    claim_lease_seconds: float | None
    created_by: str | None
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None
    children: int
    open_children: int
    waiting_on: int
    claim_paths: str | None
    claim_lost_by: str | None


class TaskState(TypedDict):
    """What a change of a task's status needs to know to keep every count in step."""

    session_id: str
    status: str
    parent_id: str | None
    children: int


class ExpiredClaim(TypedDict):
    id: str
    session_id: str
    claimed_by: str


class ArtifactMeta(TypedDict):
    """An artifact without its content, as lists show it."""

    id: str
    session_id: str
    task_id: str | None
    kind: str
    name: str
    mime_type: str
    size: int
    created_at: float


class ArtifactRow(ArtifactMeta):
    content: str
    created_by: str | None


class EventRow(TypedDict):
    seq: int
    at: float
    actor: str | None
    kind: str
    task_id: str | None
    data: str
    principal: str | None


class MessageRow(TypedDict):
    id: str
    session_id: str
    seq: int
    sender: str | None
    sender_name: str
    recipient_kind: str
    recipient: str | None
    task_id: str | None
    body: str
    created_at: float
    delivered_to: str | None
    delivered_at: float | None


class MessageCursor(TypedDict):
    latest: int
    seen: int
    waiting: int


class StoredResponse(TypedDict):
    tool: str
    request_hash: str
    response: str
