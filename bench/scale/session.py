"""A session of N tasks, half of them waiting on one unfinished gate task, filled through taskweave's domain layer.

The shape is the same at every size, so each call does the same work and only
the session's size differs: plans of PLAN_SIZE tasks (a parent and its
subtasks), first the blocked half, then the open half:

- blocked: every subtask depends on the gate, which another client holds
  claimed, so none of them is ready and their parent waits on them. Planned
  first, they are the oldest pending tasks: a query that walks the pending
  tasks in order and filters the blocked ones out pays for every one of them;
- open: subtasks chained five by five, the first OPEN_DONE of them completed,
  the rest pending (the head of each open chain is ready).

The specialists rotate implementer / tester / reviewer. One word in ten
titles is "parser" (a common word), and exactly NEEDLES pending tasks, spread
over the session, carry the rare word "zeppelin".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from taskweave.core.clients import ClientInfo
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskDraft
from taskweave.workspace import detect_workspace

PLAN_SIZE = 100
CHAIN = 5
OPEN_DONE = 0.2
NEEDLES = 5
CLAIMS_HELD = 3
GATE_LEASE_SECONDS = 86_400
ROLES = ("implementer", "tester", "reviewer")
COMMON_WORD = "parser"
RARE_WORD = "zeppelin"
PHRASES = (
    "Refactor the module and keep its public interface.",
    "Add the missing validation and its error messages.",
    "Measure the slow path and write down what was found.",
    "Update the documentation for the new options.",
    "Handle the empty input case without raising.",
)


@dataclass
class Filled:
    """A session ready to be measured: who works in it, and what filling it took."""

    session_id: str
    client_id: str
    tasks: int
    blocked: int
    completed: int
    needles: int
    seconds: float


def _plan_sizes(tasks: int) -> list[int]:
    """How many tasks each plan holds (a parent and its subtasks), `tasks` in all."""
    plans = math.ceil(tasks / PLAN_SIZE)
    return [tasks // plans + (1 if plan < tasks % plans else 0) for plan in range(plans)]


def _needle_plans(open_plans: list[int]) -> set[int]:
    """NEEDLES open plans spread evenly over the session, whatever its size."""
    if len(open_plans) <= NEEDLES:
        return set(open_plans)
    step = (len(open_plans) - 1) / (NEEDLES - 1)
    return {open_plans[round(k * step)] for k in range(NEEDLES)}


def fill(orchestrator: Orchestrator, workspace: Path, tasks: int) -> Filled:
    """Create the workspace's session and fill it with exactly `tasks` tasks (the gate among them)."""
    started = time.perf_counter()
    detection = detect_workspace(str(workspace))
    worker = orchestrator.sessions.initialize(detection, client=ClientInfo(name="bench-scale", transport="stdio"))
    holder = orchestrator.sessions.initialize(detection, client=ClientInfo(name="bench-scale-holder", transport="stdio"))
    session_id, holder_id = worker["session_id"], holder["client_id"]
    gate_draft = TaskDraft(title="Release gate: sign off the design", specialist="reviewer")
    gate = orchestrator.tasks.plan(session_id, holder_id, gate_draft)["task_id"]
    orchestrator.work.execute(session_id, holder_id, gate, lease_seconds=GATE_LEASE_SECONDS)

    sizes = _plan_sizes(tasks - 1)
    first_open = len(sizes) // 2
    needles = _needle_plans(list(range(first_open, len(sizes))))
    blocked = completed = 0
    for plan, size in enumerate(sizes):
        is_blocked = plan < first_open
        subtasks = []
        for i in range(size - 1):
            word = f" {COMMON_WORD}" if i % 10 == 3 else ""
            description = f"Part {i} of work package {plan}. {PHRASES[(plan + i) % len(PHRASES)]}"
            if plan in needles and i == size - 2:
                description += f" Check the {RARE_WORD} case."
            dependencies: list[str | int] = [gate] if is_blocked else ([i - 1] if i % CHAIN else [])
            subtasks.append(TaskDraft(
                title=f"Step {plan}.{i}{word}", description=description, specialist=ROLES[i % len(ROLES)],
                dependencies=dependencies,
            ))
        kind = "Blocked" if is_blocked else "Open"
        planned = orchestrator.tasks.plan(
            session_id, holder_id, TaskDraft(title=f"{kind} work package {plan}", description="A batch of work."),
            subtasks=subtasks,
        )
        if is_blocked:
            blocked += size
            continue
        for subtask in planned["subtasks"][: int(len(subtasks) * OPEN_DONE)]:
            orchestrator.work.execute(session_id, holder_id, subtask["task_id"])
            orchestrator.work.complete(session_id, holder_id, subtask["task_id"], summary="Done.")
            completed += 1
    for _ in range(CLAIMS_HELD):
        orchestrator.work.execute(session_id, holder_id, None)
    return Filled(
        session_id, worker["client_id"], tasks, blocked, completed, len(needles), time.perf_counter() - started
    )
