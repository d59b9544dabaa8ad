"""What the tests share besides fixtures: clients for every tier, a hand-moved clock, real server processes.

- `serving` + `connect`: a `TaskweaveServer` in this process, driven by the
  official MCP client in memory (the fast tier).
- `http_daemon`: the real HTTP app on a real port, served by uvicorn inside
  this process's event loop.
- `stdio_client`, `HttpServer`, `RawServer`: real `taskweave serve` processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import mcp_types
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from taskweave.core.clients import ClientInfo
from taskweave.core.domain import Settings
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskDraft
from taskweave.server.access import Tokens
from taskweave.server.mcp_server import TaskweaveServer
from taskweave.store import open_store

SERVE = [sys.executable, "-m", "taskweave", "serve"]


class Clock:
    """A clock the test moves by hand, to expire leases without sleeping."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def agent(name: str) -> ClientInfo:
    return ClientInfo(name=name, version="1.0", transport="test")


def draft(title: str | None, description: str = "", **fields: Any) -> TaskDraft:
    return TaskDraft(title=title, description=description, **fields)


def populate(store: str | Path, project: Path, tasks: int = 20) -> dict[str, Any]:
    """A session of `project` holding `tasks` pending tasks, in parents of up to 100 subtasks; its initialize answer."""
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(str(store)) as orchestrator:
        init = dict(orchestrator.sessions.initialize(detect_workspace(str(project)), client=agent("seed")))
        while tasks > 0:
            batch = min(tasks, 101)
            subtasks = [draft(f"task {i}") for i in range(batch - 1)]
            orchestrator.tasks.plan(init["session_id"], init["client_id"], draft("seed"), subtasks=subtasks)
            tasks -= batch
    return init


