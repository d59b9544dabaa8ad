"""Who is calling: a connected agent's identity, and binding it to a session."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from taskweave.core import limits
from taskweave.core.tool_names import INITIALIZE_SESSION
from taskweave.errors import NotFound, shown
from taskweave.store import Transaction
from taskweave.store.records import ClientRow, Row


@dataclass(frozen=True)
class ClientInfo:
    """What the MCP client said of itself, and where it runs."""

    name: str = "unknown"
    version: str = ""
    transport: str = "stdio"
    pid: int | None = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    worktree: str | None = None
    principal: str | None = None
    """Who the client acts for, as its bearer token names it (None: no tokens, a local user)."""

    def as_row(self) -> Row:
        return {
            "name": self.name[: limits.NAME],
            "version": self.version[: limits.NAME],
            "transport": self.transport,
            "pid": self.pid,
            "host": self.host,
            "worktree": self.worktree,
            "principal": self.principal,
        }


def unknown_client(client_id: str) -> NotFound:
    return NotFound(
        f"Unknown client_id {shown(client_id)}.",
        hint=f"Omit client_id to register as a new client; use the client_id {INITIALIZE_SESSION} returned.",
    )


def bind_client(tx: Transaction, session_id: str, client: ClientInfo, client_id: str | None, now: float) -> ClientRow:
    """Register a new client in the session, or bring back the one `client_id` names."""
    if client_id is None:
        row = tx.insert_client(session_id, client.as_row(), now)
        tx.append_event(session_id, "client.registered", row["id"], now, name=client.name)
        return row
    existing = tx.client(client_id)
    if existing is None:
        raise unknown_client(client_id)
    tx.touch_client(client_id, session_id, now)
    tx.append_event(session_id, "client.reconnected", client_id, now, name=client.name)
    return existing
