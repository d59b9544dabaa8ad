"""The plan: creating tasks (a parent with its subtasks in one go), changing, finding and cancelling them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, NotRequired, TypedDict

from taskweave.core import limits, specialists
from taskweave.core.domain import Change, Domain, Write, session_by_id, task_in_session
from taskweave.core.messages import tell_holder
from taskweave.core.model import FINISHED, STATUSES
from taskweave.core.rules import check_update_transition, holds_live_claim, parse_priority
from taskweave.core.sessions import DETAILS, FULL
from taskweave.core.tool_names import QUERY_TASKS, UPDATE_TASK
from taskweave.core.uris import task_uri
from taskweave.core.views import ArtifactRef, TaskBrief, TaskView, artifact_ref, task_brief, task_view
from taskweave.errors import Conflict, InvalidInput, NotFound, shown
from taskweave.store.records import Row, TaskRow
from taskweave.store.transaction import RELEASED_CLAIM, new_id

DEFAULT_PAGE = 10
LISTED_SUMMARY_CHARS = 200


@dataclass(frozen=True)
class TaskDraft:
    """A task to create. A subtask's dependencies may name an earlier subtask by its 0-based index."""

    title: str | None
    description: str | None = None
    specialist: str | None = None
    priority: str | None = None
    dependencies: Sequence[str | int] = ()

    def arguments(self) -> dict[str, Any]:
        """The draft as the request it came from, for its idempotency key."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        given["dependencies"] = list(self.dependencies)
        return {name: value for name, value in given.items() if value is not None}


@dataclass(frozen=True)
class TaskChanges:
    """The fields an update sets; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    specialist: str | None = None
    priority: str | None = None
    status: str | None = None
    dependencies: Sequence[str] | None = None
    parent_task_id: str | None = None
    summary: str | None = None

    def given(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: list(value) if name == "dependencies" else value for name, value in values.items() if value is not None}


class CreatedTask(TypedDict):
    task_id: str
    title: str


class Planned(TypedDict):
    task_id: str
    title: str
    uri: str
    subtasks: list[CreatedTask]
    ready: list[str]


class Cancelled(TypedDict):
    task_id: str
    status: str
    cancelled: list[str]
    open_subtasks_left: int
    claims_taken: list[str]


class TaskListing(TaskBrief):
    version: int
    summary: str | None


# Matches of a filter beyond the session's own counters are counted up to this many past the offset:
# the count costs what it counts, and past a page or two only "many" matters.
COUNTED_MAX = 1_000
SEARCH_WORDS = 16
_WORD = re.compile(r"[^\W_]+")


def search_words(text: str | None) -> list[str]:
    """The words a text search looks for: runs of letters and digits, lowercased, each once."""
    if not text:
        return []
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))
    if not words:
        raise InvalidInput(
            f"'text' is {shown(text)}, which holds no word to search for.",
            hint="Search for words (letters and digits): each must begin a word of the task's title, description "
            "or summary.",
        )
    if len(words) > SEARCH_WORDS:
        raise InvalidInput(
            f"'text' holds {len(words)} words; a search takes at most {SEARCH_WORDS}.",
            hint="Search for the few words that tell the tasks apart.",
        )
    return words


class ListingPage(TypedDict):
    tasks: list[TaskListing] | list[TaskView]
    total: int
    total_is_lower_bound: NotRequired[bool]
    limit: int
    offset: int
    has_more: bool


class TaskDetail(TaskView):
    artifacts: list[ArtifactRef]


