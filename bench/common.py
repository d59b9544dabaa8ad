"""What the benchmarks share: statistics, tables, the environment line, workspaces, servers, clients, stores.

Every server is spawned with the Python running the bench, so taskweave and
the baseline always run on the same interpreter and the same MCP SDK.

Every use of taskweave's own Python API is in the last part of this module
(`open_store`, `session_writer`, `SessionWriter`, `populate`): when that API
changes, these are what change.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

from mcp import Client
from mcp.client.stdio import StdioServerParameters

# taskweave ships no type information (no py.typed): the last part of this module gives the bench typed access.
from taskweave.core.clients import ClientInfo
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskDraft
from taskweave.core.work import ArtifactInput
from taskweave.store import Store
from taskweave.store import open_store as open_taskweave_store
from taskweave.workspace import detect_workspace

T = TypeVar("T")

# -- statistics ---------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples it reports a value that really happened."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def rotated(variants: Sequence[T], round_number: int) -> list[T]:
    """The variants in the order of this round: it rotates every round, so machine noise lands on all of them alike."""
    shift = round_number % len(variants)
    return [*variants[shift:], *variants[:shift]]


@dataclass
class Measured:
    """A named set of timings and, optionally, the figure its median is compared to."""

    name: str
    samples: list[float]
    reference: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def ratio(self) -> float | None:
        return self.median / self.reference if self.reference else None


# -- result tables ------------------------------------------------------------


@dataclass
class Row(Measured):
    """One line of a result table: a measurement, what it is compared to, and its target."""

    target: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median_s": self.median,
            "p95_s": self.p95,
            "reference_s": self.reference,
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "samples_s": self.samples,
            **self.extra,
        }


@dataclass
class Section:
    title: str
    reference_label: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "reference": self.reference_label, "rows": [r.to_json() for r in self.rows], "notes": self.notes}


def verdict(passed: bool | None) -> str:
    """PASS or FAIL against a target, nothing where no target applies."""
    return {True: "PASS", False: "FAIL", None: ""}[passed]


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left_aligned: int = 1) -> list[str]:
    """Fixed-width lines between rules: the first `left_aligned` columns to the left, the others to the right."""
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < left_aligned else cell.rjust(width) for i, (cell, width) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(line(header))
    return [rule, line(header), rule, *map(line, rows), rule]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def render(section: Section) -> str:
    """A section as a table: milliseconds, the ratio to the reference, and the verdict against the target."""
    header = ("", "n", "median ms", "p95 ms", f"ref ({section.reference_label}) ms", "ratio", "target", "result")
    rows = [
        (
            row.name + (f"  [{row.note}]" if row.note else ""),
            str(len(row.samples)),
            _ms(row.median),
            _ms(row.p95),
            _ms(row.reference),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            "-" if row.target is None else f"<= {row.target:g}x",
            verdict(row.passed),
        )
        for row in section.rows
    ]
    return "\n".join([section.title, *table(header, rows), *section.notes])


# -- the environment and the run ----------------------------------------------


def print_environment() -> dict[str, str]:
    """Print what the figures are measured on, then a blank line; return the same for the JSON report."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "mcp": version("mcp"),
        "taskweave": version("taskweave"),
    }
    print(f"taskweave {env['taskweave']} / mcp {env['mcp']} / Python {env['python']} / {env['platform']}\n")
    return env


def root_causes(error: BaseException) -> list[str]:
    """The leaf errors of an exception group: what a failed spawn or call really was, without the task-group noise."""
    if isinstance(error, BaseExceptionGroup):
        return [cause for inner in error.exceptions for cause in root_causes(inner)]
    return [f"{type(error).__name__}: {error}"]


def run_in_temporary_directory(prefix: str, measure: Callable[[Path], Coroutine[Any, Any, T]]) -> T | None:
    """Run `measure` in a directory removed afterwards; if it fails, print why and return None."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        try:
            return asyncio.run(measure(Path(tmp)))
        except Exception as error:
            print(f"bench aborted: {'; '.join(root_causes(error))} (a server's own error, if any, is printed above)")
            return None


# -- workspaces ---------------------------------------------------------------


def make_git_repository(path: Path) -> Path:
    """An empty directory under git."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def make_git_workspace(path: Path) -> Path:
    """A small Python project under git: what an agent's working_directory usually looks like."""
    make_git_repository(path)
    (path / "pyproject.toml").write_text('[project]\nname = "bench-project"\nversion = "0.1.0"\n')
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("def main() -> None:\n    print('hello')\n")
    return path


# -- servers ------------------------------------------------------------------

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
PORT_POLL_SECONDS = 0.005  # also the resolution of the recovery bench's "port accepts connections"


def taskweave_command(*args: str) -> list[str]:
    """`taskweave ARGS` run with the bench's own interpreter, as users launch it."""
    return [sys.executable, "-m", "taskweave", *args]


