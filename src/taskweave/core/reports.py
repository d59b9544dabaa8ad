"""Reports: combining a parent's (or a session's) work into one document, and reading artifacts back."""

from __future__ import annotations

from typing import Any, TypedDict, cast

from taskweave.core.domain import Change, Domain, Write
from taskweave.core.model import FINISHED
from taskweave.core.synthesis import LISTED_TASKS, build_report
from taskweave.core.tool_names import GET_STATUS, READ_ARTIFACT
from taskweave.core.views import ArtifactRef, Summary, fit_text
from taskweave.errors import NotFound, shown
from taskweave.store.records import ArtifactRow, TaskRow

CUT_NOTE = f"\n\n[... the rest is in the artifact: read it with {READ_ARTIFACT}]\n"


class Synthesis(TypedDict):
    parent_task_id: str | None
    report: str
    progress: Summary
    artifact: ArtifactRef
    parent_completed: bool
    next_step: str


class Reports:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def synthesize(
        self, session_id: str, actor: str | None, *, parent_task_id: str | None = None, idempotency_key: str | None = None
    ) -> Synthesis:
        """Combine the work under a parent (or the session) into one report, kept as an artifact.

        A parent whose every subtask is finished is complete once synthesized: its report is its result.
        """
        request = Write(session_id, actor, "synthesize_results", {"parent_task_id": parent_task_id}, idempotency_key)

        def synthesize(change: Change) -> Synthesis:
            tx = change.tx
            parent = change.task(parent_task_id) if parent_task_id else None
            if parent is not None:
                ids = tx.subtree_ids(parent["id"])
                rows = tx.tasks_by_ids(ids[:LISTED_TASKS])
                counts = tx.subtree_work_counts(parent["id"])
                title = f"Results: {parent['title']}"
                truncated = len(ids) > LISTED_TASKS
            else:
                rows = tx.session_tasks(change.session_id, LISTED_TASKS)
                counts = tx.work_counts(change.session_id)
                title = f"Results: session {change.session['name']}"
                truncated = sum(tx.status_counts(change.session_id).values()) > LISTED_TASKS
            artifacts = [a for a in tx.artifacts_of([r["id"] for r in rows]) if a["kind"] != "synthesis"]
            report, figures = build_report(title, rows, artifacts, counts, truncated)
            task_id = parent["id"] if parent else None
            stored = change.add_artifact(task_id, "synthesis", "synthesis-report.md", "text/markdown", report)
            completes = parent is not None and parent["open_children"] == 0 and parent["status"] not in FINISHED
            if parent is not None and completes:
                summary = f"Synthesized: {figures['counts']['completed']} of {figures['total']} subtask(s) completed."
                tx.finish_task(parent, status="completed", summary=summary, now=change.now)
                change.event("task.completed", parent["id"], synthesized=True)
            answer: Synthesis = {
                "parent_task_id": parent_task_id,
                "report": report,
                "progress": figures,
                "artifact": stored,
                "parent_completed": completes,
                "next_step": _after_synthesis(parent, completes),
            }
            fit_text(cast(dict[str, Any], answer), "report", CUT_NOTE)
            return answer

        return self.domain.write(request, synthesize)

    def artifact(self, artifact_id: str) -> ArtifactRow:
        """An artifact with its content (the artifact resource and `orchestrator_read_artifact`)."""
        with self.domain.reading() as tx:
            artifact = tx.artifact(artifact_id)
        if artifact is None:
            raise NotFound(f"No artifact {shown(artifact_id)}.", hint="Use an artifact URI a tool returned.")
        return artifact


def _after_synthesis(parent: TaskRow | None, completed: bool) -> str:
    if parent is None:
        return f"The report is kept as an artifact; read it with {READ_ARTIFACT}."
    if completed:
        return f"Task {parent['id']} is complete; its report is its result. {GET_STATUS} shows what is left."
    return (
        f"Task {parent['id']} stays open: {parent['open_children']} of its subtasks are unfinished. "
        "Synthesize it again when they are done to complete it."
    )
