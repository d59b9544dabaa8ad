"""What every use case shares: the store, the clock, the settings, and the one envelope for writes.

An agent's write goes through `Domain.write`: in one transaction it locks the
session, answers a retried idempotency key with the first answer, runs the
use case's own work, and remembers the answer under the key. So a change is
either wholly there (with its events) or not at all, a retry never applies
twice, and the caller gets its answer only after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

from taskweave.core import idempotency, limits
from taskweave.core.tool_names import GET_STATUS, INITIALIZE_SESSION, LIST_SESSIONS, QUERY_TASKS, RESUME_SESSION
from taskweave.core.uris import artifact_uri
from taskweave.core.views import ArtifactRef
from taskweave.errors import Conflict, NotFound, StoreBusy, shown
from taskweave.store import Store, Transaction, waiting
from taskweave.store.records import SessionRow, TaskRow

DEFAULT_LEASE_SECONDS = 300

Result = TypeVar("Result", bound=Mapping[str, Any])


@dataclass(frozen=True)
class Settings:
    """How long a claim lasts without renewal, and how long a silent client stays connected."""

    lease_seconds: int = DEFAULT_LEASE_SECONDS


@dataclass(frozen=True)
class Write:
    """A write an agent asked for: in which session, by whom, under which name, with which arguments.

    `operation` and `arguments` identify the request for its idempotency key.
    """

    session_id: str
    actor: str | None
    operation: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


class Change:
    """One write in progress: its transaction, the locked session, its moment and its actor."""

    def __init__(self, tx: Transaction, session: SessionRow, now: float, actor: str | None) -> None:
        self.tx = tx
        self.session = session
        self.now = now
        self.actor = actor

    @property
    def session_id(self) -> str:
        return self.session["id"]

    @cached_property
    def specialist_overrides(self) -> dict[str, str]:
        """The workspace's specialist instructions, as recorded on the session at its last initialize."""
        return specialist_overrides(self.session)

    def event(self, kind: str, task_id: str | None = None, **data: Any) -> None:
        """Log a change in the session's event log, as this write's actor."""
        self.tx.append_event(self.session_id, kind, self.actor, self.now, task_id, **data)

    def task(self, task_id: str) -> TaskRow:
        return task_in_session(self.tx, self.session_id, task_id)

    def require_tasks(self, task_ids: Sequence[str], field_name: str) -> None:
        found = {t["id"] for t in self.tx.tasks_by_ids(list(task_ids)) if t["session_id"] == self.session_id}
        missing = [t for t in task_ids if t not in found]
        if missing:
            raise NotFound(
                f"'{field_name}' names unknown task(s): {', '.join(missing[:10])}.",
                hint=f"Use task ids of this session ({QUERY_TASKS} lists them).",
            )

    def add_artifact(
        self, task_id: str | None, kind: str, name: str, mime_type: str, content: str
    ) -> ArtifactRef:
        artifact_id = self.tx.insert_artifact(
            self.session_id, task_id, kind, name, mime_type, content, self.actor, self.now
        )
        self.event("artifact.created", task_id, artifact_id=artifact_id, artifact_kind=kind)
        return {
            "artifact_id": artifact_id,
            "kind": kind,
            "name": name,
            "size": len(content.encode()),
            "uri": artifact_uri(artifact_id),
        }


class Domain:
    def __init__(self, store: Store, *, clock: Callable[[], float], settings: Settings = Settings()) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self._turns = waiting.KeyedTurns() if store.concurrent_transactions else None

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        with self.store.transaction(write=False) as tx:
            yield tx

    def write(self, request: Write, work: Callable[[Change], Result]) -> Result:
        """Run `work` as one change of the request's session; see the module's docstring."""
        if request.idempotency_key is not None:
            limits.text("idempotency_key", request.idempotency_key, limits.IDEMPOTENCY_KEY, required=True)
        with self._turn(request.session_id):
            now = self.clock()
            with self.store.transaction() as tx:
                session = writable_session(tx, request.session_id)
                replayed = idempotency.replay(tx, request)
                if replayed is not None:
                    return cast(Result, replayed)
                result = work(Change(tx, session, now, request.actor))
                idempotency.remember(tx, request, result, now)
        return result

    @contextmanager
    def _turn(self, session_id: str) -> Iterator[None]:
        """Where transactions run side by side, a session's writers in this process queue before taking
        a connection: they would only wait for the session's lock holding it, starving the readers."""
        if self._turns is None:
            yield
            return
        with self._turns.turn(session_id) as mine:
            if not mine:
                raise StoreBusy(
                    f"Other calls kept session {shown(session_id)} busy for {waiting.LOCK_WAIT_SECONDS:g} seconds; "
                    "nothing was changed.",
                    hint="Retry; if it persists, look for a stopped or hung process using the store.",
                )
            yield


def session_by_id(tx: Transaction, session_id: str) -> SessionRow:
    session = tx.session(session_id)
    if session is None:
        raise no_session(session_id)
    return session


def no_session(session_id: str) -> NotFound:
    return NotFound(
        f"No session {shown(session_id)}.", hint=f"Call {INITIALIZE_SESSION}, or pick one from {LIST_SESSIONS}."
    )


def writable_session(tx: Transaction, session_id: str) -> SessionRow:
    """The session, locked for this transaction's writes (read as it was locked); it must be active."""
    session = tx.lock_session(session_id)
    if session is None:
        raise no_session(session_id)
    if session["status"] != "active":
        raise Conflict(
            f"Session {session_id} has ended.",
            hint=f"Resume it with {RESUME_SESSION}, or start a new one with {INITIALIZE_SESSION}.",
        )
    return session


def task_in_session(tx: Transaction, session_id: str, task_id: str) -> TaskRow:
    task = tx.task(task_id)
    if task is None or task["session_id"] != session_id:
        raise NotFound(
            f"No task {shown(task_id)} in session {session_id}.",
            hint=f"Use a task_id from {GET_STATUS} or {QUERY_TASKS}.",
        )
    return task


def specialist_overrides(session: SessionRow) -> dict[str, str]:
    overrides: dict[str, str] = json.loads(session["metadata"]).get("specialists", {})
    return overrides
