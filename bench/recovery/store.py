"""The stores the recovery benchmark restarts servers against: one session, a known client holding claims.

The bulk of the session comes from `server_reattach.populate` (the same plans
as the re-attach section of `bench_server.py`). One more work package, planned
by the same client, completes a few tasks with `detailed_work` and a file
artifact (so artifacts are in the store) and claims enough of the rest that
the known client holds the same number of claims at every size: what a
reconnect must hand back follows the number of agents, not of tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taskweave.core.service import Orchestrator
from taskweave.workspace import detect_workspace

from bench.server.reattach import populate

CLAIMS = 4
WITH_ARTIFACTS = 2
EXTRA_PACKAGE = 1 + WITH_ARTIFACTS + CLAIMS  # the parent, its completed subtasks, the subtasks it may claim
DETAILED_WORK = "Steps taken, commands run and their output.\n" * 40


@dataclass(frozen=True)
class KnownClient:
    """Who reconnects after the restart, and what it must get back."""

    session_id: str
    client_id: str
    claims: frozenset[str]


def prepare_store(store: Path, workspace: Path, tasks: int) -> KnownClient:
    """Fill `store` with one session of exactly `tasks` tasks; return its client that holds CLAIMS claims."""
    if tasks < EXTRA_PACKAGE + 2:
        raise ValueError(f"a recovery store needs at least {EXTRA_PACKAGE + 2} tasks")
    populate(store, workspace, tasks - EXTRA_PACKAGE)
    with Orchestrator.open(str(store)) as orchestrator:
        session_id = orchestrator.active_session_id(detect_workspace(str(workspace)))
        assert session_id is not None, "populate left no active session"
        status = orchestrator.get_status(session_id)
        client_id = status["clients"][0]["client_id"]
        held = len(status["claims"])
        planned = orchestrator.plan_task(
            session_id, client_id, title="Recovery work package", description="Work done before the restart.",
            subtasks=[{"title": f"Recovery step {i}", "specialist": "implementer"} for i in range(EXTRA_PACKAGE - 1)],
        )
        subtask_ids = [s["task_id"] for s in planned["subtasks"]]
        for task_id in subtask_ids[:WITH_ARTIFACTS]:
            orchestrator.execute_task(session_id, client_id, task_id)
            orchestrator.complete_task(
                session_id, client_id, task_id, summary="Done, details in the artifacts.", detailed_work=DETAILED_WORK,
                artifacts=[{"name": "report.md", "content": f"# Report for {task_id}\n\nAll checks passed.\n"}],
            )
        for task_id in subtask_ids[WITH_ARTIFACTS : WITH_ARTIFACTS + CLAIMS - held]:
            orchestrator.execute_task(session_id, client_id, task_id)
        claims = orchestrator.get_status(session_id)["claims"]
    assert all(c["client_id"] == client_id for c in claims) and len(claims) == CLAIMS, claims
    return KnownClient(session_id, client_id, frozenset(c["task_id"] for c in claims))
