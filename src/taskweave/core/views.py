"""How records are shown to callers: every tool shows a task, a claim, a client or a time the same way.

Rows come from the store as dicts of columns; what a tool returns is built
here, in one place, as JSON-ready typed dicts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from taskweave.core.model import PRIORITY_NAMES, STATUSES
from taskweave.core.uris import artifact_uri, task_uri
from taskweave.store.records import ArtifactMeta, ClientRow, EventRow, TaskRow


class ClaimView(TypedDict):
    client_id: str
    expires_at: str | None
    live: bool
    paths: NotRequired[list[str]]


class TaskBrief(TypedDict):
    """The short form used in lists: enough to pick a task, not to do it."""

    task_id: str
    title: str
    status: str
    specialist: str
    priority: str
    parent_task_id: NotRequired[str]
    claim: NotRequired[ClaimView]


class TaskView(TypedDict):
    task_id: str
    title: str
    status: str
    specialist: str
    priority: str
    description: NotRequired[str]
    parent_task_id: str | None
    dependencies: list[str]
    summary: str | None
    version: int
    claim: ClaimView | None
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    finished_at: str | None
    uri: str


class ClientView(TypedDict):
    client_id: str
    name: str
    state: str
    last_seen: str | None
    version: NotRequired[str]
    transport: NotRequired[str]
    host: NotRequired[str]
    pid: NotRequired[int | None]
    worktree: NotRequired[str | None]
    first_seen: NotRequired[str | None]
    principal: NotRequired[str]


class EventView(TypedDict):
    seq: int
    at: str | None
    kind: str
    actor: NotRequired[str]
    principal: NotRequired[str]
    task_id: NotRequired[str]
    data: NotRequired[dict[str, Any]]


class ArtifactRef(TypedDict):
    artifact_id: str
    kind: str
    name: str
    size: int
    uri: str


class Progress(TypedDict):
    total: int
    percent_complete: float
    all_finished: bool


class Summary(Progress):
    counts: dict[str, int]


# A default answer costs every agent context on every turn: it stays within this many bytes of JSON.
ANSWER_BYTES = 3_900
BRIEF_TITLE_CHARS = 100


def fit(answer: Mapping[str, object], lists: Mapping[str, list[Any]]) -> dict[str, int]:
    """Shorten the longest of `lists` (parts of `answer`) until `answer` is within `ANSWER_BYTES`; how many
    entries each list lost."""
    cut: dict[str, int] = {}
    while _size(answer) > ANSWER_BYTES:
        name, longest = max(lists.items(), key=lambda item: len(item[1]))
        if not longest:
            break
        longest.pop()
        cut[name] = cut.get(name, 0) + 1
    return cut


def fit_text(answer: dict[str, Any], key: str, note: str) -> None:
    """Cut the text `answer[key]` at a line end until `answer` is within `ANSWER_BYTES`, then add `note`."""
    text: str = answer[key]
    excess = _size(answer) - ANSWER_BYTES
    if excess <= 0:
        return
    keep = len(text)
    while excess > 0 and keep > 0:
        keep = max(0, keep - excess - len(note))
        cut = text.rfind("\n", 0, keep)
        answer[key] = text[: cut if cut > 0 else keep] + note
        excess = _size(answer) - ANSWER_BYTES


def _size(answer: Mapping[str, object]) -> int:
    return len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode())


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def claim_view(task: TaskRow, now: float) -> ClaimView | None:
    holder = task["claimed_by"]
    if task["status"] != "in_progress" or holder is None:
        return None
    expires = task["claim_expires_at"]
    view: ClaimView = {"client_id": holder, "expires_at": iso(expires), "live": expires is not None and expires >= now}
    if task["claim_paths"]:
        view["paths"] = json.loads(task["claim_paths"])
    return view


def _priority_name(priority: int) -> str:
    return PRIORITY_NAMES.get(priority, str(priority))


def task_brief(task: TaskRow, now: float) -> TaskBrief:
    title = task["title"]
    view: TaskBrief = {
        "task_id": task["id"],
        "title": title if len(title) <= BRIEF_TITLE_CHARS else title[: BRIEF_TITLE_CHARS - 3] + "...",
        "status": task["status"],
        "specialist": task["specialist"],
        "priority": _priority_name(task["priority"]),
    }
    if task["parent_id"]:
        view["parent_task_id"] = task["parent_id"]
    if claim := claim_view(task, now):
        view["claim"] = claim
    return view


def task_view(task: TaskRow, dependencies: list[str], now: float, *, with_description: bool = True) -> TaskView:
    view: TaskView = {
        "task_id": task["id"],
        "title": task["title"],
        "status": task["status"],
        "specialist": task["specialist"],
        "priority": _priority_name(task["priority"]),
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
    if with_description:
        view["description"] = task["description"]
    return view


def client_view(client: ClientRow, now: float, lease_seconds: float, *, brief: bool = False) -> ClientView:
    """A client and its liveness; `brief` leaves out where it runs."""
    state = client["state"]
    if state == "connected" and client["last_seen"] + lease_seconds < now:
        state = "expired"
    view: ClientView = {
        "client_id": client["id"],
        "name": client["name"],
        "state": state,
        "last_seen": iso(client["last_seen"]),
    }
    if not brief:
        view["version"] = client["version"]
        view["transport"] = client["transport"]
        view["host"] = client["host"]
        view["pid"] = client["pid"]
        view["worktree"] = client["worktree"]
        view["first_seen"] = iso(client["first_seen"])
        if client["principal"]:
            view["principal"] = client["principal"]
    return view


def event_view(event: EventRow) -> EventView:
    view: EventView = {"seq": event["seq"], "at": iso(event["at"]), "kind": event["kind"]}
    if event["actor"]:
        view["actor"] = event["actor"]
    if event["principal"]:
        view["principal"] = event["principal"]
    if event["task_id"]:
        view["task_id"] = event["task_id"]
    if data := json.loads(event["data"]):
        view["data"] = data
    return view


def artifact_ref(artifact: ArtifactMeta) -> ArtifactRef:
    return {
        "artifact_id": artifact["id"],
        "kind": artifact["kind"],
        "name": artifact["name"],
        "size": artifact["size"],
        "uri": artifact_uri(artifact["id"]),
    }


def summary(counts: dict[str, int]) -> Summary:
    """The progress figures of a set of tasks, from their counts by status."""
    total = sum(counts.values())
    done = counts.get("completed", 0)
    countable = total - counts.get("cancelled", 0)
    return {
        "total": total,
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "percent_complete": round(100 * done / countable, 1) if countable else 0.0,
        "all_finished": total > 0 and all(counts.get(s, 0) == 0 for s in ("pending", "in_progress", "blocked")),
    }


def progress(figures: Summary) -> Progress:
    """`figures` without the counts, for answers that list the counts on their own."""
    return {
        "total": figures["total"],
        "percent_complete": figures["percent_complete"],
        "all_finished": figures["all_finished"],
    }
