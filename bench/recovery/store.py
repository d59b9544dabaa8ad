"""The stores the recovery benchmark restarts servers against: one session, a known client holding claims.

The bulk of the session comes from `bench.common.populate` (the same plans as
the re-attach section of `python -m bench.server`). One more work package,
planned by the same client, completes a few tasks with `detailed_work` and a
file artifact (so artifacts are in the store) and claims enough of the rest
that the known client holds the same number of claims at every size: what a
reconnect must hand back follows the number of agents, not of tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.common import populate, session_writer

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
    with session_writer(store, workspace) as writer:
        populate(writer, tasks - EXTRA_PACKAGE)
        held = len(writer.claims())
        subtask_ids = writer.plan(
            "Recovery work package", "Work done before the restart.",
            [{"title": f"Recovery step {i}", "specialist": "implementer"} for i in range(EXTRA_PACKAGE - 1)],
        )
        for task_id in subtask_ids[:WITH_ARTIFACTS]:
            writer.claim(task_id)
            writer.complete(
                task_id, "Done, details in the artifacts.", detailed_work=DETAILED_WORK,
                artifacts=[{"name": "report.md", "content": f"# Report for {task_id}\n\nAll checks passed.\n"}],
            )
        for task_id in subtask_ids[WITH_ARTIFACTS : WITH_ARTIFACTS + CLAIMS - held]:
            writer.claim(task_id)
        claims = writer.claims()
    assert all(c.client_id == writer.client_id for c in claims) and len(claims) == CLAIMS, claims
    return KnownClient(writer.session_id, writer.client_id, frozenset(c.task_id for c in claims))
