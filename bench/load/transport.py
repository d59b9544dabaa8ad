"""Raw MCP clients for the load benchmark: JSON-RPC over a stdio pipe, or handshake-era Streamable HTTP.

The load generator shares two cores with the servers it measures, so it does
not run one SDK client per agent: each agent is one coroutine with a bare
JSON-RPC connection, all in one process. A connection carries one request at
a time (an agent waits for each answer), which keeps the reader trivial. The
stdio one is `bench.common.StdioConnection`; the HTTP one is here, with the
CPU counters the report splits the measured time by.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from bench.common import PROTOCOL_VERSION, START_TIMEOUT_SECONDS, TransportError, initialize_params

ACCEPT = "application/json, text/event-stream"


class Connection(Protocol):
    """One agent's MCP connection."""

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one JSON-RPC request and return its whole response message."""

    async def notify(self, method: str) -> None:
        """Send one JSON-RPC notification."""

    async def close(self) -> None:
        """End the connection (the server sees its client leave)."""


class HttpConnection:
    """One MCP session on a Streamable HTTP daemon, over its own keep-alive socket in raw HTTP/1.1.

    A general-purpose HTTP client cost the generator nearly as much CPU per
    call as the server it measures; an agent needs one connection, one
    request at a time, to one loopback daemon, so bytes on a stream suffice.
    """

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"expected http://HOST:PORT/PATH, got {url!r}")
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path or "/"
        self.timeout = timeout
        self.session_id: str | None = None
        self._ids = itertools.count(1)
        self._headers = f"Host: {parts.netloc}\r\n"  # and the session's headers once the server has named it
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    async def start(cls, url: str, name: str, *, timeout: float) -> HttpConnection:
        """Connect and initialize; `timeout` bounds the notification and the closing DELETE (callers bound requests)."""
        connection = cls(url, timeout)
        await asyncio.wait_for(connection.request("initialize", initialize_params(name)), START_TIMEOUT_SECONDS)
        await asyncio.wait_for(connection.notify("notifications/initialized"), timeout)
        return connection

    async def notify(self, method: str) -> None:
        status, _, _ = await self._post({"jsonrpc": "2.0", "method": method})
        if not 200 <= status < 300:
            raise TransportError(f"{method}: HTTP {status}")

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(self._ids)
        status, headers, body = await self._post({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if status != 200:
            raise TransportError(f"{method}: HTTP {status} {body[:200].decode(errors='replace')}")
        if self.session_id is None and "mcp-session-id" in headers:
            self.session_id = headers["mcp-session-id"]
            self._headers += f"Mcp-Session-Id: {self.session_id}\r\nMCP-Protocol-Version: {PROTOCOL_VERSION}\r\n"
        try:
            if headers.get("content-type", "").startswith("text/event-stream"):
                return _from_sse(body.decode(), request_id)
            message: dict[str, Any] = json.loads(body)
            return message
        except ValueError as error:
            raise TransportError(f"{method}: the response is not JSON: {error}") from error

    async def close(self) -> None:
        """DELETE the session, which the daemon takes as the client leaving, then close the socket."""
        try:
            if self.session_id is not None:
                delete = f"DELETE {self.path} HTTP/1.1\r\n{self._headers}\r\n".encode()
                status, _, _ = await asyncio.wait_for(self._exchange(delete), self.timeout)
                if not 200 <= status < 300:
                    raise TransportError(f"DELETE: HTTP {status}")
        finally:
            self._disconnect()

    async def _post(self, message: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(message, separators=(",", ":")).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\n{self._headers}Content-Type: application/json\r\n"
            f"Accept: {ACCEPT}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return await self._exchange(head.encode() + body)

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its whole response: status, headers (names lower-cased) and body.

        A connection the server closed while idle is replaced before sending.
        One that fails or is cancelled (a caller's timeout) mid-way is
        dropped, so the next request starts on a new connection instead of
        reading the remains of this exchange.
        """
        try:
            if self._reader is None or self._writer is None or self._reader.at_eof():
                self._disconnect()
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self._writer.write(request)
            await self._writer.drain()
            status, headers = await _read_head(self._reader)
            body = await _read_body(self._reader, status, headers)
        except (OSError, EOFError, asyncio.LimitOverrunError, ValueError) as error:
            self._disconnect()
            raise TransportError(f"HTTP exchange with {self.host}:{self.port} failed: {error!r}") from error
        except BaseException:
            self._disconnect()
            raise
        if "close" in headers.get("connection", "").lower():
            self._disconnect()
        return status, headers, body

    def _disconnect(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The status code and headers of one HTTP/1.x response; anything else is garbage (ValueError)."""
    lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(rest.partition(" ")[0])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, status: int, headers: dict[str, str]) -> bytes:
    """The body, framed as RFC 9112 section 6.3 says: none, chunked, Content-Length, or up to the server's close."""
    if status < 200 or status in (204, 304):
        return b""
    if headers.get("transfer-encoding", "").lower().endswith("chunked"):
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).partition(b";")[0], 16):
            chunk = await reader.readexactly(size + 2)
            if not chunk.endswith(b"\r\n"):
                raise ValueError("a chunk does not end with CRLF")
            chunks.append(chunk[:-2])
        while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, up to the empty line
            pass
        return b"".join(chunks)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()  # the connection is at EOF now, so the next exchange opens a new one


def _from_sse(text: str, request_id: int) -> dict[str, Any]:
    """The response to `request_id` in an SSE body; priming events and notifications are skipped."""
    for event in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in event.split("\n") if line.startswith("data:"))
        if data:
            message: dict[str, Any] = json.loads(data)
            if message.get("id") == request_id and "method" not in message:
                return message
    raise TransportError(f"no response to request {request_id} in the event stream")


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
