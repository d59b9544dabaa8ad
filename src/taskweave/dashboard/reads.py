"""What the dashboard reads from the store: bounded pages of a session, never the whole of it.

Each function runs in one read transaction of its own and returns plain
dataclasses for the templates. Most go through the store's own queries; the
few the store has no query for (a status column ordered by last change, the
root parents, a task's dependents) are the SQL at the top of this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from taskweave.core import specialists
from taskweave.core.domain import session_by_id, specialist_overrides, task_in_session
from taskweave.core.messages import MessageView
from taskweave.core.model import PRIORITY_NAMES, STATUSES
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.views import Summary, client_view, summary
from taskweave.errors import NotFound, shown
from taskweave.store import Transaction
from taskweave.store.records import ArtifactMeta, ArtifactRow, ClientRow, EventRow, SessionRow, TaskRow

PAGE = 50
TREE_PAGE = 20
TIMELINE_PAGE = 50
GRAPH_NODES = 120
CLAIMS_LISTED = 50
CLIENTS_LISTED = 50
MESSAGES_LISTED = 30
ANCESTOR_DEPTH = 64



@dataclass(frozen=True)
class Cursor:
    """Where a column's next page starts: after the card last shown."""

    updated_at: float
    seq: int

    def token(self) -> str:
        return f"{self.updated_at!r}:{self.seq}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        if not token:
            return None
        at, _, seq = token.partition(":")
        try:
            return cls(float(at), int(seq))
        except ValueError:
            return None


@dataclass(frozen=True)
class Card:
    task: TaskRow
    parent_title: str | None
    holder_name: str | None

    @property
    def priority(self) -> str:
        return PRIORITY_NAMES.get(self.task["priority"], str(self.task["priority"]))


@dataclass(frozen=True)
class Column:
    status: str
    count: int
    cards: list[Card]
    more: str | None  # the cursor of the next page, when there is one


@dataclass(frozen=True)
class SessionHead:
    session: SessionRow
    workspace_root: str | None
    figures: Summary


@dataclass(frozen=True)
class Node:
    """A task in the parent tree; a parent carries the progress of the work under it."""

    task: TaskRow
    figures: Summary | None

    @property
    def is_parent(self) -> bool:
        return self.task["children"] > 0


@dataclass(frozen=True)
class Branch:
    nodes: list[Node]
    total: int
    next_offset: int | None


@dataclass(frozen=True)
class Claim:
    task: TaskRow
    holder: ClientRow | None
    live: bool
    paths: list[str]

    @property
    def stale(self) -> bool:
        """Releasable without force: the lease lapsed or the holder is gone (the domain's own rule)."""
        return not self.live or self.holder is None or self.holder["state"] != "connected"


@dataclass(frozen=True)
class Claims:
    claims: list[Claim]
    total: int


@dataclass(frozen=True)
class Liveness:
    client: ClientRow
    state: str  # as the domain shows it: a connected client silent for a lease is expired


@dataclass(frozen=True)
class Mailbox:
    """The session's latest messages, and whom the person can write to."""

    messages: list[MessageView]
    names: dict[str, str]  # client id -> name, for senders and recipients
    specialists: list[str]
    clients: list[ClientRow]  # the connected ones


@dataclass(frozen=True)
class TimelineEntry:
    event: EventRow
    actor_name: str | None
    task_title: str | None


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    older: int | None  # the `before` of the next older page


@dataclass(frozen=True)
class Detail:
    task: TaskRow
    paths: list[str]
    dependencies: list[TaskRow]
    artifacts: list[ArtifactMeta]
    parent: TaskRow | None
    holder: ClientRow | None
    figures: Summary | None
    synthesis: str | None


@dataclass(frozen=True)
class GraphPart:
    nodes: list[TaskRow]
    edges: list[tuple[str, str]]  # (dependency, dependent)
    outside: set[str] = field(default_factory=set)  # nodes shown for context, outside the chosen scope
    truncated: bool = False
    focus: TaskRow | None = None  # the task or parent the graph is drawn for


