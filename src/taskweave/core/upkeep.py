"""What a server does to keep the store current, apart from what agents ask: liveness, lapsed claims, changes.

A server calls these for its connections (register, renew, disconnect), on
a schedule (`expire_stale`, from any server process sharing the store), and
to tell subscribers what changed (`changes_since`).
"""

from __future__ import annotations

from typing import TypedDict

from taskweave.core.clients import ClientInfo, bind_client, unknown_client
from taskweave.core.domain import Domain, writable_session

CHANGED_EVENTS_LIMIT = 200
SWEEP_BATCH = 500


class Swept(TypedDict):
    claims: int
    clients: int


class Upkeep:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def register_client(self, session_id: str, client: ClientInfo) -> str:
        """A client for a connection that never initialized (e.g. after a reconnect)."""
        now = self.domain.clock()
        with self.domain.store.transaction() as tx:
            writable_session(tx, session_id)
            return bind_client(tx, session_id, client, None, now)["id"]

    def client_principal(self, client_id: str) -> str | None:
        """Who the client acts for; a refusal when no such client exists."""
        with self.domain.reading() as tx:
            client = tx.client(client_id)
        if client is None:
            raise unknown_client(client_id)
        return client["principal"]

    def workspace_root(self, session_id: str) -> str | None:
        """The root of the workspace a session belongs to; None when there is no such session."""
        with self.domain.reading() as tx:
            session = tx.session(session_id)
            workspace = tx.workspace(session["workspace_id"]) if session else None
        return workspace["root"] if workspace else None

    def renew_client(self, client_id: str, session_id: str) -> None:
        """Any sign of life from a client keeps it connected and renews its claims."""
        now = self.domain.clock()
        with self.domain.store.transaction() as tx:
            client = tx.client(client_id)
            if client is None:
                return
            if client["state"] != "connected":
                tx.append_event(session_id, "client.reconnected", client_id, now, name=client["name"])
            tx.touch_client(client_id, session_id, now)

    def disconnect_client(self, client_id: str) -> None:
        """The client's connection ended. Its claims stay until their leases lapse, so a
        quick reconnect (presenting its client_id) finds them still held."""
        with self.domain.store.transaction() as tx:
            client = tx.client(client_id)
            if client is not None and tx.set_client_state(client_id, "disconnected"):
                tx.append_event(client["session_id"], "client.disconnected", client_id, self.domain.clock())

    def expire_stale(self, *, batch: int = SWEEP_BATCH) -> Swept:
        """Release claims whose lease lapsed and mark silent clients expired, logging each."""
        now = self.domain.clock()
        with self.domain.reading() as tx:
            claims = tx.expired_claims(now, batch)
            clients = tx.stale_clients(now - self.domain.settings.lease_seconds, batch)
        if not claims and not clients:
            return {"claims": 0, "clients": 0}
        released = expired = 0
        with self.domain.store.transaction() as tx:
            # One lock per session, always in the same order, so concurrent sweepers never deadlock.
            for session_id in sorted({row["session_id"] for row in [*claims, *clients]}):
                tx.lock_session(session_id)
            for claim in claims:
                if tx.release_expired_claim(claim["id"], claim["claimed_by"], now):
                    tx.append_event(
                        claim["session_id"], "claim.expired", None, now, claim["id"],
                        client_id=claim["claimed_by"], reason="lease lapsed",
                    )
                    released += 1
            for client in clients:
                if tx.set_client_state(client["id"], "expired"):
                    tx.append_event(client["session_id"], "client.expired", None, now, client_id=client["id"])
                    expired += 1
        return {"claims": released, "clients": expired}

    def session_of_task(self, task_id: str) -> str | None:
        with self.domain.reading() as tx:
            task = tx.task(task_id)
        return task["session_id"] if task else None

    def last_event_seq(self, session_id: str) -> int:
        with self.domain.reading() as tx:
            session = tx.session(session_id)
        return session["last_event_seq"] if session else 0

    def changes_since(self, session_id: str, seq: int) -> tuple[int, set[str]]:
        """The session's latest event sequence number and the tasks changed after `seq`."""
        with self.domain.reading() as tx:
            session = tx.session(session_id)
            if session is None or session["last_event_seq"] == seq:
                return seq, set()
            events = tx.events_since(session_id, seq, CHANGED_EVENTS_LIMIT)
        return session["last_event_seq"], {e["task_id"] for e in events if e["task_id"]}