class Tasks:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def plan(
        self,
        session_id: str,
        actor: str | None,
        task: TaskDraft,
        *,
        parent_task_id: str | None = None,
        subtasks: Sequence[TaskDraft] = (),
        idempotency_key: str | None = None,
    ) -> Planned:
        """Create a task, or a parent with its subtasks, in one transaction."""
        limits.count("subtasks", subtasks, limits.SUBTASKS)
        limits.count("dependencies", task.dependencies, limits.DEPENDENCIES)
        arguments = {
            **task.arguments(),
            "parent_task_id": parent_task_id,
            "subtasks": [subtask.arguments() for subtask in subtasks],
        }
        request = Write(session_id, actor, "plan_task", arguments, idempotency_key)

        def plan(change: Change) -> Planned:
            if parent_task_id is not None:
                parent = change.task(parent_task_id)
                if parent["status"] == "cancelled":
                    raise Conflict(
                        f"Parent task {parent_task_id} is cancelled.",
                        hint=f"Plan under an open task, or reopen the parent with {UPDATE_TASK}.",
                    )
                if parent["status"] in FINISHED:
                    # New work under a finished parent reopens it: its synthesis no longer covers everything.
                    change.tx.update_task(parent_task_id, {"status": "pending", "finished_at": None, "updated_at": change.now})
                    change.event("task.reopened", parent_task_id, reason="a subtask was planned under it")
            dependencies = [str(d) for d in task.dependencies]
            change.require_tasks(dependencies, "dependencies")
            main_id = _insert_task(change, task, parent_task_id, dependencies, "")
            created: list[CreatedTask] = []
            for index, subtask in enumerate(subtasks):
                resolved = _subtask_dependencies(change, subtask.dependencies, created, index)
                sub_id = _insert_task(change, subtask, main_id, resolved, f"subtasks[{index}].")
                created.append({"task_id": sub_id, "title": limits.text("title", subtask.title, limits.TITLE) or ""})
            ready = change.tx.ready_tasks(session_id, FULL.ready, parent_id=main_id) if created else []
            return {
                "task_id": main_id,
                "title": limits.text("title", task.title, limits.TITLE) or "",
                "uri": task_uri(main_id),
                "subtasks": created,
                "ready": [t["id"] for t in ready],
            }

        return self.domain.write(request, plan)

    def update(
        self,
        session_id: str,
        actor: str | None,
        task_id: str,
        changes: TaskChanges,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> TaskView:
        """Change fields of a task; with `expected_version`, refuse a write based on a stale read."""
        given = changes.given()
        if not given:
            raise InvalidInput(
                "No fields to change were given.",
                hint="Pass one or more of: title, description, specialist, priority, status, dependencies, parent_task_id.",
            )
        arguments = {"task_id": task_id, "changes": given, "expected_version": expected_version}
        request = Write(session_id, actor, "update_task", arguments, idempotency_key)

        def update(change: Change) -> TaskView:
            task = change.task(task_id)
            if expected_version is not None and task["version"] != expected_version:
                raise Conflict(
                    f"Task {task_id} is at version {task['version']}, not {expected_version}: it changed since you read it.",
                    hint=f"Read it again ({QUERY_TASKS} or the task resource), then retry with the current version.",
                    current_version=task["version"],
                )
            columns = _changed_columns(change, task, changes)
            if not columns and changes.dependencies is None and changes.parent_task_id is None:
                # Nothing differs from what is stored (a status it already has): no change, no event.
                return task_view(task, change.tx.dependency_ids([task_id])[task_id], change.now)
            if changes.parent_task_id is not None:
                change.tx.move_task(task_id, changes.parent_task_id)
            if changes.dependencies is not None:
                change.tx.replace_dependencies(task_id, list(dict.fromkeys(changes.dependencies)))
            columns["updated_at"] = change.now
            updated = change.tx.update_task(task_id, columns, expected_version=expected_version)
            if updated is None:
                raise Conflict(f"Task {task_id} changed while being updated.", hint="Read it again and retry.")
            change.event("task.updated", task_id, fields=sorted(given))
            return task_view(updated, change.tx.dependency_ids([task_id])[task_id], change.now)

        return self.domain.write(request, update)

    def query(
        self,
        session_id: str,
        *,
        status: Sequence[str] = (),
        specialist: str | None = None,
        parent_task_id: str | None = None,
        text: str | None = None,
        limit: int = DEFAULT_PAGE,
        offset: int = 0,
        detail: str = "brief",
    ) -> ListingPage:
        """A page of the session's tasks, oldest first; `detail="full"` shows each task whole but its description."""
        if detail not in DETAILS:
            raise InvalidInput(f"'detail' is {shown(detail)}.", hint=f"Use one of: {', '.join(DETAILS)}.")
        for value in status:
            if value not in STATUSES:
                raise InvalidInput(f"'status' contains {shown(value)}.", hint=f"Use any of: {', '.join(STATUSES)}.")
        limits.between("limit", limit, 1, limits.PAGE_SIZE)
        limits.between("offset", offset, 0, 10**9)
        words = search_words(limits.text("text", text, limits.SEARCH_TEXT))
        now = self.domain.clock()
        with self.domain.reading() as tx:
            session_by_id(tx, session_id)
            if parent_task_id:
                task_in_session(tx, session_id, parent_task_id)
            rows, total = tx.query_tasks(
                session_id,
                statuses=status,
                specialist=specialist.strip().lower() if specialist else None,
                parent_id=parent_task_id,
                words=words,
                limit=limit,
                offset=offset,
                count_limit=offset + COUNTED_MAX + 1,
            )
            deps = tx.dependency_ids([r["id"] for r in rows]) if detail == "full" else {}
        tasks: list[TaskListing] | list[TaskView]
        if detail == "full":
            tasks = [task_view(row, deps[row["id"]], now, with_description=False) for row in rows]
        else:
            tasks = [_listing(row, now) for row in rows]
        counted = bool(specialist or parent_task_id or words)
        page: ListingPage = {
            "tasks": tasks,
            "total": min(total, offset + COUNTED_MAX) if counted else total,
            "limit": limit,
            "offset": offset,
            "has_more": offset + len(rows) < total,
        }
        if counted and total > offset + COUNTED_MAX:
            page["total_is_lower_bound"] = True
        return page

    def cancel(
        self,
        session_id: str,
        actor: str | None,
        task_id: str,
        *,
        reason: str | None = None,
        cascade: bool = False,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> Cancelled:
        """Cancel a task (with `cascade`, its open subtasks too). A task another client holds a live claim on
        is cancelled only with `force`; that client keeps the right to hand in its report."""
        why = limits.text("reason", reason, limits.REASON)
        arguments = {"task_id": task_id, "reason": why, "cascade": cascade, "force": force or None}
        request = Write(session_id, actor, "cancel_task", arguments, idempotency_key)

        def cancel(change: Change) -> Cancelled:
            task = change.task(task_id)
            if task["status"] in FINISHED:
                raise Conflict(f"Task {task_id} is already {task['status']}.", hint="Nothing to cancel.")
            targets = [task]
            if cascade:
                subtree = change.tx.tasks_by_ids(change.tx.subtree_ids(task_id))
                targets += [t for t in subtree if t["status"] not in FINISHED]
            held = [t for t in targets if holds_live_claim(t, change.now) and t["claimed_by"] != change.actor]
            if held and not force:
                holders = ", ".join(sorted({f"{t['id']} by {t['claimed_by']}" for t in held}))
                raise Conflict(
                    f"Cancelling would take {len(held)} task(s) from the client(s) working on them: {holders}.",
                    hint="Pass force=true to cancel anyway (each holder can still hand in its report), "
                    "or wait for them to finish.",
                    claimed=[t["id"] for t in held],
                )
            summary = f"Cancelled: {why}" if why else "Cancelled."
            for target in targets:
                holder = target["claimed_by"] if target in held else None
                change.tx.finish_task(target, status="cancelled", summary=summary, now=change.now)
                if holder:
                    change.tx.update_task(target["id"], {"claim_lost_by": holder})
                change.event("task.cancelled", target["id"], reason=why, **({"claim_taken_from": holder} if holder else {}))
                if holder:
                    tell_holder(change, holder, target, f"cancelled ({why})" if why else "cancelled")
            open_children = 0 if cascade else sum(
                n for s, n in change.tx.child_status_counts(task_id).items() if s not in FINISHED
            )
            return {
                "task_id": task_id,
                "status": "cancelled",
                "cancelled": [t["id"] for t in targets],
                "open_subtasks_left": open_children,
                "claims_taken": [t["id"] for t in held],
            }

        return self.domain.write(request, cancel)

    def detail(self, task_id: str) -> TaskDetail:
        """A task with its dependencies and artifacts, for the task resource."""
        now = self.domain.clock()
        with self.domain.reading() as tx:
            task = tx.task(task_id)
            if task is None:
                raise NotFound(f"No task {shown(task_id)}.", hint=f"Use a task_id from {QUERY_TASKS}.")
            deps = tx.dependency_ids([task_id])[task_id]
            artifacts = tx.artifacts_of([task_id])
        return {**task_view(task, deps, now), "artifacts": [artifact_ref(a) for a in artifacts]}


def _insert_task(
    change: Change, draft: TaskDraft, parent_id: str | None, dependencies: Sequence[str], field_prefix: str
) -> str:
    task_id = new_id("t")
    tx = change.tx
    tx.insert_task(
        {
            "id": task_id,
            "session_id": change.session_id,
            "seq": tx.next_task_seq(change.session_id),
            "parent_id": parent_id,
            "title": limits.text(field_prefix + "title", draft.title, limits.TITLE, required=True),
            "description": limits.text(field_prefix + "description", draft.description, limits.DESCRIPTION) or "",
            "specialist": specialists.resolve(draft.specialist, change.specialist_overrides),
            "priority": parse_priority(draft.priority, field_prefix),
            "status": "pending",
            "version": 1,
            "created_by": change.actor,
            "created_at": change.now,
            "updated_at": change.now,
        }
    )
    tx.add_dependencies(task_id, list(dict.fromkeys(dependencies)))
    change.event("task.created", task_id, parent_task_id=parent_id)
    return task_id


INDEX_RULE = "A subtask may depend on earlier subtasks by their 0-based index (a number), or on task ids."


def _subtask_dependencies(
    change: Change, raw: Sequence[str | int], created: list[CreatedTask], index: int
) -> list[str]:
    limits.count(f"subtasks[{index}].dependencies", raw, limits.DEPENDENCIES)
    resolved: list[str] = []
    for dependency in raw:
        if isinstance(dependency, int):
            if isinstance(dependency, bool) or not 0 <= dependency < index:
                raise InvalidInput(
                    f"subtasks[{index}] depends on index {dependency}, which is not an earlier subtask.",
                    hint=INDEX_RULE,
                )
            resolved.append(created[dependency]["task_id"])
        elif dependency.strip().isdigit():
            raise InvalidInput(
                f"subtasks[{index}] depends on {shown(dependency)}, a string: task ids are not numbers.",
                hint=f"{INDEX_RULE} Pass {dependency.strip()} without quotes to name an earlier subtask.",
            )
        else:
            change.task(dependency)
            resolved.append(dependency)
    return list(dict.fromkeys(resolved))


def _listing(task: TaskRow, now: float) -> TaskListing:
    summary = task["summary"]
    if summary is not None and len(summary) > LISTED_SUMMARY_CHARS:
        summary = summary[:LISTED_SUMMARY_CHARS] + "..."
    return {**task_brief(task, now), "version": task["version"], "summary": summary}


def _changed_columns(change: Change, task: TaskRow, changes: TaskChanges) -> Row:
    """The task's columns an update writes, each checked; dependencies are checked here and written apart."""
    tx = change.tx
    task_id = task["id"]
    columns: Row = {}
    if changes.title is not None:
        columns["title"] = limits.text("title", changes.title, limits.TITLE, required=True)
    if changes.description is not None:
        columns["description"] = limits.text("description", changes.description, limits.DESCRIPTION) or ""
    if changes.specialist is not None:
        columns["specialist"] = specialists.resolve(changes.specialist, change.specialist_overrides)
    if changes.priority is not None:
        columns["priority"] = parse_priority(changes.priority)
    if changes.parent_task_id is not None:
        parent_id = changes.parent_task_id
        change.task(parent_id)
        if tx.is_ancestor(task_id, parent_id):
            raise InvalidInput(
                f"Task {parent_id} is {task_id} itself or one of its subtasks; it cannot be its parent.",
                hint="Choose a parent outside this task's subtree.",
            )
    if changes.dependencies is not None:
        deps = list(dict.fromkeys(changes.dependencies))
        limits.count("dependencies", deps, limits.DEPENDENCIES)
        change.require_tasks(deps, "dependencies")
        if task_id in deps or tx.reaches(deps, task_id):
            raise InvalidInput(
                f"These dependencies would make a cycle through task {task_id}.",
                hint="A task cannot depend, directly or through others, on itself. Remove the dependency that leads back.",
            )
    if changes.status is not None:
        wanted = changes.status
        if wanted not in STATUSES:
            raise InvalidInput(f"'status' is {shown(wanted)}.", hint=f"Use one of: {', '.join(STATUSES)}.")
        if wanted != task["status"]:
            check_update_transition(task, wanted, change.actor, change.now)
            if task["status"] == "in_progress":
                columns.update(RELEASED_CLAIM)
            if wanted == "pending":
                columns["finished_at"] = None
            columns["status"] = wanted
    if changes.summary is not None:
        columns["summary"] = limits.text("summary", changes.summary, limits.SUMMARY)
    return columns
