"""What N agents' servers cost in memory: one `taskweave serve` per agent on stdio, or one HTTP daemon for all.

    python -m bench.memory                      # 32 agents, SQLite
    python -m bench.memory --agents 8
    python -m bench.memory --stores sqlite,postgresql://USER@127.0.0.1:5432/DB
    python -m bench.memory --json memory.json

For each store (sqlite: a new file; a PostgreSQL URL: a new database created
through it and dropped at the end), in a temporary git workspace:

- stdio: N `taskweave serve --store S` processes, spawned as MCP clients on
  one machine launch them (a few at a time: each import costs a second or two
  of CPU), each driven over its pipes;
- HTTP: one `taskweave serve --http` daemon, measured once it listens and
  again with N agents attached, each on its own keep-alive connection.

Every agent goes through the initialize handshake, attaches to the
workspace's session and makes a few typical calls (plan a task with three
subtasks, get the status, query pending tasks, claim the next ready task and
complete it). Then the memory of the server processes (never the clients) is
read from /proc/PID/smaps_rollup: RSS, and PSS, which divides every shared
page among the processes that map it, so a sum of PSS is what the processes
really cost together. Targets: the daemon with N agents at most 100 MiB PSS,
and at most what two stdio servers cost. The exit status is
0 only when every target is met and every call succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.common import (
    HttpDaemon,
    StdioConnection,
    TransportError,
    make_git_workspace,
    postgres_database,
    print_environment,
    run_in_temporary_directory,
    table,
    verdict,
)
from bench.load.transport import HttpConnection

DEFAULT_AGENTS = 32
SPAWN_CONCURRENCY = 2  # stdio servers importing at once: one per core
CALL_TIMEOUT_SECONDS = 60.0
MAX_DAEMON_MIB = 100.0
DAEMON_AT_MOST_SERVERS = 2  # one daemon for every agent costs at most what this many stdio servers cost
MIB = 1024 * 1024


class Connection(Protocol):
    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Memory:
    """One process's memory, in bytes: resident, proportional (shared pages divided), and private."""

    rss: int
    pss: int
    private: int

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) * 1024
        return cls(fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found, level = [pid], [pid]
    while level:
        children: list[int] = []
        for parent in level:
            for task in Path(f"/proc/{parent}/task").iterdir():
                children += [int(child) for child in (task / "children").read_text().split()]
        found += children
        level = children
    return found


def measured(pids: Sequence[int]) -> list[Memory]:
    """The memory of each server process and its children, read as close together as possible."""
    readings = []
    for pid in pids:
        parts = [Memory.of(p) for p in process_tree(pid)]
        readings.append(Memory(sum(m.rss for m in parts), sum(m.pss for m in parts), sum(m.private for m in parts)))
    return readings


async def call(connection: Connection, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool; anything but a successful answer stops the bench (the figures would describe a broken run)."""
    message = await asyncio.wait_for(
        connection.request("tools/call", {"name": tool, "arguments": arguments}), CALL_TIMEOUT_SECONDS
    )
    if "error" in message:
        raise TransportError(f"{tool}: JSON-RPC error {message['error']}")
    result = message["result"]
    body: dict[str, Any] = result.get("structuredContent") or json.loads(result["content"][0]["text"])
    if result.get("isError"):
        raise TransportError(f"{tool} failed: {body}")
    return body


async def work(connection: Connection, workspace: Path, name: str) -> int:
    """What an agent does first: attach, plan, look around, claim and complete; the number of calls."""
    await call(connection, "orchestrator_initialize_session", {"working_directory": str(workspace)})
    subtasks = [{"title": f"{name} step {i}", **({"dependencies": [i - 1]} if i else {})} for i in range(3)]
    await call(connection, "orchestrator_plan_task", {"title": f"{name} work", "description": "memory bench", "subtasks": subtasks})
    await call(connection, "orchestrator_get_status", {})
    await call(connection, "orchestrator_query_tasks", {"status": "pending", "limit": 10})
    order = await call(connection, "orchestrator_execute_task", {})
    await call(connection, "orchestrator_complete_task", {"task_id": order["task"]["task_id"], "summary": "Done."})
    return 6


@dataclass
class Figures:
    """One configuration's server processes, measured."""

    store: str
    configuration: str
    agents: int
    memory: list[Memory]
    calls: int
    seconds: float

    def total(self, field: str) -> int:
        return sum(getattr(m, field) for m in self.memory)

    def median(self, field: str) -> float:
        return statistics.median(getattr(m, field) for m in self.memory)

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store, "configuration": self.configuration, "agents": self.agents, "calls": self.calls,
            "seconds": self.seconds, "processes": [asdict(m) for m in self.memory],
            "rss_total": self.total("rss"), "pss_total": self.total("pss"), "private_total": self.total("private"),
        }


async def stdio_fleet(store: str, label: str, workspace: Path, log: Path, agents: int) -> Figures:
    """N stdio servers, each started and driven as its own agent's client would."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(SPAWN_CONCURRENCY)
    connections: list[StdioConnection] = []

    async def agent(index: int) -> int:
        async with gate:
            connection = await StdioConnection.start(store, workspace, log, f"memory-agent-{index}")
            connections.append(connection)
        return await work(connection, workspace, f"stdio-{index}")

    try:
        calls = await gathered([agent(i) for i in range(agents)])
        await asyncio.sleep(1)
        memory = measured([c.process.pid for c in connections])
    finally:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    return Figures(label, f"{agents} stdio servers", agents, memory, sum(calls), time.perf_counter() - started)


async def http_daemon(store: str, label: str, workspace: Path, log: Path, agents: int) -> tuple[Figures, Figures]:
    """One daemon, measured once it listens and again with N agents attached."""
    started = time.perf_counter()
    async with await HttpDaemon.start(store, workspace, log=log) as daemon:
        await asyncio.sleep(1)
        idle = Figures(label, "1 HTTP daemon, idle", 0, measured([daemon.process.pid]), 0, time.perf_counter() - started)
        connections: list[HttpConnection] = []

        async def agent(index: int) -> int:
            connection = await HttpConnection.start(daemon.url, f"memory-agent-{index}", timeout=CALL_TIMEOUT_SECONDS)
            connections.append(connection)
            return await work(connection, workspace, f"http-{index}")

        try:
            calls = await gathered([agent(i) for i in range(agents)])
            await asyncio.sleep(1)
            memory = measured([daemon.process.pid])
        finally:
            await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    busy = Figures(label, f"1 HTTP daemon, {agents} agents", agents, memory, sum(calls), time.perf_counter() - started)
    return idle, busy


async def gathered(runs: Sequence[Awaitable[int]]) -> list[int]:
    """Every run's result; the first failure is raised once all have ended."""
    results = await asyncio.gather(*runs, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, int)]


