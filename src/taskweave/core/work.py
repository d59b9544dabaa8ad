"""Doing the work: claiming a task with everything needed to do it, and recording its result."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from taskweave.core import limits, specialists, views
from taskweave.core import paths as path_rules
from taskweave.core.domain import Change, Domain, Write
from taskweave.core.messages import tell_holder
from taskweave.core.model import COMPLETION_STATUSES
from taskweave.core.rules import (
    check_claim_holder,
    check_claimable,
    check_dependencies_done,
    check_not_parent,
    holds_live_claim,
    synthesis_step,
)
from taskweave.core.tool_names import (
    COMPLETE_TASK,
    EXECUTE_TASK,
    GET_STATUS,
    PLAN_TASK,
    READ_ARTIFACT,
    SEND_MESSAGE,
    SYNTHESIZE_RESULTS,
    UPDATE_TASK,
)
from taskweave.core.views import (
    ArtifactRef,
    Summary,
    TaskBrief,
    TaskView,
    artifact_ref,
    fit,
    iso,
    task_brief,
    task_view,
)
from taskweave.errors import Conflict, InvalidInput, shown
from taskweave.store.records import ArtifactMeta, TaskRow
from taskweave.store.transaction import RELEASED_CLAIM

# A work order lists what the task builds on in brief; the rest is read through the task URIs.
LISTED_DEPENDENCIES = 10
LISTED_ARTIFACTS = 3
SUMMARY_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class ArtifactInput:
    """A file an agent hands in with its result."""

    name: str | None
    content: str | None
    mime_type: str | None = None


class SpecialistBrief(TypedDict):
    name: str
    instructions: str


class DependencyBrief(TypedDict):
    task_id: str
    title: str
    specialist: str
    summary: str | None
    artifacts: list[ArtifactRef]


class ParentBrief(TypedDict):
    task_id: str
    title: str


class ClaimBrief(TypedDict):
    client_id: str
    expires_at: str | None


class WorkOrder(TypedDict):
    """What an agent needs to do a claimed task: the task, the role's instructions, what it builds on."""

    task: TaskView
    specialist: SpecialistBrief
    dependencies: list[DependencyBrief]
    dependencies_total: int
    parent: ParentBrief | None
    claim: ClaimBrief
    next_step: str
    cut: NotRequired[dict[str, int]]


class ParentProgress(Summary):
    parent_task_id: str | None


class Completion(TypedDict):
    task_id: str
    status: str
    artifacts: list[ArtifactRef]
    parent_progress: ParentProgress
    next_recommended_task: TaskBrief | None
    next_step: str


class Released(TypedDict):
    task_id: str
    status: str
    released_from: str
    stale: bool


