"""Raw MCP clients for the load benchmark: JSON-RPC over a stdio pipe, or handshake-era Streamable HTTP.

The load generator shares two cores with the servers it measures, so it does
not run one SDK client per agent: each agent is one coroutine with a bare
JSON-RPC connection, all in one process. A connection carries one request at
a time (an agent waits for each answer), which keeps the reader trivial.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx2

PROTOCOL_VERSION = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
STDIO_LINE_LIMIT = 16 * 1024 * 1024
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class TransportError(RuntimeError):
    """The connection itself failed (not a tool error): the server died, answered garbage or timed out."""


class Connection(Protocol):
    """One agent's MCP connection."""

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one JSON-RPC request and return its whole response message."""

    async def notify(self, method: str) -> None:
        """Send one JSON-RPC notification."""

    async def close(self) -> None:
        """End the connection (the server sees its client leave)."""


def serve_command(store: str, *, port: int | None = None) -> list[str]:
    """`taskweave serve` spawned with the bench's own interpreter, as users launch it."""
    command = [sys.executable, "-m", "taskweave", "serve", "--store", store]
    return command + ["--http", "--port", str(port)] if port is not None else command


def server_env() -> dict[str, str]:
    """The bench's environment, so an uninstalled checkout with PYTHONPATH works; servers log warnings only."""
    return {**os.environ, "TASKWEAVE_LOG_LEVEL": "WARNING"}


def initialize_params(name: str) -> dict[str, Any]:
    return {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": {"name": name, "version": "1"}}


class StdioConnection:
    """A `taskweave serve` child process spoken to in newline-delimited JSON-RPC."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)

    @classmethod
    async def start(cls, store: str, cwd: Path, log: Path, name: str) -> StdioConnection:
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
        request_id = next(self._ids)
        await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                raise TransportError(f"the server process ended (exit status {self.process.returncode})")
            message = json.loads(line)
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


class HttpConnection:
    """One MCP session on a Streamable HTTP daemon, sharing the generator's single HTTP client."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.session_id: str | None = None
        self._ids = itertools.count(1)

    @classmethod
    async def start(cls, http: httpx2.AsyncClient, url: str, name: str) -> HttpConnection:
        connection = cls(http, url)
        await asyncio.wait_for(connection.request("initialize", initialize_params(name)), START_TIMEOUT_SECONDS)
        await connection.notify("notifications/initialized")
        return connection

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if self.session_id is not None:
            headers |= {"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": PROTOCOL_VERSION}
        return headers

    async def notify(self, method: str) -> None:
        response = await self.http.post(self.url, json={"jsonrpc": "2.0", "method": method}, headers=self._headers())
        if response.status_code >= 400:
            raise TransportError(f"{method}: HTTP {response.status_code}")

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        response = await self.http.post(self.url, json=body, headers=self._headers())
        if response.status_code != 200:
            raise TransportError(f"{method}: HTTP {response.status_code} {response.text[:200]}")
        if self.session_id is None:
            self.session_id = response.headers.get("mcp-session-id")
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return _from_sse(response.text, request_id)
        return response.json()

    async def close(self) -> None:
        """DELETE the session, which the daemon takes as the client leaving."""
        if self.session_id is not None:
            await self.http.delete(self.url, headers=self._headers())


def _from_sse(text: str, request_id: int) -> dict[str, Any]:
    """The response to `request_id` in an SSE body; priming events and notifications are skipped."""
    for event in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in event.split("\n") if line.startswith("data:"))
        if data:
            message = json.loads(data)
            if message.get("id") == request_id and "method" not in message:
                return message
    raise TransportError(f"no response to request {request_id} in the event stream")


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HttpDaemon:
    """One `taskweave serve --http` process on a free loopback port."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}/mcp"

    @classmethod
    async def start(cls, store: str, cwd: Path, log: Path) -> HttpDaemon:
        port = free_port()
        with log.open("ab") as stderr:
            process = await asyncio.create_subprocess_exec(
                *serve_command(store, port=port), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr, cwd=cwd, env=server_env(),
            )
        daemon = cls(process, port)
        await daemon._wait_listening(port)
        return daemon

    async def _wait_listening(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECONDS
        while loop.time() < deadline:
            if self.process.returncode is not None:
                raise TransportError(f"the HTTP daemon exited with status {self.process.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise TransportError(f"the HTTP daemon did not listen on port {port} within {START_TIMEOUT_SECONDS:.0f} s")

    async def stop(self) -> None:
        """SIGTERM lets uvicorn finish in-flight requests and close the store cleanly."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """User + system CPU time of these processes so far, from /proc (None where /proc is missing)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_busy_seconds() -> float | None:
    """CPU time every process on the machine has used so far (all cores), to see who else competed for them."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