class Reads:
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator
        self.store = orchestrator.store

    @property
    def now(self) -> float:
        return self.orchestrator.domain.clock()

    @property
    def lease_seconds(self) -> float:
        return self.orchestrator.settings.lease_seconds

    def head(self, session_id: str) -> SessionHead:
        with self.store.transaction(write=False) as tx:
            session = session_by_id(tx, session_id)
            ws = tx.workspace(session["workspace_id"])
            counts = tx.work_counts(session_id)
        return SessionHead(session, ws["root"] if ws else None, summary(counts))

    def board(self, session_id: str) -> list[Column]:
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            counts = tx.work_counts(session_id)
            columns = [self._column(tx, session_id, status, counts.get(status, 0), None) for status in STATUSES]
        return columns

    def column(self, session_id: str, status: str, after: Cursor | None) -> Column:
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            count = tx.work_counts(session_id).get(status, 0)
            return self._column(tx, session_id, status, count, after)

    def _column(self, tx: Transaction, session_id: str, status: str, count: int, after: Cursor | None) -> Column:
        rows = tx.work_column(session_id, status, PAGE + 1, (after.updated_at, after.seq) if after else None)
        page = rows[:PAGE]
        more = Cursor(page[-1]["updated_at"], page[-1]["seq"]).token() if len(rows) > PAGE else None
        return Column(status, count, self._cards(tx, page), more)

    def cards(self, task_ids: Sequence[str]) -> list[Card]:
        """The cards of these tasks, as they are now, least recently changed first."""
        with self.store.transaction(write=False) as tx:
            rows = [t for t in tx.tasks_by_ids(task_ids) if t["children"] == 0]
            rows.sort(key=lambda t: (t["updated_at"], t["seq"]))
            return self._cards(tx, rows)

    def _cards(self, tx: Transaction, rows: list[TaskRow]) -> list[Card]:
        parents = {t["id"]: t["title"] for t in tx.tasks_by_ids(_unique(t["parent_id"] for t in rows))}
        holders = _clients_by_id(tx, _unique(t["claimed_by"] for t in rows))
        return [
            Card(
                task,
                parents.get(task["parent_id"] or ""),
                holders[task["claimed_by"]]["name"] if task["claimed_by"] in holders else None,
            )
            for task in rows
        ]

    def roots(self, session_id: str, offset: int) -> Branch:
        """The parents at the top of the tree, newest first, each with the progress of its work."""
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            rows, total = tx.root_parents(session_id, TREE_PAGE, offset)
            nodes = [self._node(tx, row) for row in rows]
        return Branch(nodes, total, offset + TREE_PAGE if offset + TREE_PAGE < total else None)

    def children(self, session_id: str, parent_id: str, offset: int) -> Branch:
        with self.store.transaction(write=False) as tx:
            parent = task_in_session(tx, session_id, parent_id)
            total = parent["children"]  # the parent counts its subtasks: no need to count them again
            rows, _ = tx.query_tasks(
                session_id, parent_id=parent_id, limit=TREE_PAGE, offset=offset, count_limit=offset + TREE_PAGE
            )
            nodes = [self._node(tx, row) for row in rows]
        return Branch(nodes, total, offset + TREE_PAGE if offset + TREE_PAGE < total else None)

    def nodes(self, task_ids: Sequence[str]) -> list[Node]:
        with self.store.transaction(write=False) as tx:
            return [self._node(tx, row) for row in tx.tasks_by_ids(task_ids)]

    def _node(self, tx: Transaction, task: TaskRow) -> Node:
        return Node(task, summary(tx.subtree_work_counts(task["id"])) if task["children"] else None)

    def ancestors(self, task_ids: Iterable[str]) -> list[str]:
        """Every parent above these tasks, nearest first."""
        found: list[str] = []
        with self.store.transaction(write=False) as tx:
            level = _unique(t["parent_id"] for t in tx.tasks_by_ids(_unique(task_ids)))
            for _ in range(ANCESTOR_DEPTH):
                level = [p for p in level if p not in found]
                if not level:
                    break
                found += level
                level = _unique(t["parent_id"] for t in tx.tasks_by_ids(level))
        return found

    def claims(self, session_id: str) -> Claims:
        now = self.now
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            total = tx.work_counts(session_id).get("in_progress", 0)
            rows = tx.tasks_with_status(session_id, "in_progress", CLAIMS_LISTED)
            holders = _clients_by_id(tx, _unique(t["claimed_by"] for t in rows))
        claims = [
            Claim(
                task,
                holders.get(task["claimed_by"] or ""),
                task["claim_expires_at"] is not None and task["claim_expires_at"] >= now,
                claim_paths(task["claim_paths"]),
            )
            for task in rows
            if task["claimed_by"]
        ]
        return Claims(claims, total)

    def clients(self, session_id: str) -> list[Liveness]:
        now = self.now
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            rows = tx.clients(session_id, CLIENTS_LISTED)
        return [Liveness(c, client_view(c, now, self.lease_seconds, brief=True)["state"]) for c in rows]

    def mailbox(self, session_id: str) -> Mailbox:
        now = self.now
        messages = self.orchestrator.messages.recent(session_id, MESSAGES_LISTED)
        with self.store.transaction(write=False) as tx:
            session = session_by_id(tx, session_id)
            clients = tx.clients(session_id, CLIENTS_LISTED, connected_since=now - self.lease_seconds)
            named = _clients_by_id(tx, _unique([*(m["sent_by"] for m in messages), *(m["to"] for m in messages)]))
        roles = sorted(specialists.available(specialist_overrides(session)))
        return Mailbox(messages, {cid: c["name"] for cid, c in named.items()}, roles, clients)

    def timeline(self, session_id: str, before: int | None) -> Timeline:
        """The events before `before` (None: the latest), newest first. Event numbers have no gaps."""
        with self.store.transaction(write=False) as tx:
            session = session_by_id(tx, session_id)
            end = session["last_event_seq"] + 1 if before is None else min(before, session["last_event_seq"] + 1)
            start = max(0, end - 1 - TIMELINE_PAGE)
            events = tx.events_since(session_id, start, end - 1 - start)
            entries = self._entries(tx, events)
        return Timeline(entries, start + 1 if start > 0 else None)

    def entries(self, session_id: str, since: int, limit: int) -> list[TimelineEntry]:
        with self.store.transaction(write=False) as tx:
            return self._entries(tx, tx.events_since(session_id, since, limit))

    def _entries(self, tx: Transaction, events: list[EventRow]) -> list[TimelineEntry]:
        actors = _clients_by_id(tx, _unique(e["actor"] for e in events))
        titles = {t["id"]: t["title"] for t in tx.tasks_by_ids(_unique(e["task_id"] for e in events))}
        return [
            TimelineEntry(
                event,
                actors[event["actor"]]["name"] if event["actor"] in actors else None,
                titles.get(event["task_id"] or ""),
            )
            for event in reversed(events)
        ]

    def detail(self, session_id: str, task_id: str) -> Detail:
        with self.store.transaction(write=False) as tx:
            task = task_in_session(tx, session_id, task_id)
            dependencies = tx.dependencies(task_id)
            artifacts = tx.artifacts_of([task_id])
            parent = tx.task(task["parent_id"]) if task["parent_id"] else None
            holder = tx.client(task["claimed_by"]) if task["claimed_by"] else None
            figures = summary(tx.subtree_work_counts(task_id)) if task["children"] else None
            report = next((a for a in reversed(artifacts) if a["kind"] == "synthesis"), None)
            synthesis = tx.artifact(report["id"]) if report else None
        return Detail(
            task,
            claim_paths(task["claim_paths"]),
            dependencies,
            artifacts,
            parent,
            holder,
            figures,
            synthesis["content"] if synthesis else None,
        )

    def artifact(self, session_id: str, artifact_id: str) -> ArtifactRow:
        with self.store.transaction(write=False) as tx:
            found = tx.artifact(artifact_id)
        if found is None or found["session_id"] != session_id:
            raise NotFound(f"No artifact {shown(artifact_id)} in session {session_id}.", hint="Open it from its task.")
        return found

    def graph(self, session_id: str, *, parent_id: str | None, task_id: str | None) -> GraphPart:
        """The dependencies among a parent's subtasks, around one task, or among the top-level tasks."""
        with self.store.transaction(write=False) as tx:
            session_by_id(tx, session_id)
            if task_id is not None:
                return _neighbourhood(tx, task_in_session(tx, session_id, task_id))
            focus = None
            if parent_id is not None:
                focus = task_in_session(tx, session_id, parent_id)
                rows, _ = tx.query_tasks(session_id, parent_id=parent_id, limit=GRAPH_NODES, offset=0, count_limit=GRAPH_NODES)
                total = focus["children"]
            else:
                rows = tx.root_tasks(session_id, GRAPH_NODES + 1)
                total = len(rows)
                rows = rows[:GRAPH_NODES]
            return replace(_scope_graph(tx, rows, truncated=total > len(rows)), focus=focus)


