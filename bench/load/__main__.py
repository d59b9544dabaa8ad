"""Load benchmark: many agents on one store, over stdio (a server process each) and over HTTP daemons.

For every transport and client count, the bench starts the servers on one
store, lets every agent attach to one shared session in a fresh git
workspace, runs the mixed workload of `workload` for a fixed time, stops
everything, and checks the store against what was acknowledged
(`verify`). It prints the figures per configuration and per tool, and
the verdict against the target (32 clients: no errors besides clean claim
conflicts, >= 500 mutating operations per second). Exit status 0 only when
every evaluated target is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench.common import HttpDaemon, StdioConnection, make_git_workspace
from bench.load import lock
from bench.load.report import Outcome, configurations_table, details, tools_table, verdicts
from bench.load.transport import Connection, HttpConnection, cpu_seconds, machine_busy_seconds
from bench.load.verify import session_counts, verify
from bench.load.workload import CALL_TIMEOUT_SECONDS, Agent, Recorder

TRANSPORTS = ("stdio", "http")
SPAWN_CONCURRENCY = 8  # stdio servers starting at once: more only thrashes two cores
ConnectionT = TypeVar("ConnectionT", bound=Connection)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="8,16,32", help="comma-separated client counts (default: 8,16,32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per configuration (default: 20)")
    parser.add_argument("--transports", default="stdio,http", help="comma-separated: stdio, http (default: both)")
    parser.add_argument(
        "--stores", default="sqlite",
        help="comma-separated stores to compare: `sqlite` (a new file per configuration) and/or postgresql:// URLs "
        "(every configuration of that store uses its own new workspace, so its own session) (default: sqlite)",
    )
    parser.add_argument(
        "--instances", default="1",
        help="comma-separated HTTP daemon counts per store, clients spread over them (default: 1)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures (every latency) to this file")
    args = parser.parse_args()
    args.clients = [int(n) for n in args.clients.split(",")]
    args.instances = [int(n) for n in args.instances.split(",")]
    args.transports = args.transports.split(",")
    args.stores = args.stores.split(",")
    if unknown := set(args.transports) - set(TRANSPORTS):
        parser.error(f"unknown transport(s): {', '.join(sorted(unknown))}")
    if bad := [s for s in args.stores if s != "sqlite" and not s.startswith(("postgresql://", "postgres://"))]:
        parser.error(f"unknown store(s): {', '.join(bad)}; give `sqlite` or postgresql:// URLs")
    if min(args.instances) < 1 or min(args.clients) < 1 or args.seconds <= 0:
        parser.error("--instances, --clients and --seconds must be positive")
    return args


@asynccontextmanager
async def started(kind: str, starts: Sequence[Awaitable[ConnectionT]], log: Path) -> AsyncIterator[list[ConnectionT]]:
    """Start every connection at once; if any fails, close those that started and say which kind failed."""
    results = await asyncio.gather(*starts, return_exceptions=True)
    connections = [r for r in results if not isinstance(r, BaseException)]
    try:
        if failed := [r for r in results if isinstance(r, BaseException)]:
            raise RuntimeError(f"{len(failed)} {kind} failed to start: {failed[0]!r}; see {log}")
        yield connections
    finally:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


@dataclass
class Servers:
    """The agents' connections, the server processes' pids, and the daemons' URLs (their metrics)."""

    connections: Sequence[Connection]
    pids: list[int]
    metrics_urls: list[str]


@asynccontextmanager
async def stdio_connections(store: str, cwd: Path, log: Path, clients: int) -> AsyncIterator[Servers]:
    """One `taskweave serve` process per client, as MCP clients on one machine launch them."""
    gate = asyncio.Semaphore(SPAWN_CONCURRENCY)

    async def spawn(index: int) -> StdioConnection:
        async with gate:
            return await StdioConnection.start(store, cwd, log, f"load-agent-{index}")

    async with started("stdio server(s)", [spawn(i) for i in range(clients)], log) as connections:
        yield Servers(connections, [c.process.pid for c in connections], [])