class Work:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def execute(
        self,
        session_id: str,
        client_id: str,
        task_id: str | None = None,
        *,
        lease_seconds: int | None = None,
        specialist: str | None = None,
        paths: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> WorkOrder:
        """Claim the task (without `task_id`: the best ready one, of `specialist` if given) for this
        client and hand over everything needed to do it. Taking the next task this way never races
        another agent: the session's writers take turns. `paths` (globs) are reserved with the claim:
        a claim whose paths overlap another live claim's is refused."""
        reserved = path_rules.checked(paths)
        lease = self.domain.settings.lease_seconds
        if lease_seconds is not None:
            lease = limits.between("lease_seconds", lease_seconds, limits.LEASE_MIN_SECONDS, limits.LEASE_MAX_SECONDS)
        arguments = {
            "task_id": task_id, "specialist": specialist, "lease_seconds": lease, "client_id": client_id,
            "paths": reserved or None,
        }
        request = Write(session_id, client_id, "execute_task", arguments, idempotency_key)

        def execute(change: Change) -> WorkOrder:
            task = change.task(task_id) if task_id is not None else _next_ready(change, specialist)
            chosen = task["id"]
            check_claimable(task, client_id, change.now)
            check_not_parent(task)
            dependencies = change.tx.dependencies(chosen)
            check_dependencies_done(chosen, dependencies)
            if reserved:
                _check_paths_free(change, chosen, client_id, reserved)
            holder = task["claimed_by"]
            if holder and holder != client_id:
                change.tx.append_event(change.session_id, "claim.expired", holder, change.now, chosen, client_id=holder)
            claimed = change.tx.claim_task(task, client_id, change.now, lease, reserved)
            if claimed is None:
                raise Conflict(f"Task {chosen} was claimed by another client just now.", hint="Pick another task.")
            change.tx.touch_client(client_id, change.session_id, change.now)
            change.event("task.claimed", chosen, lease_seconds=lease, **({"paths": reserved} if reserved else {}))
            dep_artifacts = change.tx.artifacts_of([d["id"] for d in dependencies])
            parent = change.tx.task(claimed["parent_id"]) if claimed["parent_id"] else None
            order = _work_order(change, claimed, dependencies, dep_artifacts, parent, client_id, change.now + lease)
            if cut := fit(order, {"dependencies": order["dependencies"]}):
                order["cut"] = cut
            return order

        return self.domain.write(request, execute)

    def complete(
        self,
        session_id: str,
        client_id: str,
        task_id: str,
        *,
        summary: str,
        detailed_work: str | None = None,
        artifacts: Sequence[ArtifactInput] = (),
        status: str = "completed",
        idempotency_key: str | None = None,
    ) -> Completion:
        """Record the result, keep long output as artifacts, release the claim."""
        if status not in COMPLETION_STATUSES:
            raise InvalidInput(f"'status' is {shown(status)}.", hint=f"Use one of: {', '.join(COMPLETION_STATUSES)}.")
        text = limits.text("summary", summary, limits.SUMMARY, required=True) or ""
        detailed = limits.text("detailed_work", detailed_work, limits.ARTIFACT_CONTENT)
        limits.count("artifacts", artifacts, limits.ARTIFACTS)
        files = [_checked_artifact(index, item) for index, item in enumerate(artifacts)]
        total = len(detailed or "") + sum(len(content) for _, _, content in files)
        if total > limits.CALL_CONTENT:
            raise InvalidInput(
                f"'detailed_work' and 'artifacts' hold {total:,} characters together; the limit is "
                f"{limits.CALL_CONTENT:,}.",
                hint="Keep the result shorter: put large files in the repository and name their paths in the summary.",
            )
        arguments = {
            "task_id": task_id,
            "summary": text,
            "detailed_work": detailed,
            "artifacts": [list(file) for file in files],
            "status": status,
        }
        request = Write(session_id, client_id, "complete_task", arguments, idempotency_key)

        def complete(change: Change) -> Completion:
            task = change.task(task_id)
            late = task["claim_lost_by"] == client_id and task["claimed_by"] is None
            if late and task["status"] not in ("pending", "cancelled"):
                raise Conflict(
                    f"Your claim on task {task_id} was taken, and the task is {task['status']} now.",
                    hint=f"{GET_STATUS} shows who holds it; plan a follow-up task for what you found.",
                )
            if not late:
                check_claim_holder(task, client_id, "complete")
            if task["open_children"]:
                raise Conflict(
                    f"Task {task_id} has {task['open_children']} unfinished subtask(s); it is done when they are.",
                    hint=f"Put it back with {UPDATE_TASK} (status 'pending'), and synthesize it once its subtasks "
                    f"are finished: {SYNTHESIZE_RESULTS} completes it.",
                )
            stored: list[ArtifactRef] = []
            if detailed:
                stored.append(change.add_artifact(task_id, "detailed_work", "detailed-work.md", "text/markdown", detailed))
            for name, mime_type, content in files:
                stored.append(change.add_artifact(task_id, "file", name, mime_type, content))
            if late and task["status"] == "cancelled":
                # The task stays cancelled; what its former holder found is kept as its result.
                change.tx.update_task(task, {"summary": text, "claim_lost_by": None, "updated_at": change.now})
                change.event("task.reported", task_id, artifacts=len(stored), after="cancellation")
            else:
                change.tx.finish_task(task, status=status, summary=text, now=change.now)
                change.event(f"task.{status}", task_id, artifacts=len(stored))
            change.tx.touch_client(client_id, change.session_id, change.now)
            parent_id = task["parent_id"]
            tx = change.tx
            counts = tx.subtree_work_counts(parent_id) if parent_id else tx.work_counts(change.session_id)
            ready = tx.ready_tasks(change.session_id, 1)
            return {
                "task_id": task_id,
                "status": "cancelled" if late and task["status"] == "cancelled" else status,
                "artifacts": stored,
                "parent_progress": {**views.summary(counts), "parent_task_id": parent_id},
                "next_recommended_task": task_brief(ready[0], change.now) if ready else None,
                "next_step": _after_completion(change, parent_id, bool(ready)),
            }

        return self.domain.write(request, complete)


    def release(
        self,
        session_id: str,
        actor: str | None,
        task_id: str,
        *,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> Released:
        """Put a claimed task back to pending for another agent. A stale claim (its lease lapsed, or its
        holder disconnected) is released at once; a live one only with `force`. The former holder can
        still hand in its report while nobody else has claimed the task."""
        request = Write(session_id, actor, "release_task", {"task_id": task_id, "force": force or None}, idempotency_key)

        def release(change: Change) -> Released:
            task = change.task(task_id)
            holder = task["claimed_by"]
            if task["status"] != "in_progress" or holder is None:
                raise Conflict(f"Task {task_id} is {task['status']} and not claimed.", hint="Nothing to release.")
            client = change.tx.client(holder)
            stale = not holds_live_claim(task, change.now) or client is None or client["state"] != "connected"
            if not (stale or force or holder == actor):
                raise Conflict(
                    f"Task {task_id} is claimed by client {holder}, which is still working on it.",
                    hint="Pass force=true to release it anyway (the holder can still hand in its report).",
                    claimed_by=holder,
                )
            change.tx.update_task(
                task, {"status": "pending", **RELEASED_CLAIM, "claim_lost_by": holder, "updated_at": change.now}
            )
            change.event("claim.released", task_id, client_id=holder, stale=stale)
            if holder != change.actor:
                tell_holder(change, holder, task, "released")
            return {"task_id": task_id, "status": "pending", "released_from": holder, "stale": stale}

        return self.domain.write(request, release)


def _check_paths_free(change: Change, task_id: str, client_id: str, reserved: list[str]) -> None:
    """Refuse paths that overlap another live claim's, naming its holder and every overlapping pair."""
    for other in change.tx.reserved_paths(change.session_id, change.now):
        if other["claimed_by"] == client_id or other["id"] == task_id:
            continue
        pairs = path_rules.conflicts(reserved, json.loads(other["claim_paths"] or "[]"))
        if pairs:
            shown = "; ".join(f"{mine} overlaps {theirs}" for mine, theirs in pairs[:5])
            raise Conflict(
                f"Those paths are reserved by client {other['claimed_by']} for task {other['id']} "
                f"({other['title']!r}): {shown}.",
                hint="Reserve other paths, wait for that claim to end, or ask its holder with "
                f"{SEND_MESSAGE}. Globs are compared conservatively: two patterns overlap when any path could "
                "match both, or lie under the other.",
                claimed_by=other["claimed_by"],
                task_id=other["id"],
                overlapping=[list(pair) for pair in pairs],
            )


def _next_ready(change: Change, specialist: str | None) -> TaskRow:
    role = specialists.resolve(specialist, change.specialist_overrides) if specialist else None
    ready = change.tx.ready_tasks(change.session_id, 1, specialist=role)
    if not ready:
        counts = change.tx.work_counts(change.session_id)
        parents_done = change.tx.to_synthesize(change.session_id, 1)
        raise Conflict(
            f"No {role + ' ' if role else ''}task is ready to start: {counts.get('pending', 0)} pending "
            f"(waiting for dependencies), {counts.get('in_progress', 0)} in progress.",
            hint=synthesis_step(parents_done[0])
            if parents_done
            else f"Plan more work with {PLAN_TASK}, or check {GET_STATUS} later.",
        )
    return ready[0]


def _after_completion(change: Change, parent_id: str | None, more_ready: bool) -> str:
    parent = change.tx.task(parent_id) if parent_id else None
    if parent is not None and parent["open_children"] == 0 and parent["status"] == "pending":
        return synthesis_step(parent)
    if more_ready:
        return f"Claim the next ready task: {EXECUTE_TASK} without a task_id."
    return f"No task is ready right now; {GET_STATUS} shows what is claimed, blocked or left to synthesize."


def _work_order(
    change: Change,
    task: TaskRow,
    dependencies: list[TaskRow],
    dep_artifacts: list[ArtifactMeta],
    parent: TaskRow | None,
    client_id: str,
    expires_at: float,
) -> WorkOrder:
    overrides = change.specialist_overrides
    return {
        "task": task_view(task, [d["id"] for d in dependencies], change.now),
        "specialist": {"name": task["specialist"], "instructions": specialists.instructions_for(task["specialist"], overrides)},
        "dependencies": [
            {
                "task_id": d["id"],
                "title": d["title"],
                "specialist": d["specialist"],
                "summary": _excerpt(d["summary"]),
                "artifacts": [artifact_ref(a) for a in dep_artifacts if a["task_id"] == d["id"]][:LISTED_ARTIFACTS],
            }
            for d in dependencies[:LISTED_DEPENDENCIES]
        ],
        "dependencies_total": len(dependencies),
        "parent": {"task_id": parent["id"], "title": parent["title"]} if parent else None,
        "claim": {"client_id": client_id, "expires_at": iso(expires_at)},
        "next_step": f"Do the work, then call {COMPLETE_TASK} with this task_id and a summary.",
    }


def _excerpt(summary: str | None) -> str | None:
    if summary is None or len(summary) <= SUMMARY_EXCERPT_CHARS:
        return summary
    return summary[:SUMMARY_EXCERPT_CHARS] + f"... [cut; read the whole task with {READ_ARTIFACT}]"


def _checked_artifact(index: int, item: ArtifactInput) -> tuple[str, str, str]:
    prefix = f"artifacts[{index}]."
    name = limits.text(prefix + "name", item.name, limits.NAME, required=True) or ""
    if not isinstance(item.content, str):
        raise InvalidInput(f"'{prefix}content' must be a string.", hint="Pass the artifact's text as 'content'.")
    limits.text(prefix + "content", item.content, limits.ARTIFACT_CONTENT, required=True)
    mime_type = limits.text(prefix + "mime_type", item.mime_type, limits.NAME) or "text/plain"
    return name, mime_type, item.content
