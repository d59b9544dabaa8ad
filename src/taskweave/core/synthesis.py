"""The combined report of a parent task (or a whole session), as Markdown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from taskweave.core.uris import artifact_uri
from taskweave.core.views import Summary, summary
from taskweave.store.records import ArtifactMeta, TaskRow

LISTED_TASKS = 500


def build_report(
    title: str,
    tasks: Sequence[TaskRow],
    artifacts: Sequence[ArtifactMeta],
    counts: dict[str, int],
    truncated: bool,
) -> tuple[str, Summary]:
    """Markdown for `tasks` (a subtree or a session) and the progress figures it states.

    Parents are containers: they are listed as the plans they are, and the figures count the work.
    """
    figures = summary(counts)
    parents = [t for t in tasks if t["children"] > 0]
    tasks = [t for t in tasks if t["children"] == 0]
    by_task: dict[str | None, list[ArtifactMeta]] = defaultdict(list)
    for artifact in artifacts:
        by_task[artifact["task_id"]].append(artifact)

    lines = [f"# {title}", ""]
    c = figures["counts"]
    lines.append(
        f"**Progress:** {c['completed']} of {figures['total']} tasks completed ({figures['percent_complete']}%); "
        f"{c['failed']} failed, {c['in_progress']} in progress, {c['pending']} pending, "
        f"{c['blocked']} blocked, {c['cancelled']} cancelled."
    )
    if truncated:
        lines.append(f"_Only the first {LISTED_TASKS} tasks are listed; the figures cover all of them._")

    if parents:
        lines += ["", "## Plans"]
        for parent in parents:
            finished = parent["children"] - parent["open_children"]
            lines.append(
                f"- **{parent['title']}** (`{parent['id']}`, {parent['status']}): "
                f"{finished} of {parent['children']} subtask(s) finished"
            )

    completed = [t for t in tasks if t["status"] == "completed"]
    if completed:
        lines += ["", "## Completed work"]
        by_specialist: dict[str, list[TaskRow]] = defaultdict(list)
        for task in completed:
            by_specialist[task["specialist"]].append(task)
        for specialist in sorted(by_specialist):
            lines += ["", f"### {specialist}"]
            for task in by_specialist[specialist]:
                lines.append(_task_line(task, by_task))

    failed = [t for t in tasks if t["status"] == "failed"]
    if failed:
        lines += ["", "## Failed"]
        lines += [_task_line(task, by_task) for task in failed]

    open_items = [t for t in tasks if t["status"] in ("pending", "in_progress", "blocked")]
    if open_items:
        lines += ["", "## Still open"]
        for task in open_items:
            note = f": {task['summary']}" if task["status"] == "blocked" and task["summary"] else ""
            lines.append(f"- [{task['status']}] **{task['title']}** (`{task['id']}`, {task['specialist']}){note}")

    if artifacts:
        lines += ["", "## Artifacts"]
        for artifact in artifacts:
            lines.append(f"- {artifact['name']} ({artifact['kind']}, {artifact['size']:,} bytes): {artifact_uri(artifact['id'])}")
    return "\n".join(lines) + "\n", figures


def _task_line(task: TaskRow, artifacts_by_task: dict[str | None, list[ArtifactMeta]]) -> str:
    summary = (task["summary"] or "").strip().replace("\n", " ")
    refs = "".join(f" [{a['name']}]({artifact_uri(a['id'])})" for a in artifacts_by_task.get(task["id"], []))
    return f"- **{task['title']}** (`{task['id']}`): {summary}{refs}"
