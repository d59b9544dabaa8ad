"""Live updates: one Server-Sent Events stream per page, fed by the session's event log.

One `ChangeFeed` per process watches every session a page is open on. It
waits in `Store.wait_for_change` on a worker thread (PostgreSQL wakes it with
LISTEN/NOTIFY; SQLite returns after a short sleep), then reads each watched
session's new events once, renders what they changed once as HTML fragments,
and hands the same frames to every page that was at the same event number.
With no page open it waits on nothing at all.

A page names the event number it was rendered at; a reconnecting
`EventSource` sends the last one it saw (`Last-Event-ID`), so nothing is lost
between the render and the stream, or across a dropped connection. A change
too big to replay card by card (or a page that has taken in too many) makes
the page reload instead: the board then shows the first page of each column.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from taskweave.dashboard.reads import Reads
from taskweave.dashboard.rendering import Templates
from taskweave.server.dispatch import RunDomain
from taskweave.store import Store

log = logging.getLogger(__name__)

WAIT_SECONDS = 0.25
KEEPALIVE_SECONDS = 30.0
BATCH_EVENTS = 500
INSERTED_CARDS_BEFORE_RELOAD = 2_000
BUFFERED_BATCHES = 64
RETRY_MILLISECONDS = 1_000


def frame(event: str, data: str = "", *, seq: int | None = None) -> str:
    """One SSE message; every line of `data` gets its own `data:` field."""
    lines = [f"event: {event}"]
    lines += [f"data: {line}" for line in data.splitlines()] or ["data: "]
    if seq is not None:
        lines.append(f"id: {seq}")
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True)
class Batch:
    seq: int
    text: str
    cards: int


@dataclass(eq=False)
class Subscriber:
    session_id: str
    seq: int
    send: MemoryObjectSendStream[str]
    inserted: int = 0


class Updates:
    """What a run of events changed on a session page, as SSE frames of HTML fragments."""

    def __init__(self, reads: Reads, templates: Templates) -> None:
        self.reads = reads
        self.templates = templates

    def last_seq(self, session_id: str) -> int:
        return self.reads.orchestrator.upkeep.last_event_seq(session_id)

    def batch(self, session_id: str, since: int) -> Batch:
        """The frames for the events after `since` (blocking; called through the domain runner)."""
        events = self.reads.entries(session_id, since, BATCH_EVENTS + 1)
        if not events:
            return Batch(since, "", 0)
        if len(events) > BATCH_EVENTS:
            last = self.last_seq(session_id)
            return Batch(last, frame("resync", seq=last), 0)
        seq = events[0].event["seq"]  # entries come newest first
        ctx: dict[str, Any] = {"sid": session_id, "now": self.reads.now}
        part = self.templates.part
        changed = list(dict.fromkeys(e.event["task_id"] for e in reversed(events) if e.event["task_id"]))
        created = {e.event["task_id"] for e in events if e.event["kind"] == "task.created"}
        frames = [frame(f"task-{task_id}") for task_id in changed]
        cards = self.reads.cards(changed)
        frames += [frame(f"enter-{c.task['status']}", part("card", c=c, **ctx)) for c in cards]
        nodes = self.reads.nodes([*changed, *self.reads.ancestors(changed)])
        for node in sorted(nodes, key=lambda n: n.task["seq"]):
            task = node.task
            if task["id"] in created and task["parent_id"] is None and node.is_parent:
                frames.append(frame("roots", part("branch_item", n=node, **ctx)))
            elif task["id"] in created and task["parent_id"] is not None:
                frames.append(frame(f"children-{task['parent_id']}", part("branch_item", n=node, **ctx)))
            else:
                frames.append(frame(f"node-{task['id']}", part("node", n=node, **ctx)))
        frames.append(frame("summary", part("summary_update", head=self.reads.head(session_id), **ctx)))
        frames.append(frame("claims", part("claims", claims=self.reads.claims(session_id), **ctx)))
        frames.append(frame("clients", part("clients", clients=self.reads.clients(session_id), **ctx)))
        if any(e.event["kind"].startswith("message.") for e in events):
            frames.append(frame("messages", part("message_list", mailbox=self.reads.mailbox(session_id), **ctx)))
        frames.append(frame("timeline", part("timeline_rows", entries=events, **ctx), seq=seq))
        return Batch(seq, "".join(frames), len(cards))


class ChangeFeed:
    def __init__(self, store: Store, run_domain: RunDomain, updates: Updates) -> None:
        self.store = store
        self.run_domain = run_domain
        self.updates = updates
        self._subscribers: set[Subscriber] = set()
        self._wanted = anyio.Event()

    async def run(self) -> None:
        while True:
            if not self._subscribers:
                self._wanted = anyio.Event()
                await self._wanted.wait()
                continue
            await anyio.to_thread.run_sync(self.store.wait_for_change, WAIT_SECONDS, abandon_on_cancel=True)
            try:
                await self.publish()
            except Exception:
                log.exception("dashboard update failed")

    async def publish(self) -> None:
        groups: dict[tuple[str, int], list[Subscriber]] = defaultdict(list)
        for subscriber in self._subscribers:
            groups[(subscriber.session_id, subscriber.seq)].append(subscriber)
        latest: dict[str, int] = {}
        for (session_id, seq), members in groups.items():
            if session_id not in latest:
                latest[session_id] = await self.run_domain(self.updates.last_seq, session_id)
            if latest[session_id] <= seq:
                continue
            batch = await self.run_domain(self.updates.batch, session_id, seq)
            for subscriber in members:
                self._deliver(subscriber, batch)

    def _deliver(self, subscriber: Subscriber, batch: Batch) -> None:
        subscriber.seq = batch.seq
        subscriber.inserted += batch.cards
        text = batch.text
        if subscriber.inserted > INSERTED_CARDS_BEFORE_RELOAD:
            text += frame("resync", seq=batch.seq)
            subscriber.inserted = 0
        if not text:
            return
        try:
            subscriber.send.send_nowait(text)
        except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            # A page that does not keep up is dropped; its EventSource reconnects from its last event.
            self.unsubscribe(subscriber)

    async def subscribe(self, session_id: str, since: int) -> tuple[Subscriber, MemoryObjectReceiveStream[str]]:
        send, receive = anyio.create_memory_object_stream[str](BUFFERED_BATCHES)
        subscriber = Subscriber(session_id, since, send)
        batch = await self.run_domain(self.updates.batch, session_id, since)
        # No await between the catch-up and joining: every later event reaches this page through `publish`.
        self._deliver(subscriber, batch)
        self._subscribers.add(subscriber)
        self._wanted.set()
        return subscriber, receive

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        subscriber.send.close()

    async def stream(self, subscriber: Subscriber, receive: MemoryObjectReceiveStream[str]) -> AsyncIterator[str]:
        """The page's event stream: the retry delay, then the batches, with a comment now and then."""
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        try:
            while True:
                chunk = ": still here\n\n"
                with anyio.move_on_after(KEEPALIVE_SECONDS):
                    try:
                        chunk = await receive.receive()
                    except anyio.EndOfStream:
                        return
                yield chunk
        finally:
            self.unsubscribe(subscriber)
            receive.close()
