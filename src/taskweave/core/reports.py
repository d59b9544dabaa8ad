"""Reports: combining a parent's (or a session's) work into one document, and reading artifacts back."""

from __future__ import annotations

from typing import TypedDict

from taskweave.core.domain import Change, Domain, Write
from taskweave.core.synthesis import LISTED_TASKS, build_report
from taskweave.core.views import ArtifactRef, Summary
from taskweave.errors import NotFound
from taskweave.store.records import ArtifactRow

INLINE_REPORT_CHARS = 20_000


class Synthesis(TypedDict):
    parent_task_id: str | None
    report: str
    progress: Summary
    artifact: ArtifactRef


class Reports:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def synthesize(
        self, session_id: str, actor: str | None, *, parent_task_id: str | None = None, idempotency_key: str | None = None
    ) -> Synthesis:
        """Combine the work under a parent (or the session) into one report, kept as an artifact."""
        request = Write(session_id, actor, "synthesize_results", {"parent_task_id": parent_task_id}, idempotency_key)

        def synthesize(change: Change) -> Synthesis:
            tx = change.tx
            if parent_task_id:
                parent = change.task(parent_task_id)
                ids = tx.subtree_ids(parent_task_id)
                rows = tx.tasks_by_ids(ids[:LISTED_TASKS])
                counts = tx.subtree_status_counts(parent_task_id)
                title = f"Results: {parent['title']}"
                truncated = len(ids) > LISTED_TASKS
            else:
                rows = tx.session_tasks(change.session_id, LISTED_TASKS)
                counts = tx.status_counts(change.session_id)
                title = f"Results: session {change.session['name']}"
                truncated = sum(counts.values()) > LISTED_TASKS
            artifacts = [a for a in tx.artifacts_of([r["id"] for r in rows]) if a["kind"] != "synthesis"]
            report, figures = build_report(title, rows, artifacts, counts, truncated)
            stored = change.add_artifact(parent_task_id or None, "synthesis", "synthesis-report.md", "text/markdown", report)
            if len(report) > INLINE_REPORT_CHARS:
                report = report[:INLINE_REPORT_CHARS] + "\n\n[...truncated; read the artifact for the full report]\n"
            return {"parent_task_id": parent_task_id, "report": report, "progress": figures, "artifact": stored}

        return self.domain.write(request, synthesize)

    def artifact(self, artifact_id: str) -> ArtifactRow:
        with self.domain.reading() as tx:
            artifact = tx.artifact(artifact_id)
        if artifact is None:
            raise NotFound(f"No artifact {artifact_id!r}.", hint="Use an artifact URI a tool returned.")
        return artifact
