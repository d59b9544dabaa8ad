"""Doing the work: claiming a task with everything needed to do it, and recording its result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from taskweave.core import limits, specialists, views
from taskweave.core.domain import Change, Domain, Write
from taskweave.core.model import COMPLETION_STATUSES
from taskweave.core.rules import check_claim_holder, check_claimable, check_dependencies_done
from taskweave.core.tool_names import COMPLETE_TASK, GET_STATUS, PLAN_TASK
from taskweave.core.views import ArtifactRef, Summary, TaskBrief, TaskView, artifact_ref, iso, task_brief, task_view
from taskweave.errors import Conflict, InvalidInput
from taskweave.store.records import ArtifactMeta, TaskRow


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
    parent: ParentBrief | None
    claim: ClaimBrief
    next_step: str


class ParentProgress(Summary):
    parent_task_id: str | None


class Completion(TypedDict):
    task_id: str
    status: str
    artifacts: list[ArtifactRef]
    parent_progress: ParentProgress
    next_recommended_task: TaskBrief | None


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
        idempotency_key: str | None = None,
    ) -> WorkOrder:
        """Claim the task (without `task_id`: the best ready one, of `specialist` if given) for this
        client and hand over everything needed to do it. Taking the next task this way never races
        another agent: the session's writers take turns."""
        lease = self.domain.settings.lease_seconds
        if lease_seconds is not None:
            lease = limits.between("lease_seconds", lease_seconds, limits.LEASE_MIN_SECONDS, limits.LEASE_MAX_SECONDS)
        arguments = {"task_id": task_id, "specialist": specialist, "lease_seconds": lease, "client_id": client_id}
        request = Write(session_id, client_id, "execute_task", arguments, idempotency_key)

        def execute(change: Change) -> WorkOrder:
            chosen = task_id if task_id is not None else _next_ready(change, specialist)
            task = change.task(chosen)
            check_claimable(task, client_id, change.now)
            dependencies = change.tx.dependencies(chosen)
            check_dependencies_done(chosen, dependencies)
            holder = task["claimed_by"]
            if holder and holder != client_id:
                change.tx.append_event(change.session_id, "claim.expired", holder, change.now, chosen, client_id=holder)
            if not change.tx.claim_task(chosen, client_id, change.now, lease):
                raise Conflict(f"Task {chosen} was claimed by another client just now.", hint="Pick another task.")
            change.tx.touch_client(client_id, change.session_id, change.now)
            change.event("task.claimed", chosen, lease_seconds=lease)
            claimed = change.task(chosen)
            dep_artifacts = change.tx.artifacts_of([d["id"] for d in dependencies])
            parent = change.tx.task(claimed["parent_id"]) if claimed["parent_id"] else None
            return _work_order(change, claimed, dependencies, dep_artifacts, parent, client_id, change.now + lease)

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
            raise InvalidInput(f"'status' is {status!r}.", hint=f"Use one of: {', '.join(COMPLETION_STATUSES)}.")
        text = limits.text("summary", summary, limits.SUMMARY, required=True) or ""
        detailed = limits.text("detailed_work", detailed_work, limits.ARTIFACT_CONTENT)
        limits.count("artifacts", artifacts, limits.ARTIFACTS)
        files = [_checked_artifact(index, item) for index, item in enumerate(artifacts)]
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
            check_claim_holder(task, client_id, "complete")
            stored: list[ArtifactRef] = []
            if detailed:
                stored.append(change.add_artifact(task_id, "detailed_work", "detailed-work.md", "text/markdown", detailed))
            for name, mime_type, content in files:
                stored.append(change.add_artifact(task_id, "file", name, mime_type, content))
            change.tx.finish_task(task_id, status=status, summary=text, now=change.now)
            change.event(f"task.{status}", task_id, artifacts=len(stored))
            change.tx.touch_client(client_id, change.session_id, change.now)
            parent_id = task["parent_id"]
            counts = change.tx.child_status_counts(parent_id) if parent_id else change.tx.status_counts(change.session_id)
            ready = change.tx.ready_tasks(change.session_id, 1)
            return {
                "task_id": task_id,
                "status": status,
                "artifacts": stored,
                "parent_progress": {**views.summary(counts), "parent_task_id": parent_id},
                "next_recommended_task": task_brief(ready[0], change.now) if ready else None,
            }

        return self.domain.write(request, complete)


def _next_ready(change: Change, specialist: str | None) -> str:
    role = specialists.resolve(specialist, change.specialist_overrides) if specialist else None
    ready = change.tx.ready_tasks(change.session_id, 1, specialist=role)
    if not ready:
        counts = change.tx.status_counts(change.session_id)
        raise Conflict(
            f"No {role + ' ' if role else ''}task is ready to start: {counts.get('pending', 0)} pending "
            f"(waiting for dependencies), {counts.get('in_progress', 0)} in progress.",
            hint=f"Plan more work with {PLAN_TASK}, or check {GET_STATUS} later.",
        )
    return ready[0]["id"]


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
                "summary": d["summary"],
                "artifacts": [artifact_ref(a) for a in dep_artifacts if a["task_id"] == d["id"]],
            }
            for d in dependencies
        ],
        "parent": {"task_id": parent["id"], "title": parent["title"]} if parent else None,
        "claim": {"client_id": client_id, "expires_at": iso(expires_at)},
        "next_step": f"Do the work, then call {COMPLETE_TASK} with this task_id and a summary.",
    }


def _checked_artifact(index: int, item: ArtifactInput) -> tuple[str, str, str]:
    prefix = f"artifacts[{index}]."
    name = limits.text(prefix + "name", item.name, limits.NAME, required=True) or ""
    if not isinstance(item.content, str):
        raise InvalidInput(f"'{prefix}content' must be a string.", hint="Pass the artifact's text as 'content'.")
    limits.text(prefix + "content", item.content, limits.ARTIFACT_CONTENT, required=True)
    mime_type = limits.text(prefix + "mime_type", item.mime_type, limits.NAME) or "text/plain"
    return name, mime_type, item.content
