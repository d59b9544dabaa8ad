"""Shared fixtures: real stores in temp dirs, real server processes, the official MCP client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from taskweave.core.service import ClientInfo, Orchestrator
from taskweave.store.sqlite import SQLiteStore
from taskweave.workspace import Detection, detect_workspace

SERVE = [sys.executable, "-m", "taskweave", "serve"]


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
    return tmp_path / "store" / "taskweave.db"


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
def orchestrator(store_path: Path, clock: Clock) -> Iterator[Orchestrator]:
    store = SQLiteStore(store_path)
    try:
        yield Orchestrator(store, clock=clock)
    finally:
        store.close()


def agent(name: str) -> ClientInfo:
    return ClientInfo(name=name, version="1.0", transport="test")


def server_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWEAVE_")}
    env.update(extra)
    return env


@asynccontextmanager
async def stdio_client(store: Path, cwd: Path, *, name: str = "test-agent", mode: str = "legacy") -> AsyncIterator[Any]:
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
        self, store: Path, cwd: Path, *, host: str = "127.0.0.1", port: int | None = None, env: dict[str, str] | None = None
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
def http_server(store_path: Path, project: Path) -> Iterator[HttpServer]:
    server = HttpServer(store_path, project)
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
