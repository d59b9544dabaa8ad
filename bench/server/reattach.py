"""Re-attach at scale: a fresh server process joins a session that already holds 10, 1,000 or 10,000 tasks.

The stores are filled in-process through `Orchestrator`, which is much faster
than going through the tools and writes exactly what the tools would. Each
plan is a parent with up to 99 subtasks in chains of five; in every plan the
first 60% of the subtasks are completed and the rest are pending, so the
ready-task and count queries see a realistic mix. A few agents are at work
(CLAIMS tasks in progress) whatever the size: the number of claims follows
the number of agents, not the number of tasks, and the status lists every one.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from taskweave.core.service import ClientInfo, Orchestrator
from taskweave.workspace import detect_workspace

from bench.common import Row, Section, call, connect, taskweave_params

TARGET = 1.5
PLAN_SIZE = 100
CHAIN = 5
DONE_FRACTION = 0.6
CLAIMS = 3


def populate(store: Path, workspace: Path, tasks: int) -> None:
    """Fill a store with one session of exactly `tasks` tasks in the workspace."""
    plans = math.ceil(tasks / PLAN_SIZE)
    with Orchestrator.open(str(store)) as orchestrator:
        attached = orchestrator.initialize_session(
            detect_workspace(str(workspace)), client=ClientInfo(name="bench-populate", transport="stdio")
        )
        session_id, client_id = attached["session_id"], attached["client_id"]
        for plan in range(plans):
            size = tasks // plans + (1 if plan < tasks % plans else 0)
            subtasks = [
                {
                    "title": f"Step {plan}.{i}",
                    "description": f"Part {i} of work package {plan}.",
                    "specialist": ("implementer", "tester", "reviewer")[i % 3],
                    "dependencies": [i - 1] if i % CHAIN else [],
                }
                for i in range(size - 1)
            ]
            planned = orchestrator.plan_task(
                session_id, client_id, title=f"Work package {plan}", description="A batch of work.", subtasks=subtasks
            )
            ids = [s["task_id"] for s in planned["subtasks"]]
            for task_id in ids[: int(len(ids) * DONE_FRACTION)]:
                orchestrator.execute_task(session_id, client_id, task_id)
                orchestrator.complete_task(session_id, client_id, task_id, summary="Done.")
        for ready in orchestrator.get_status(session_id)["tasks"]["ready"][:CLAIMS]:
            orchestrator.execute_task(session_id, client_id, ready["task_id"])


async def time_reattach(store: Path, workspace: Path) -> tuple[float, float]:
    """(seconds for initialize_session + get_status once the server is up, seconds from spawn to the same point)."""
    spawned = time.perf_counter()
    async with connect(taskweave_params(store, cwd=workspace)) as client:
        ready = time.perf_counter()
        await call(client, "orchestrator_initialize_session", {"working_directory": str(workspace)})
        await call(client, "orchestrator_get_status")
        done = time.perf_counter()
    return done - ready, done - spawned


async def run(tmp: Path, workspace: Path, sizes: list[int], runs: int) -> Section:
    stores: dict[int, Path] = {}
    populate_seconds: dict[int, float] = {}
    for size in sizes:
        stores[size] = tmp / f"reattach-{size}.db"
        start = time.perf_counter()
        populate(stores[size], workspace, size)
        populate_seconds[size] = time.perf_counter() - start
    calls: dict[int, list[float]] = {size: [] for size in sizes}
    totals: dict[int, list[float]] = {size: [] for size in sizes}
    for i in range(runs):
        shift = i % len(sizes)
        for size in sizes[shift:] + sizes[:shift]:
            call_seconds, total_seconds = await time_reattach(stores[size], workspace)
            calls[size].append(call_seconds)
            totals[size].append(total_seconds)
    smallest = min(sizes)
    base_calls = Row(f"{smallest:,} tasks: initialize + get_status", calls[smallest])
    base_total = Row(f"{smallest:,} tasks: total from spawn", totals[smallest])
    rows = [base_calls, base_total]
    for size in sorted(sizes):
        if size == smallest:
            continue
        extra = {"tasks": size, "populate_s": populate_seconds[size]}
        rows.append(Row(f"{size:,} tasks: initialize + get_status", calls[size], base_calls.median, TARGET, extra=extra))
        rows.append(Row(f"{size:,} tasks: total from spawn", totals[size], base_total.median, extra=extra))
    return Section(
        "3. Re-attach at scale: initialize_session + get_status in a fresh server process",
        f"{smallest:,} tasks",
        rows,
        notes=[
            f"ratio = median / the same figure at {smallest:,} tasks; target applies to the two calls; "
            f"{runs} interleaved fresh processes per size",
            "store fill time: " + ", ".join(f"{size:,} tasks {populate_seconds[size]:.1f} s" for size in sizes),
        ],
    )
