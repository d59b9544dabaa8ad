"""One timed recovery per call: a new server process until the known client holds the full status again.

Both transports end the same way, on the official client: the initialize
handshake, `orchestrator_initialize_session` with the known `client_id`
(which must answer `attached: true` and every claim in `your_claims`), then
`orchestrator_get_status` with `include_completed`. The clock starts just
before the new process is spawned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from bench.common import HttpDaemon, call, connect, free_port, taskweave_params
from bench.recovery.store import KnownClient

RUN_TIMEOUT_SECONDS = 60.0


class RecoveryFailed(RuntimeError):
    """The server came back without the client's session or claims: a timing of a wrong answer means nothing."""


@dataclass(frozen=True)
class Timing:
    """Seconds from the spawn of the new process to each milestone (port_open only over HTTP)."""

    connected: float
    total: float
    port_open: float | None = None

    @property
    def server_side(self) -> float:
        """The two calls once connected: what the server's own work costs, apart from process start."""
        return self.total - self.connected


async def reattach(client: Client, workspace: Path, known: KnownClient) -> None:
    """initialize_session as the known client, check it got its session and claims back, then read the status."""
    body = await call(
        client, "orchestrator_initialize_session", {"working_directory": str(workspace), "client_id": known.client_id}
    )
    if not body["attached"] or body["session_id"] != known.session_id or set(body["your_claims"]) != known.claims:
        raise RecoveryFailed(
            f"re-attach answered attached={body['attached']}, session {body['session_id']} "
            f"(expected {known.session_id}), your_claims {sorted(body['your_claims'])} (expected {sorted(known.claims)})"
        )
    status = await call(client, "orchestrator_get_status", {"include_completed": True})
    if {claim["task_id"] for claim in status["claims"]} != known.claims:
        raise RecoveryFailed(f"get_status lists claims {status['claims']}, expected {sorted(known.claims)}")


async def stdio_recovery(store: Path, workspace: Path, known: KnownClient) -> Timing:
    """A fresh `taskweave serve` on stdio, as an MCP client respawns it after the old one died."""
    async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
        spawned = time.perf_counter()
        async with connect(taskweave_params(store, cwd=workspace)) as client:
            connected = time.perf_counter()
            await reattach(client, workspace, known)
            done = time.perf_counter()
    return Timing(connected=connected - spawned, total=done - spawned)


@asynccontextmanager
async def recorded_client(url: str) -> AsyncIterator[tuple[Client, list[int]]]:
    """An official client whose HTTP status codes are kept, to see the 404 its dead session gets.

    It does not DELETE its session on exit: the daemon that knew it is gone.
    """
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    async with httpx2.AsyncClient(event_hooks={"response": [record]}) as http:
        transport = streamable_http_client(url, http_client=http, terminate_on_close=False)
        async with Client(transport, mode="legacy") as client:
            yield client, statuses


async def expect_404(client: Client, statuses: list[int]) -> None:
    """The old session must be refused with HTTP 404, the signal that makes a client re-initialize."""
    seen = len(statuses)
    try:
        await client.call_tool("orchestrator_get_status", {})
    except MCPError:
        pass
    else:
        raise RecoveryFailed("the restarted daemon accepted the old Mcp-Session-Id")
    if 404 not in statuses[seen:]:
        raise RecoveryFailed(f"the old session got HTTP {statuses[seen:]} from the restarted daemon, not 404")


async def http_recovery(store: Path, workspace: Path, known: KnownClient) -> Timing:
    """A daemon serving the known client is killed; a new one on the same port and store serves it again."""
    port = free_port()
    async with asyncio.timeout(RUN_TIMEOUT_SECONDS):
        async with await HttpDaemon.start(str(store), workspace, port=port) as old:
            async with recorded_client(old.url) as (old_client, statuses):
                await reattach(old_client, workspace, known)
                await old.kill()
                spawned = time.perf_counter()
                async with await HttpDaemon.start(str(store), workspace, port=port) as new:
                    port_open = time.perf_counter()
                    async with Client(new.url, mode="legacy") as client:
                        connected = time.perf_counter()
                        await reattach(client, workspace, known)
                        done = time.perf_counter()
                    await expect_404(old_client, statuses)
    return Timing(connected=connected - spawned, total=done - spawned, port_open=port_open - spawned)