def serve_command(store: str, *, port: int | None = None) -> list[str]:
    """`taskweave serve` on stdio, or on HTTP at `port`."""
    command = taskweave_command("serve", "--store", store)
    return command + ["--http", "--port", str(port)] if port is not None else command


def server_env() -> dict[str, str]:
    """The environment of servers the bench spawns itself: its own, so PYTHONPATH reaches them; warnings only."""
    return {**os.environ, "TASKWEAVE_LOG_LEVEL": "WARNING"}


def stdio_params(command: Sequence[str], cwd: Path | None = None) -> StdioServerParameters:
    """`command` as the SDK's stdio client launches it.

    The SDK passes its children only a few safe variables; PYTHONPATH is kept
    so an uninstalled checkout works too.
    """
    python_path = os.environ.get("PYTHONPATH")
    return StdioServerParameters(
        command=command[0], args=list(command[1:]), env={"PYTHONPATH": python_path} if python_path else None, cwd=cwd
    )


def taskweave_params(store: Path, cwd: Path | None = None) -> StdioServerParameters:
    """`taskweave serve` on stdio, exactly as a user's MCP client would launch it."""
    return stdio_params(serve_command(str(store)), cwd)


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _stderr_file(log: Path | None) -> Iterator[IO[bytes] | None]:
    """`log` opened for appending, or None (the child inherits the bench's stderr)."""
    if log is None:
        yield None
        return
    with log.open("ab") as file:
        yield file


class TransportError(RuntimeError):
    """The connection itself failed (not a tool error): the server died, answered garbage or timed out."""