def _scope_graph(tx: Transaction, rows: list[TaskRow], *, truncated: bool) -> GraphPart:
    """`rows` and their dependencies; a dependency outside them is drawn as context."""
    inside = {t["id"] for t in rows}
    deps = tx.dependency_ids(list(inside))
    edges = [(dep, task) for task, listed in deps.items() for dep in listed]
    outside_ids = _unique(dep for dep, _ in edges if dep not in inside)[:GRAPH_NODES]
    outside = tx.tasks_by_ids(outside_ids)
    shown = inside | {t["id"] for t in outside}
    return GraphPart(
        rows + outside,
        [(a, b) for a, b in edges if a in shown],
        {t["id"] for t in outside},
        truncated or len(outside_ids) < len({dep for dep, _ in edges if dep not in inside}),
    )


def _neighbourhood(tx: Transaction, task: TaskRow) -> GraphPart:
    """A task with what it depends on and what depends on it, two steps each way."""
    ids = {task["id"]}
    edges: set[tuple[str, str]] = set()
    up = [task["id"]]
    down = [task["id"]]
    for _ in range(2):
        deps = tx.dependency_ids(up)
        step_up = [(dep, t) for t, listed in deps.items() for dep in listed]
        step_down = tx.dependents(down)
        edges.update(step_up + step_down)
        up = [d for d, _ in step_up if d not in ids]
        down = [t for _, t in step_down if t not in ids]
        ids.update(up + down)
        if len(ids) > GRAPH_NODES:
            break
    kept = sorted(ids)[:GRAPH_NODES] if len(ids) > GRAPH_NODES else sorted(ids)
    if task["id"] not in kept:
        kept[-1] = task["id"]
    rows = tx.tasks_by_ids(kept)
    shown = {t["id"] for t in rows}
    return GraphPart(
        rows,
        sorted((a, b) for a, b in edges if a in shown and b in shown),
        shown - {task["id"]},
        len(ids) > GRAPH_NODES,
        task,
    )


def _clients_by_id(tx: Transaction, client_ids: Sequence[str]) -> dict[str, ClientRow]:
    found: dict[str, ClientRow] = {}
    for client_id in client_ids:
        row = tx.client(client_id)
        if row is not None:
            found[client_id] = row
    return found


def claim_paths(raw: str | None) -> list[str]:
    """The globs a claim reserves, as the store keeps them (a JSON list)."""
    value = json.loads(raw) if raw else []
    return [str(p) for p in value] if isinstance(value, list) else [str(value)]


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
