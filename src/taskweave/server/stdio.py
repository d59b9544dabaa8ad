"""Stdio without worker threads, and an answer to every line a client sends.

The SDK's `stdio_server` reads and writes stdin/stdout through thread-backed
files, which costs three thread hand-offs per request; on pipes the event loop
can do the same work itself. We keep what the SDK's transport guarantees:
while serving, fd 0 reads the null device and fd 1 goes to stderr, so nothing
printed by the process or its children can corrupt the wire. When stdin or
stdout is not a pipe (a file, a terminal, /dev/null), the SDK's transport is
used as is.

On pipes, a line the SDK cannot take (too long, not JSON, not valid Unicode,
nested too deep) gets a JSON-RPC error with the request's id when it can be
read, and the server goes on: a client never waits for an answer that will
not come.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from taskweave.core.limits import REQUEST_BYTES

READ_CHUNK = 1 << 16
HEAD_BYTES = 4096
_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')


@dataclass(frozen=True)
class _Line:
    """What the reader knows of a line it passed on: its start (where the request's id usually is) and size."""

    head: bytes
    size: int

    @property
    def too_long(self) -> bool:
        return self.size > REQUEST_BYTES


class _Lines:
    """The async line iterator `stdio_server` reads from, with every line at most `REQUEST_BYTES` long.

    A longer line is skipped to its end and passed on as an empty line, which the SDK
    refuses; `_answer_refusals` then answers it from what is kept in `passed`.
    """

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._buffer = bytearray()
        self._searched = 0
        self._eof = False
        self.passed: deque[_Line] = deque()

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        while True:
            found = await self._next_line()
            if found is None:
                raise StopAsyncIteration
            data, size = found
            if size > REQUEST_BYTES or data.strip():
                break
        self.passed.append(_Line(data[:HEAD_BYTES], size))
        if size > REQUEST_BYTES:
            return "\n"
        return data.decode("utf-8", errors="surrogateescape")

    async def _next_line(self) -> tuple[bytes, int] | None:
        """The next line (only its first `HEAD_BYTES` when it is too long) and its length; None at the end."""
        head: bytes | None = None
        skipped = 0
        while True:
            end = self._buffer.find(b"\n", self._searched)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._searched = 0
                return (line, len(line)) if head is None else (head, skipped + len(line))
            if head is None and len(self._buffer) > REQUEST_BYTES:
                head = bytes(self._buffer[:HEAD_BYTES])
            if head is not None:
                skipped += len(self._buffer)
                self._buffer.clear()
            self._searched = len(self._buffer)
            if self._eof:
                if head is not None:
                    return head, skipped
                rest = bytes(self._buffer)
                self._buffer.clear()
                self._searched = 0
                return (rest, len(rest)) if rest else None
            chunk = await self._reader.read(READ_CHUNK)
            self._eof = not chunk
            self._buffer += chunk


class _Writer:
    """The async text writer `stdio_server` writes to."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def refusal(line: _Line, error: Exception) -> types.JSONRPCError:
    """The JSON-RPC error for a line the SDK could not take, addressed to its request when the id can be read."""
    found = _ID.search(line.head)
    request_id: Any = None
    if found:
        raw = found.group(1).decode("utf-8", errors="replace")
        request_id = int(raw) if raw[0] != '"' else raw[1:-1]
    if line.too_long:
        error_data = types.ErrorData(
            code=types.INVALID_REQUEST,
            message=f"The request is {line.size:,} bytes long; taskweave takes requests of at most {REQUEST_BYTES:,} bytes.",
            data={"hint": "Send less in one call: put large files in the repository and pass their paths."},
        )
    else:
        error_data = types.ErrorData(
            code=types.PARSE_ERROR,
            message=f"The request is not a JSON-RPC message taskweave can read: {_reason(error)}.",
            data={"hint": "Send one JSON object per line, in valid UTF-8, nested at most a few hundred levels deep."},
        )
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error_data)


def _reason(error: Exception) -> str:
    """The parser's own words for what is wrong with the line (the first one, when there are several)."""
    details = getattr(error, "errors", None)
    if callable(details):
        first = details()[0]
        return str(first.get("msg", error))[:300].rstrip(".")
    return " ".join(str(error).split())[:300].rstrip(".")


async def _answer_refusals(
    lines: _Lines,
    incoming: ObjectReceiveStream[SessionMessage | Exception],
    to_server: ObjectSendStream[SessionMessage | Exception],
    outgoing: ObjectSendStream[SessionMessage],
) -> None:
    """Pass the SDK's messages on to the server, and answer each line it refused right away."""
    async with to_server:
        async for item in incoming:
            line = lines.passed.popleft()
            if isinstance(item, Exception):
                await outgoing.send(SessionMessage(refusal(line, item)))
            else:
                await to_server.send(item)


def _is_pipe(fd: int) -> bool:
    """A pipe or socket, which the event loop can watch (a terminal or /dev/null goes the SDK's way)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@asynccontextmanager
async def pipe_stdio() -> AsyncIterator[tuple[Any, Any]]:
    """`(read_stream, write_stream)` for `Server.run`, like the SDK's `stdio_server()`."""
    if not (_is_pipe(0) and _is_pipe(1)):
        async with stdio_server() as streams:
            yield streams
        return
    wire_in, wire_out = os.dup(0), os.dup(1)
    saved_in, saved_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    loop = asyncio.get_running_loop()
    try:
        reader = asyncio.StreamReader()
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
        )
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        lines = _Lines(reader)
        try:
            async with stdio_server(lines, _Writer(writer)) as (incoming, outgoing):  # type: ignore[arg-type]
                to_server, from_sdk = anyio.create_memory_object_stream[SessionMessage | Exception](0)
                async with anyio.create_task_group() as group:
                    group.start_soon(_answer_refusals, lines, incoming, to_server, outgoing)
                    yield from_sdk, outgoing
                    group.cancel_scope.cancel()
        finally:
            read_transport.close()
            write_transport.close()
    finally:
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)