def server_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWEAVE_")}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _implementation(name: str) -> mcp_types.Implementation:
    return mcp_types.Implementation(name=name, version="1.0")


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its JSON object."""
    result = await client.call_tool(tool, arguments)
    body: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert not result.is_error, body
    assert result.structured_content == body
    return body


async def call_error(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must fail cleanly; return its `error` object."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    error: dict[str, Any] = json.loads(result.content[0].text)["error"]  # type: ignore[union-attr]
    assert error["code"] and error["message"] and error["hint"], error
    assert "Traceback" not in error["message"]
    return error


# -- in this process ----------------------------------------------------------


@asynccontextmanager
async def serving(
    store: str, *, lease_seconds: int = 300, sweep_seconds: float = 0.05, transport: str = "stdio"
) -> AsyncIterator[TaskweaveServer]:
    """A server on its own connection to `store`, with its background work running (as one server process)."""
    opened = open_store(store)
    try:
        orchestrator = Orchestrator(opened, settings=Settings(lease_seconds=lease_seconds))
        app = TaskweaveServer(orchestrator, transport="http" if transport == "http" else "stdio", sweep_seconds=sweep_seconds)
        async with app.background():
            yield app
    finally:
        opened.close()


@asynccontextmanager
async def connect(
    app: TaskweaveServer, *, name: str = "test-agent", mode: str = "legacy", roots: Sequence[Path] = (), **options: Any
) -> AsyncIterator[Client]:
    """The official client connected to `app` in memory (its server's working directory is this process's)."""
    if roots:
        async def list_roots(_context: Any) -> mcp_types.ListRootsResult:
            return mcp_types.ListRootsResult(roots=[mcp_types.Root(uri=root.as_uri()) for root in roots])  # type: ignore[arg-type]

        options["list_roots_callback"] = list_roots
    async with Client(app.server, mode=mode, client_info=_implementation(name), **options) as client:  # type: ignore[arg-type]
        yield client


@asynccontextmanager
async def http_daemon(
    store: str,
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    tokens: Tokens | None = None,
    port: int | None = None,
    lease_seconds: int = 300,
) -> AsyncIterator[str]:
    """The daemon's whole HTTP app on a real port, in this process; yields the MCP endpoint's URL."""
    import uvicorn

    from taskweave.server.http.daemon import http_app

    tokens = tokens or (Tokens.single(token) if token else None)

    opened = open_store(store)
    try:
        app = TaskweaveServer(Orchestrator(opened, settings=Settings(lease_seconds=lease_seconds)), transport="http")
        port = port or free_port()
        config = uvicorn.Config(
            http_app(app, host=host, tokens=tokens), host="127.0.0.1", port=port, log_level="warning",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve)
            with anyio.fail_after(20):
                while not server.started:
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}/mcp"
            finally:
                server.should_exit = True
    finally:
        opened.close()


class DaemonTask:
    """`http_daemon` as a task of its own, which a test can stop (and restart) under a connected client."""

    def __init__(self, store: str, port: int) -> None:
        self.store = store
        self.port = port
        self._stop = anyio.Event()
        self._stopped = anyio.Event()

    async def run(self, *, task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with http_daemon(self.store, port=self.port) as url:
                task_status.started(url)
                await self._stop.wait()
        finally:
            self._stopped.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._stopped.wait()


@asynccontextmanager
async def http_client(
    url: str, *, name: str = "http-agent", mode: str = "legacy", token: str | None = None
) -> AsyncIterator[Client]:
    """The official client over Streamable HTTP, with `Authorization: Bearer <token>` when given."""
    if token is None:
        async with Client(url, mode=mode, client_info=_implementation(name)) as client:  # type: ignore[arg-type]
            yield client
        return
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, Client(
        streamable_http_client(url, http_client=http), mode=mode, client_info=_implementation(name)  # type: ignore[arg-type]
    ) as client:
        yield client


# -- real processes -------------------------------------------------------------


@asynccontextmanager
async def stdio_client(
    store: str | Path, cwd: Path, *, name: str = "test-agent", mode: str = "legacy", **env: str
) -> AsyncIterator[Client]:
    """A real `taskweave serve` process driven by the official client over stdio."""
    params = StdioServerParameters(
        command=SERVE[0], args=[*SERVE[1:], "--store", str(store)], cwd=str(cwd), env=server_env(**env)
    )
    async with Client(params, mode=mode, client_info=_implementation(name)) as client:  # type: ignore[arg-type]
        yield client


def wait_listening(process: subprocess.Popen[bytes], port: int, what: str, timeout: float = 20.0) -> None:
    """Return once `process` accepts connections on `port`; raise with its stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stderr is not None
            raise RuntimeError(f"{what} exited: {process.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not start")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class HttpServer:
    """A `taskweave serve --http` daemon in its own process."""

    def __init__(
        self, store: str | Path, cwd: Path, *, host: str = "127.0.0.1", port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.port = port or free_port()
        self.host = host
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.process = subprocess.Popen(
            [*SERVE, "--store", str(store), "--http", "--host", host, "--port", str(self.port)],
            cwd=cwd,
            env=server_env(**(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_listening(self.process, self.port, "HTTP server")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.process)


class RawServer:
    """A `taskweave serve` process spoken to in raw JSON-RPC, so the test can SIGKILL it."""

    def __init__(self, store: str, cwd: Path, **env: str) -> None:
        self.process = subprocess.Popen(
            [*SERVE, "--store", store], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, cwd=cwd, env=server_env(**env),
        )
        self._next_id = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "doomed", "version": "1"}})
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdout is not None
        self._next_id += 1
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        while True:
            message = json.loads(self.process.stdout.readline())
            if message.get("id") == self._next_id:
                result: dict[str, Any] = message["result"]
                return result

    def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.request("tools/call", {"name": name, "arguments": arguments})["content"][0]["text"])
        return body

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def taskweave_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The `taskweave` command as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "taskweave", *args], capture_output=True, text=True, cwd=cwd,
        env=server_env(**env), timeout=120,
    )