@asynccontextmanager
async def http_connections(
    store: str, cwd: Path, log: Path, clients: int, instances: int
) -> AsyncIterator[Servers]:
    """`instances` daemons on the store, the clients spread round-robin, each on its own keep-alive connection."""
    daemons = [await HttpDaemon.start(store, cwd, log=log) for _ in range(instances)]
    try:
        starts = [
            HttpConnection.start(daemons[i % instances].url, f"load-agent-{i}", timeout=CALL_TIMEOUT_SECONDS)
            for i in range(clients)
        ]
        async with started("HTTP client(s)", starts, log) as connections:
            yield Servers(connections, [d.process.pid for d in daemons], [d.url for d in daemons])
    finally:
        await asyncio.gather(*(d.stop() for d in daemons))


async def run_configuration(
    transport: str, clients: int, store: str, instances: int, seconds: float, scratch: Path
) -> Outcome:
    """Start, attach, load for `seconds`, stop, verify: one row of the table."""
    store_kind = "sqlite" if store == "sqlite" else "pg"
    directory = scratch / f"{transport}-{clients}-{store_kind}-{instances}"
    workspace = make_git_workspace(directory / "project")
    store = str(directory / "store.db") if store == "sqlite" else store
    log = directory / "servers.log"
    connect = (
        http_connections(store, directory, log, clients, instances)
        if transport == "http"
        else stdio_connections(store, directory, log, clients)
    )
    recorder = Recorder()
    async with connect as servers:
        agents = [Agent(f"agent-{i}", c, recorder, seed=i) for i, c in enumerate(servers.connections)]
        await asyncio.gather(*(a.initialize(str(workspace)) for a in agents))
        sessions = {a.session_id for a in agents}
        if len(sessions) != 1:
            raise RuntimeError(f"the agents landed in {len(sessions)} sessions instead of one shared session")
        locks_before = await lock.scrape(servers.metrics_urls)
        before = _cpu_snapshot(servers.pids)
        start = time.monotonic()
        await asyncio.gather(*(a.run(start + seconds) for a in agents))
        elapsed = time.monotonic() - start
        after = _cpu_snapshot(servers.pids)
        locks = lock.difference(await lock.scrape(servers.metrics_urls), locks_before) if servers.metrics_urls else None
    session_id = sessions.pop()
    cpu = {k: _difference(after[k], before[k]) for k in before}
    return Outcome(
        transport=transport,
        clients=clients,
        instances=instances,
        store_kind=store_kind,
        seconds=elapsed,
        samples=recorder.samples,
        problems=verify(store, session_id, recorder.acks),
        error_messages=recorder.error_messages,
        cpu=cpu,
        task_counts=session_counts(store, session_id),
        lock=locks,
    )


def _cpu_snapshot(server_pids: list[int]) -> dict[str, float | None]:
    """CPU seconds so far of the servers, the generator and the whole machine (other work skews the figures)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "servers": cpu_seconds(server_pids),
        "generator": usage.ru_utime + usage.ru_stime,
        "machine": machine_busy_seconds(),
    }


def _difference(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


async def run_all(args: argparse.Namespace) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="taskweave-load-") as scratch:
        plan = [
            (transport, clients, store, instances)
            for store in args.stores
            for transport in args.transports
            for instances in (args.instances if transport == "http" else [1])
            for clients in args.clients
        ]
        for transport, clients, store, instances in plan:
            outcome = await run_configuration(transport, clients, store, instances, args.seconds, Path(scratch))
            print(
                f"  {outcome.label:>11} {clients:>3} clients: {len(outcome.samples)} calls, "
                f"{outcome.mutating / outcome.seconds:.0f} mutating ops/s",
                file=sys.stderr,
            )
            outcomes.append(outcome)
    return outcomes


def main() -> int:
    args = parse_args()
    print(
        f"load benchmark: stores {args.stores}, {args.transports} x {args.clients} clients, "
        f"HTTP instances {args.instances}, {args.seconds:g} s each",
        file=sys.stderr,
    )
    outcomes = asyncio.run(run_all(args))
    print(configurations_table(outcomes))
    print()
    print(tools_table(outcomes))
    print()
    for line in details(outcomes):
        print(line)
    results = verdicts(outcomes)
    print()
    for line, _ in results:
        print(line)
    if not results:
        print("target not evaluated: it needs a run with 32 clients")
    if args.json:
        args.json.write_text(json.dumps({"configurations": [o.to_json() for o in outcomes]}, indent=1))
    return 0 if all(passed for _, passed in results) else 1


if __name__ == "__main__":
    sys.exit(main())
