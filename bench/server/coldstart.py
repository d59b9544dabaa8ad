"""Cold start: spawn -> initialize -> tools/list, for taskweave (new and existing store) against the bare SDK server.

The three variants run interleaved, in an order that rotates every round, so
whatever else the machine is doing lands on all of them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from mcp.client.stdio import StdioServerParameters

from bench.common import Row, Section, connect, rotated, taskweave_params
from bench.server.baseline import baseline_params

TARGET = 1.15


async def time_cold_start(params: StdioServerParameters) -> float:
    """Seconds from spawning the process to holding the tools/list answer (shutdown is not counted)."""
    start = time.perf_counter()
    async with connect(params) as client:
        await client.list_tools()
        elapsed = time.perf_counter() - start
    return elapsed


async def prepare_existing_store(store: Path) -> None:
    """Create and migrate a store once, the way a user's second window finds it."""
    async with connect(taskweave_params(store)) as client:
        await client.list_tools()


async def run(tmp: Path, runs: int) -> Section:
    existing = tmp / "existing.db"
    await prepare_existing_store(existing)
    variants: dict[str, Callable[[int], StdioServerParameters]] = {
        "bare MCPServer (1 no-op tool)": lambda _: baseline_params(),
        "taskweave serve, new store": lambda i: taskweave_params(tmp / f"fresh-{i}.db"),
        "taskweave serve, existing store": lambda _: taskweave_params(existing),
    }
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        for name in rotated(names, i):
            samples[name].append(await time_cold_start(variants[name](i)))
    bare = Row(names[0], samples[names[0]])
    rows = [bare] + [Row(name, samples[name], reference=bare.median, target=TARGET) for name in names[1:]]
    return Section(
        "1. Cold start: spawn -> initialize -> tools/list (stdio)",
        "bare",
        rows,
        notes=[f"ratio = median / bare MCPServer median; {runs} interleaved runs per variant"],
    )