class HttpDaemon:
    """One `taskweave serve --http` process on a loopback port; `async with` stops it on the way out."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"

    @classmethod
    async def start(cls, store: str, cwd: Path, *, port: int | None = None, log: Path | None = None) -> HttpDaemon:
        """Spawn the daemon (on a free port unless given one) and return once its port accepts connections.

        Its stderr is appended to `log`, or, without one, goes to the bench's own.
        """
        port = free_port() if port is None else port
        with _stderr_file(log) as stderr:
            process = await asyncio.create_subprocess_exec(
                *serve_command(store, port=port), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr, cwd=cwd, env=server_env(),
            )
        daemon = cls(process, port)
        try:
            await daemon._wait_listening()
        except BaseException:
            await daemon.stop()
            raise
        return daemon

    async def _wait_listening(self) -> None:
        """Poll until the port accepts a TCP connection, as a client retrying its connect would see it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECONDS
        while loop.time() < deadline:
            if self.process.returncode is not None:
                raise TransportError(f"the HTTP daemon exited with status {self.process.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(PORT_POLL_SECONDS)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise TransportError(f"the HTTP daemon did not listen on port {self.port} within {START_TIMEOUT_SECONDS:.0f} s")

    async def kill(self) -> None:
        """SIGKILL: the crash case, no shutdown handler runs and the store is left as the crash left it."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM lets uvicorn finish in-flight requests and close the store cleanly."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            await self.kill()

    async def __aenter__(self) -> HttpDaemon:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()


# -- clients ------------------------------------------------------------------

PROTOCOL_VERSION = "2025-11-25"
STDIO_LINE_LIMIT = 16 * 1024 * 1024


def initialize_params(name: str) -> dict[str, Any]:
    """The `initialize` request of a client called `name` that offers no capabilities."""
    return {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": {"name": name, "version": "1"}}


class StdioConnection:
    """A `taskweave serve` child process spoken to in raw newline-delimited JSON-RPC, one request at a time.

    Lighter than the SDK's client: one process can drive many of these.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)

    @classmethod
    async def start(cls, store: str, cwd: Path, log: Path, name: str) -> StdioConnection:
        """Spawn the server, its stderr appended to `log`, and go through the initialize handshake."""
        with log.open("ab") as stderr:
            process = await asyncio.create_subprocess_exec(
                *serve_command(store), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=stderr, cwd=cwd, env=server_env(), limit=STDIO_LINE_LIMIT,
            )
        connection = cls(process)
        await asyncio.wait_for(connection.request("initialize", initialize_params(name)), START_TIMEOUT_SECONDS)
        await connection.notify("notifications/initialized")
        return connection

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self.process.stdin.drain()

    async def notify(self, method: str) -> None:
        await self._send({"jsonrpc": "2.0", "method": method})

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its whole response message."""
        request_id = next(self._ids)
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise TransportError(f"the server process ended (exit status {self.process.returncode})")
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a server->client request: we offer no capabilities
                await self._send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "not supported"}})

    async def close(self) -> None:
        """Close stdin, as an MCP client does; the server then marks its client disconnected and exits."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()


class ToolFailed(RuntimeError):
    """A tool answered with isError: the workload is wrong or the product broke, and the figures would lie."""


@asynccontextmanager
async def connect(params: StdioServerParameters) -> AsyncIterator[Client]:
    """An SDK client that always performs the initialize handshake, so every run pays for the same protocol steps."""
    async with Client(params, mode="legacy") as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool and return its JSON body; an error result stops the bench."""
    result = await client.call_tool(tool, arguments or {})
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise ToolFailed(f"{tool} failed: {text}")
    body: dict[str, Any]
    if result.structured_content is not None:
        body = result.structured_content
    else:
        body = json.loads(text) if text.startswith("{") else {"text": text}
    return body


async def timed_call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
    """One round trip in seconds, with the body it returned."""
    start = time.perf_counter()
    body = await call(client, tool, arguments)
    return time.perf_counter() - start, body


# -- taskweave's Python API ---------------------------------------------------

@contextmanager
def open_store(location: str) -> Iterator[Store]:
    """The store at `location` (a SQLite file or a postgresql:// URL), opened directly, not through a server."""
    store = open_taskweave_store(location)
    try:
        yield store
    finally:
        store.close()


class Claim(NamedTuple):
    task_id: str
    client_id: str


class SessionWriter:
    """One client writing to one session in-process, through taskweave's domain layer.

    Much faster than going through the tools, and it writes exactly what the tools would.
    """

    def __init__(self, orchestrator: Orchestrator, session_id: str, client_id: str) -> None:
        self._orchestrator = orchestrator
        self.session_id = session_id
        self.client_id = client_id

    def plan(self, title: str, description: str, subtasks: Sequence[Mapping[str, Any]]) -> list[str]:
        """Plan a parent task with `subtasks`; return the subtasks' ids, in order."""
        drafts = [
            TaskDraft(title=s["title"], description=s.get("description"), dependencies=s.get("dependencies", ()))
            for s in subtasks
        ]
        planned = self._orchestrator.tasks.plan(
            self.session_id, self.client_id, TaskDraft(title=title, description=description), subtasks=drafts
        )
        return [subtask["task_id"] for subtask in planned["subtasks"]]

    def claim(self, task_id: str) -> None:
        self._orchestrator.work.execute(self.session_id, self.client_id, task_id)

    def complete(
        self, task_id: str, summary: str, *, detailed_work: str | None = None, artifacts: Sequence[Mapping[str, str]] = ()
    ) -> None:
        files = [ArtifactInput(a["name"], a["content"], a.get("mime_type")) for a in artifacts]
        self._orchestrator.work.complete(
            self.session_id, self.client_id, task_id, summary=summary, detailed_work=detailed_work, artifacts=files
        )

    def ready(self) -> list[str]:
        """The ids of the ready tasks the session's status lists."""
        return [task["task_id"] for task in self._orchestrator.sessions.status(self.session_id)["tasks"]["ready"]]

    def claims(self) -> list[Claim]:
        """Every claim the session's status lists."""
        return [Claim(c["task_id"], c["client_id"]) for c in self._orchestrator.sessions.status(self.session_id)["claims"]]


@contextmanager
def session_writer(store: Path, workspace: Path) -> Iterator[SessionWriter]:
    """A new client attached to the workspace's session in `store`, which is created (with the session) if need be."""
    with Orchestrator.open(str(store)) as orchestrator:
        attached = orchestrator.sessions.initialize(
            detect_workspace(str(workspace)), client=ClientInfo(name="bench-populate", transport="stdio")
        )
        yield SessionWriter(orchestrator, attached["session_id"], attached["client_id"])


PLAN_SIZE = 100
CHAIN = 5
DONE_FRACTION = 0.6
CLAIMS_HELD = 3


def populate(writer: SessionWriter, tasks: int) -> None:
    """Plan exactly `tasks` tasks in the writer's session, in a realistic mix of states.

    Each plan is a parent with up to 99 subtasks in chains of five; in every
    plan the first 60% of the subtasks are completed and the rest are
    pending, so the ready-task and count queries see a realistic mix. A few
    agents are at work (CLAIMS_HELD tasks in progress) whatever the size: the
    number of claims follows the number of agents, not the number of tasks.
    """
    plans = math.ceil(tasks / PLAN_SIZE)
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
        ids = writer.plan(f"Work package {plan}", "A batch of work.", subtasks)
        for task_id in ids[: int(len(ids) * DONE_FRACTION)]:
            writer.claim(task_id)
            writer.complete(task_id, "Done.")
    for task_id in writer.ready()[:CLAIMS_HELD]:
        writer.claim(task_id)


# -- PostgreSQL databases -----------------------------------------------------


def _database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def postgres_database(url: str, label: str) -> Iterator[str]:
    """A new, empty database created through the PostgreSQL `url` (its user must be allowed to CREATE DATABASE),
    dropped on the way out, even while connections to it are open; the URL of the new database."""
    import psycopg

    name = f"taskweave_bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield _database_url(url, name)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
