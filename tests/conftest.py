"""Shared fixtures: real stores, real server processes, the official MCP client.

Tests about product behaviour take the `store` fixture, which runs them once on
a SQLite file and once on a fresh PostgreSQL database. Without a reachable
PostgreSQL the PostgreSQL half skips and says why, except under `CI=true`,
where it fails: CI must not pass by skipping it. `TASKWEAVE_TEST_POSTGRES`
names the admin URL used to create and drop the test databases.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from taskweave.core.service import ClientInfo, Orchestrator
from taskweave.store import open_store
from taskweave.workspace import Detection, detect_workspace

SERVE = [sys.executable, "-m", "taskweave", "serve"]
ADMIN_URL = os.environ.get("TASKWEAVE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
STORES = ["sqlite", "postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small git repository to work in."""
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (root / "src").mkdir()
    return root


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A SQLite store file, for the tests about SQLite's own mechanics."""
    return tmp_path / "store" / "taskweave.db"


@functools.cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None; asked once per run."""
    try:
        psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        return f"PostgreSQL is not reachable at {ADMIN_URL} ({' '.join(str(error).split())})"
    return None


def fresh_database() -> tuple[str, Callable[[], None]]:
    """A new, empty database's URL and the function that drops it; skips (fails under CI=true) without PostgreSQL."""
    if reason := _postgres_unreachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    name = f"taskweave_test_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}")), drop


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, for the tests about PostgreSQL's own mechanics."""
    url, drop = fresh_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store location, once a SQLite file path and once a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "store" / "taskweave.db")
        return
    url, drop = fresh_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def workspace(project: Path) -> Detection:
    return detect_workspace(str(project))


class Clock:
    """A clock the test moves by hand, to expire leases without sleeping."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def orchestrator(store: str, clock: Clock) -> Iterator[Orchestrator]:
    opened = open_store(store)
    try:
        yield Orchestrator(opened, clock=clock)
    finally:
        opened.close()


def agent(name: str) -> ClientInfo:
    return ClientInfo(name=name, version="1.0", transport="test")


def server_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWEAVE_")}
    env.update(extra)
    return env


@asynccontextmanager
async def stdio_client(store: str | Path, cwd: Path, *, name: str = "test-agent", mode: str = "legacy") -> AsyncIterator[Any]:
    """A real `taskweave serve` process driven by the official client over stdio."""
    import mcp_types
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], "--store", str(store)], cwd=str(cwd), env=server_env())
    async with Client(params, mode=mode, client_info=mcp_types.Implementation(name=name, version="1.0")) as client:
        yield client


async def call(client: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its JSON object."""
    result = await client.call_tool(tool, arguments)
    body = json.loads(result.content[0].text)
    assert not result.is_error, body
    assert result.structured_content == body
    return body


async def call_error(client: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must fail cleanly; return its `error` object."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    body = json.loads(result.content[0].text)
    error = body["error"]
    assert error["code"] and error["message"] and error["hint"], error
    assert "Traceback" not in error["message"]
    return error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("HTTP server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def http_server(store: str, project: Path) -> Iterator[HttpServer]:
    server = HttpServer(store, project)
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def http_client(url: str, *, name: str = "http-agent", mode: str = "legacy") -> AsyncIterator[Any]:
    import mcp_types
    from mcp import Client

    async with Client(url, mode=mode, client_info=mcp_types.Implementation(name=name, version="1.0")) as client:
        yield client


def _instance(location: str, job: Callable[..., Any], args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    opened = open_store(location)
    try:
        results.put(job(Orchestrator(opened), barrier, *args))
    finally:
        opened.close()


def in_processes(job: Callable[..., Any], count: int, location: str, *args: Any) -> list[Any]:
    """`job(orchestrator, barrier, *args)` in `count` fresh interpreters, each its own taskweave instance."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [context.Process(target=_instance, args=(location, job, args, barrier, results)) for _ in range(count)]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return collected
