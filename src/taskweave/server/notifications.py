"""Change notifications for resource subscribers, whichever server process made the change.

The store's event log is the source of truth: this process watches the
sessions its subscribers care about, and when their last event number moves,
it tells the subscribers which status and task resources changed. That works
across processes on one SQLite file (by polling) and across instances on
PostgreSQL (woken by LISTEN/NOTIFY). Subscribers come in two kinds: handshake-era
connections that called `resources/subscribe`, and 2026-07-28 `subscriptions/listen`
streams, which are served by the SDK's `ListenHandler` over a bus we publish to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated

from taskweave.core import uris
from taskweave.core.upkeep import Upkeep
from taskweave.server.dispatch import RunDomain
from taskweave.store import Store

log = logging.getLogger(__name__)

WAIT_SECONDS = 0.25


@dataclass
class Subscriber:
    """A handshake-era connection and the URIs it subscribed to."""

    session: ServerSession
    uris: set[str] = field(default_factory=set)


class ChangeNotifier:
    def __init__(self, store: Store, upkeep: Upkeep, run_domain: RunDomain) -> None:
        self.store = store
        self.upkeep = upkeep
        self.run_domain = run_domain
        self.subscribers: dict[str, Subscriber] = {}
        self.bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self.bus)
        self._seen_seq: dict[str, int] = {}

    def session_of(self, uri: str) -> str | None:
        """The session whose events can change `uri` (artifacts never change)."""
        name = uris.parse(uri)
        if name is None or name.artifact_id:
            return None
        if name.session_id:
            return name.session_id
        return self.upkeep.session_of_task(name.task_id) if name.task_id else None

    async def watch(self, uri: str) -> None:
        session_id = await self.run_domain(self.session_of, uri)
        if session_id and session_id not in self._seen_seq:
            last_seq = await self.run_domain(self.upkeep.last_event_seq, session_id)
            self._seen_seq.setdefault(session_id, last_seq)

    async def subscribe(self, key: str, session: ServerSession, uri: str) -> None:
        subscriber = self.subscribers.setdefault(key, Subscriber(session))
        subscriber.session = session
        subscriber.uris.add(uri)
        await self.watch(uri)

    def unsubscribe(self, key: str, uri: str | None = None) -> None:
        """Forget one URI of a connection, or (without `uri`) the whole connection."""
        if uri is None:
            self.subscribers.pop(key, None)
        elif key in self.subscribers:
            self.subscribers[key].uris.discard(uri)

    async def listen(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """Serve a 2026-07-28 listen stream, watching the sessions its resources belong to."""
        for uri in params.notifications.resource_subscriptions or []:
            await self.watch(uri)
        return await self._listen(ctx, params)

    async def run(self) -> None:
        while True:
            if self._seen_seq:
                await anyio.to_thread.run_sync(self.store.wait_for_change, WAIT_SECONDS)
                try:
                    await self._publish_changes()
                except Exception:
                    log.exception("change notification failed")
            else:
                await anyio.sleep(WAIT_SECONDS)

    async def _publish_changes(self) -> None:
        for session_id, seen in list(self._seen_seq.items()):
            last_seq, task_ids = await self.run_domain(self.upkeep.changes_since, session_id, seen)
            if last_seq == seen:
                continue
            self._seen_seq[session_id] = last_seq
            changed = [uris.status_uri(session_id), *(uris.task_uri(task_id) for task_id in sorted(task_ids))]
            for uri in changed:
                await self.bus.publish(ResourceUpdated(uri=uri))
            for key, subscriber in list(self.subscribers.items()):
                for uri in [u for u in changed if u in subscriber.uris]:
                    try:
                        await subscriber.session.send_resource_updated(uri)
                    except Exception:
                        log.info("dropping subscriber %s: it can no longer be notified", key)
                        self.subscribers.pop(key, None)
                        break
