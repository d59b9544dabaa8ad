"""The connections a server holds: which session and client each is bound to, and their clients' liveness.

Over HTTP a connection is named by its `Mcp-Session-Id`; over stdio (and in
memory) by the run of the server over its pair of streams, whose state is the
lifespan context. Stateless requests have no connection.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from mcp.server.context import ServerRequestContext

from taskweave.core.upkeep import Upkeep
from taskweave.server.dispatch import RunDomain

log = logging.getLogger(__name__)


@dataclass
class Binding:
    """What one connection is attached to, when it last renewed its client's liveness, and whether
    its client failed to answer a roots request (so it is not asked again)."""

    session_id: str | None = None
    client_id: str | None = None
    renewed_at: float = field(default_factory=time.monotonic)
    roots_unanswered: bool = False


@dataclass(frozen=True)
class StreamConnection:
    """The lifespan state of one run of the server over a pair of streams: one client's connection."""

    key: str = field(default_factory=lambda: f"stream:{secrets.token_hex(8)}")


def connection_key(ctx: ServerRequestContext[Any, Any]) -> str | None:
    if ctx.request is not None:
        header = ctx.request.headers.get("mcp-session-id")
        return f"http:{header}" if header else None
    state = ctx.lifespan_context
    return state.key if isinstance(state, StreamConnection) else None


class Connections:
    def __init__(self, upkeep: Upkeep, run_domain: RunDomain, *, lease_seconds: float) -> None:
        self.upkeep = upkeep
        self.run_domain = run_domain
        self.bindings: dict[str, Binding] = {}
        # Renewing liveness is a write; a client's requests renew it at most this often.
        self.renew_interval = lease_seconds / 10
        # A connection silent for this long has lost its client's lease twice over: forget it.
        self.idle_after = 2 * lease_seconds

    def get(self, key: str | None) -> Binding:
        """The connection's binding, created on first use; a stateless request gets a fresh one each time."""
        if key is None:
            return Binding()
        return self.bindings.setdefault(key, Binding())

    def bind(self, key: str | None, session_id: str | None, client_id: str | None) -> None:
        if key is None:
            return
        binding = self.bindings.setdefault(key, Binding())
        binding.session_id = session_id or binding.session_id
        binding.client_id = client_id or binding.client_id
        binding.renewed_at = time.monotonic()

    async def renew(self, key: str | None) -> None:
        """A request on the connection is a sign of life for its client."""
        binding = self.bindings.get(key or "")
        now = time.monotonic()
        if binding is None or not (binding.client_id and binding.session_id):
            return
        if now - binding.renewed_at < self.renew_interval:
            return
        binding.renewed_at = now
        try:
            await self.run_domain(self.upkeep.renew_client, binding.client_id, binding.session_id)
        except Exception:
            log.exception("renewing client %s failed", binding.client_id)

    async def close(self, key: str) -> None:
        """The connection ended: its client is disconnected (claims stay until their leases lapse)."""
        binding = self.bindings.pop(key, None)
        if binding and binding.client_id:
            try:
                await self.run_domain(self.upkeep.disconnect_client, binding.client_id)
            except Exception:
                log.exception("marking client %s disconnected failed", binding.client_id)

    def forget_idle(self) -> list[str]:
        """Drop the HTTP connections that went quiet; their keys."""
        horizon = time.monotonic() - self.idle_after
        idle = [key for key, b in self.bindings.items() if key.startswith("http:") and b.renewed_at < horizon]
        for key in idle:
            del self.bindings[key]
        return idle