def label_of(store: str) -> str:
    return "sqlite" if store == "sqlite" else "pg"


async def run(root: Path, stores: list[str], agents: int) -> list[Figures]:
    figures: list[Figures] = []
    log = root / "servers.log"
    for store in stores:
        label = label_of(store)
        place = nullcontext(str(root / "memory.db")) if store == "sqlite" else postgres_database(store, "memory")
        with place as location:
            workspace = make_git_workspace(root / f"project-{label}")
            print(f"{label}: {agents} stdio servers ...", file=sys.stderr, flush=True)
            figures.append(await stdio_fleet(location, label, workspace, log, agents))
            print(f"{label}: one HTTP daemon, {agents} agents ...", file=sys.stderr, flush=True)
            figures.extend(await http_daemon(location, label, workspace, log, agents))
    return figures


def mib(value: float) -> str:
    return f"{value / MIB:,.1f}"


def report(figures: list[Figures]) -> tuple[list[str], bool]:
    header = ("store", "servers", "processes", "RSS total MiB", "PSS total MiB", "PSS per process MiB",
              "private per process MiB", "calls", "time s")
    rows = [
        (
            f.store, f.configuration, str(len(f.memory)), mib(f.total("rss")), mib(f.total("pss")),
            mib(f.median("pss")), mib(f.median("private")), str(f.calls), f"{f.seconds:.0f}",
        )
        for f in figures
    ]
    lines = table(header, rows, left_aligned=2)
    lines.append("per process: the median over the processes")
    passed = True
    for store in dict.fromkeys(f.store for f in figures):
        fleet, idle, daemon = [f for f in figures if f.store == store]
        saving = fleet.total("pss") / daemon.total("pss")
        in_servers = daemon.total("pss") / fleet.median("pss")
        per_agent = (daemon.total("pss") - idle.total("pss")) / max(daemon.agents, 1)
        small = daemon.total("pss") <= MAX_DAEMON_MIB * MIB
        cheap = in_servers <= DAEMON_AT_MOST_SERVERS
        passed &= small and cheap
        lines.append(
            f"{store}: the daemon with {daemon.agents} agents: {mib(daemon.total('pss'))} MiB PSS "
            f"(target <= {MAX_DAEMON_MIB:g} MiB) {verdict(small)}; each agent adds about {per_agent / 1024:,.0f} KiB"
        )
        lines.append(
            f"{store}: {fleet.agents} stdio servers cost {saving:.1f}x the daemon; the daemon costs as much as "
            f"{in_servers:.2f} stdio servers (target <= {DAEMON_AT_MOST_SERVERS}) {verdict(cheap)}"
        )
    return lines, passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=DEFAULT_AGENTS, help=f"agents, so stdio servers (default {DEFAULT_AGENTS})")
    parser.add_argument(
        "--stores", default="sqlite",
        help="comma-separated: sqlite (a new file) and/or postgresql:// URLs (a new database each, created through "
        "the URL); default sqlite",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every process's figures to this file")
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    started = time.perf_counter()
    env = print_environment()
    figures = run_in_temporary_directory("taskweave-memory-", lambda root: run(root, stores, args.agents))
    if figures is None:
        return 1
    lines, passed = report(figures)
    print("Memory of the server processes only (not the clients), each after its agents' first calls")
    print("\n".join(lines))
    print(f"total time: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "agents": args.agents, "figures": [f.to_json() for f in figures]}, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
