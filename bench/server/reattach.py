"""Re-attach at scale: a fresh server process joins a session that already holds 10, 1,000 or 10,000 tasks.

The stores are filled in-process by `bench.common.populate`: plans of
subtasks in chains, most of them completed, and a few tasks in progress
whatever the size.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import Row, Section, call, connect, populate, rotated, session_writer, taskweave_params

TARGET = 1.5


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
        with session_writer(stores[size], workspace) as writer:
            populate(writer, size)
        populate_seconds[size] = time.perf_counter() - start
    calls: dict[int, list[float]] = {size: [] for size in sizes}
    totals: dict[int, list[float]] = {size: [] for size in sizes}
    for i in range(runs):
        for size in rotated(sizes, i):
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
