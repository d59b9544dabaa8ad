"""The orchestration domain: sessions, clients, tasks, claims, artifacts and events.

`Orchestrator` knows nothing of MCP or of which transport called it: the
server and the CLI both call these methods with plain values and get plain
JSON-ready dicts back. Each public method is one store transaction, so a
change is either wholly there (with its event) or not at all, and a caller
gets its answer only after the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from taskweave.core import limits, specialists
from taskweave.core.model import (
    COMPLETION_STATUSES,
    DEFAULT_PRIORITY,
    FINISHED,
    PRIORITIES,
    STATUSES,
    UPDATE_TRANSITIONS,
    artifact_ref,
    artifact_uri,
    claim_view,
    client_view,
    event_view,
    iso,
    progress,
    status_uri,
    task_brief,
    task_full,
    task_uri,
)
from taskweave.core.synthesis import LISTED_TASKS, build_report
from taskweave.errors import Conflict, InvalidInput, NotFound
from taskweave.store import Store, Transaction, open_store
from taskweave.store.base import Row, new_id

if TYPE_CHECKING:
    from taskweave.workspace import Detection

DEFAULT_LEASE_SECONDS = 300
DEFAULT_SESSION_NAME = "main"
STATUS_IN_PROGRESS_LIMIT = 50
STATUS_READY_LIMIT = 10
STATUS_RECENT_LIMIT = 20
STATUS_CLIENTS_LIMIT = 20
STATUS_EVENTS_LIMIT = 200
INLINE_REPORT_CHARS = 20_000


@dataclass(frozen=True)
class ClientInfo:
    """Who is calling: what the MCP client said of itself, and where it runs."""

    name: str = "unknown"
    version: str = ""
    transport: str = "stdio"
    pid: int | None = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    worktree: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "name": self.name[: limits.NAME],
            "version": self.version[: limits.NAME],
            "transport": self.transport,
            "pid": self.pid,
            "host": self.host,
            "worktree": self.worktree,
        }


def _specialist_overrides(session: Row) -> dict[str, str]:
    """The workspace's specialist instructions, as recorded on the session at its last initialize."""
    return json.loads(session["metadata"]).get("specialists", {})


class Orchestrator:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lease_seconds = lease_seconds

    @classmethod
    @contextmanager
    def open(cls, location: str | None = None) -> Iterator[Orchestrator]:
        store = open_store(location)
        try:
            yield cls(store)
        finally:
            store.close()

    # -- sessions and clients ---------------------------------------------

    def initialize_session(
        self,
        workspace: Detection,
        *,
        session_name: str | None = None,
        new_session: bool = False,
        client: ClientInfo = ClientInfo(),
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Attach to the workspace's session, creating one only when none fits; register the client."""
        name = limits.text("session_name", session_name, limits.NAME)
        now = self.clock()
        overrides = specialists.specialist_overrides(workspace.config)
        with self.store.transaction() as tx:
            ws = tx.upsert_workspace(workspace.identity, workspace.root, list(workspace.types), workspace.vcs, now)
            tx.lock_workspace(ws["id"])
            session = None if new_session else tx.active_session(ws["id"], name)
            attached = session is not None
            if session is None:
                if new_session and name and tx.active_session(ws["id"], name):
                    raise Conflict(
                        f"An active session named {name!r} already exists in this workspace.",
                        hint="Omit new_session to attach to it, or choose another session_name.",
                    )
                session_name_final = name or self._free_session_name(tx, ws["id"], new_session)
                session = tx.insert_session(ws["id"], session_name_final, {"specialists": overrides}, now)
                tx.append_event(session["id"], "session.created", client_id, now, name=session_name_final)
            else:
                tx.lock_session(session["id"])
            if attached and _specialist_overrides(session) != overrides:
                metadata = {**json.loads(session["metadata"]), "specialists": overrides}
                tx.run("UPDATE sessions SET metadata = ? WHERE id = ?", json.dumps(metadata), session["id"])
            client_row = self._bind_client(tx, session["id"], client, client_id, now)
            summary = progress(tx.status_counts(session["id"]))
            in_progress = tx.tasks_with_status(session["id"], "in_progress", STATUS_IN_PROGRESS_LIMIT)
            ready = tx.ready_tasks(session["id"], STATUS_READY_LIMIT)
            mine = [t["id"] for t in in_progress if t["claimed_by"] == client_row["id"]]
        return {
            "session_id": session["id"],
            "session_name": session["name"],
            "attached": attached,
            "client_id": client_row["id"],
            "workspace": {
                "id": ws["id"],
                "root": workspace.root,
                "types": list(workspace.types),
                "vcs": workspace.vcs,
                "detection": workspace.evidence,
            },
            "summary": summary,
            "active_tasks": [task_brief(t, now) for t in in_progress],
            "ready_tasks": [task_brief(t, now) for t in ready],
            "your_claims": mine,
            "status_uri": status_uri(session["id"]),
            "guidance": (
                "This session is shared and durable: every agent in this workspace sees the same plan. "
                "Plan work with orchestrator_plan_task (a parent with subtasks in one call), claim a task with "
                "orchestrator_execute_task, finish it with orchestrator_complete_task (long output goes into "
                "detailed_work), and combine results with orchestrator_synthesize_results. Keep client_id: "
                "pass it to orchestrator_initialize_session after a reconnect to keep your claims."
            ),
            "next_steps": self._next_steps(summary, mine, ready),
        }

    def _free_session_name(self, tx: Transaction, workspace_id: str, new_session: bool) -> str:
        if not new_session and tx.active_session(workspace_id, DEFAULT_SESSION_NAME) is None:
            return DEFAULT_SESSION_NAME
        taken = tx.session_names(workspace_id)
        number = len(taken) + 1
        while f"session-{number}" in taken:
            number += 1
        return f"session-{number}"

    def _bind_client(
        self, tx: Transaction, session_id: str, client: ClientInfo, client_id: str | None, now: float
    ) -> Row:
        if client_id is None:
            row = tx.insert_client(session_id, client.as_row(), now)
            tx.append_event(session_id, "client.registered", row["id"], now, name=client.name)
            return row
        row = tx.client(client_id)
        if row is None:
            raise NotFound(
                f"Unknown client_id {client_id!r}.",
                hint="Omit client_id to register as a new client; use the client_id an earlier call returned.",
            )
        tx.touch_client(client_id, session_id, now)
        tx.append_event(session_id, "client.reconnected", client_id, now, name=client.name)
        return row

    def register_client(self, session_id: str, client: ClientInfo) -> str:
        """A client for a connection that never initialized (e.g. after a reconnect)."""
        now = self.clock()
        with self.store.transaction() as tx:
            self._session(tx, session_id, writable=True)
            return self._bind_client(tx, session_id, client, None, now)["id"]

    @staticmethod
    def _next_steps(summary: dict[str, Any], mine: list[str], ready: list[Row]) -> list[str]:
        steps: list[str] = []
        if mine:
            steps.append(f"You hold {len(mine)} claimed task(s): finish them with orchestrator_complete_task.")
        if summary["total"] == 0:
            steps.append("The plan is empty: create tasks with orchestrator_plan_task.")
        elif ready:
            steps.append("Claim the next ready task: orchestrator_execute_task without a task_id.")
        elif summary["all_finished"]:
            steps.append("Every task is finished: combine the results with orchestrator_synthesize_results.")
        else:
            steps.append("No task is ready right now; check orchestrator_get_status for blocked or claimed work.")
        return steps

    def active_session_id(self, workspace: Detection) -> str | None:
        with self.store.transaction(write=False) as tx:
            ws = tx.workspace_by_identity(workspace.identity)
            session = tx.active_session(ws["id"], None) if ws else None
        return session["id"] if session else None

    def resume_session(self, session_id: str, client_id: str | None) -> dict[str, Any]:
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id)
            if session["status"] != "active":
                if tx.active_session(session["workspace_id"], session["name"]):
                    raise Conflict(
                        f"Another active session in this workspace is already named {session['name']!r}.",
                        hint="End that session first, or keep working in it.",
                    )
                tx.set_session_status(session_id, "active", now)
                tx.append_event(session_id, "session.resumed", client_id, now)
            if client_id is not None:
                tx.touch_client(client_id, session_id, now)
        return self.get_status(session_id)

    def end_session(self, session_id: str, client_id: str | None) -> dict[str, Any]:
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id)
            if session["status"] == "ended":
                raise Conflict(
                    f"Session {session_id} has already ended.",
                    hint="Resume it with orchestrator_resume_session to work in it again.",
                )
            tx.set_session_status(session_id, "ended", now)
            tx.append_event(session_id, "session.ended", client_id, now)
            counts = tx.status_counts(session_id)
        return {"session_id": session_id, "status": "ended", "summary": progress(counts), "ended_at": iso(now)}

    def list_sessions(self, workspace: Detection | None, *, limit: int = 50) -> dict[str, Any]:
        now = self.clock()
        with self.store.transaction(write=False) as tx:
            workspace_id = None
            if workspace is not None:
                ws = tx.workspace_by_identity(workspace.identity)
                if ws is None:
                    return {"workspace_root": workspace.root, "sessions": []}
                workspace_id = ws["id"]
            sessions = [
                {
                    "session_id": s["id"],
                    "name": s["name"],
                    "status": s["status"],
                    "workspace_root": s["workspace_root"],
                    "counts": progress(tx.status_counts(s["id"]))["counts"],
                    "created_at": iso(s["created_at"]),
                    "last_activity_at": iso(s["last_activity_at"]),
                    "connected_clients": tx.connected_client_count(s["id"], now - self.lease_seconds),
                }
                for s in tx.sessions(workspace_id, limit)
            ]
        return {"workspace_root": workspace.root if workspace else None, "sessions": sessions}

    def get_status(
        self, session_id: str, *, include_completed: bool = False, since: int | None = None
    ) -> dict[str, Any]:
        """The session at a glance, at a cost that does not grow with the number of tasks."""
        now = self.clock()
        with self.store.transaction(write=False) as tx:
            session = self._session(tx, session_id)
            ws = tx.workspace(session["workspace_id"])
            counts = tx.status_counts(session_id)
            in_progress = tx.tasks_with_status(session_id, "in_progress", STATUS_IN_PROGRESS_LIMIT)
            ready = tx.ready_tasks(session_id, STATUS_READY_LIMIT)
            recent = tx.recently_updated(session_id, STATUS_RECENT_LIMIT, include_completed)
            clients = tx.clients(session_id, STATUS_CLIENTS_LIMIT)
            events = tx.events_since(session_id, since, STATUS_EVENTS_LIMIT) if since is not None else None
        figures = progress(counts)
        result: dict[str, Any] = {
            "session_id": session_id,
            "session_name": session["name"],
            "session_status": session["status"],
            "workspace_root": ws["root"] if ws else None,
            "counts": figures.pop("counts"),
            "progress": figures,
            "tasks": {
                "in_progress": [task_brief(t, now) for t in in_progress],
                "ready": [task_brief(t, now) for t in ready],
                "recently_updated": [task_brief(t, now) for t in recent],
            },
            "claims": [claim_view(t, now) | {"task_id": t["id"]} for t in in_progress],
            "clients": [client_view(c, now, self.lease_seconds) for c in clients],
            "last_event_seq": session["last_event_seq"],
            "last_activity_at": iso(session["last_activity_at"]),
        }
        if events is not None:
            result["events"] = [event_view(e) for e in events]
            result["events_truncated"] = len(events) == STATUS_EVENTS_LIMIT
        return result

    # -- tasks ------------------------------------------------------------

    def plan_task(
        self,
        session_id: str,
        client_id: str | None,
        *,
        title: str,
        description: str,
        parent_task_id: str | None = None,
        specialist: str | None = None,
        dependencies: Sequence[str] = (),
        priority: str | None = None,
        subtasks: Sequence[Mapping[str, Any]] = (),
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Create a task, or a parent with its subtasks, in one transaction."""
        limits.count("subtasks", subtasks, limits.SUBTASKS)
        limits.count("dependencies", dependencies, limits.DEPENDENCIES)
        arguments = {
            "title": title, "description": description, "parent_task_id": parent_task_id, "specialist": specialist,
            "dependencies": list(dependencies), "priority": priority, "subtasks": list(subtasks),
        }
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id, writable=True)
            overrides = _specialist_overrides(session)
            remembered = self._replay(tx, session_id, idempotency_key, "plan_task", arguments)
            if remembered is not None:
                return remembered
            if parent_task_id is not None:
                parent = self._task(tx, session_id, parent_task_id)
                if parent["status"] == "cancelled":
                    raise Conflict(
                        f"Parent task {parent_task_id} is cancelled.",
                        hint="Plan under an open task, or reopen the parent with orchestrator_update_task.",
                    )
            self._require_tasks(tx, session_id, dependencies, "dependencies")
            main_id = self._insert_task(
                tx, session_id, client_id, now, overrides,
                title=title, description=description, parent_id=parent_task_id,
                specialist=specialist, priority=priority, dependencies=dependencies, field_prefix="",
            )
            created: list[dict[str, str]] = []
            for index, subtask in enumerate(subtasks):
                prefix = f"subtasks[{index}]."
                deps = self._subtask_dependencies(tx, session_id, subtask.get("dependencies") or [], created, index)
                sub_id = self._insert_task(
                    tx, session_id, client_id, now, overrides,
                    title=subtask.get("title"), description=subtask.get("description") or "",
                    parent_id=main_id, specialist=subtask.get("specialist"), priority=subtask.get("priority"),
                    dependencies=deps, field_prefix=prefix,
                )
                created.append({"task_id": sub_id, "title": limits.text("title", subtask.get("title"), limits.TITLE) or ""})
            ready_subtasks = tx.ready_tasks(session_id, STATUS_READY_LIMIT, parent_id=main_id) if created else []
            result = {
                "task_id": main_id,
                "title": limits.text("title", title, limits.TITLE),
                "uri": task_uri(main_id),
                "subtasks": created,
                "ready": [t["id"] for t in ready_subtasks],
            }
            self._remember(tx, session_id, idempotency_key, "plan_task", arguments, result, now)
        return result

    def _insert_task(
        self,
        tx: Transaction,
        session_id: str,
        client_id: str | None,
        now: float,
        overrides: Mapping[str, str],
        *,
        title: str | None,
        description: str,
        parent_id: str | None,
        specialist: str | None,
        priority: str | None,
        dependencies: Sequence[str],
        field_prefix: str,
    ) -> str:
        task_id = new_id("t")
        role = specialists.resolve(specialist, overrides)
        tx.insert_task(
            {
                "id": task_id,
                "session_id": session_id,
                "seq": tx.next_task_seq(session_id),
                "parent_id": parent_id,
                "title": limits.text(field_prefix + "title", title, limits.TITLE, required=True),
                "description": limits.text(field_prefix + "description", description, limits.DESCRIPTION) or "",
                "specialist": role,
                "priority": self._priority(priority, field_prefix),
                "status": "pending",
                "version": 1,
                "created_by": client_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        tx.add_dependencies(task_id, list(dict.fromkeys(dependencies)))
        tx.append_event(session_id, "task.created", client_id, now, task_id, parent_task_id=parent_id)
        return task_id

    @staticmethod
    def _priority(priority: str | None, field_prefix: str = "") -> int:
        name = (priority or DEFAULT_PRIORITY).strip().lower()
        if name not in PRIORITIES:
            raise InvalidInput(
                f"'{field_prefix}priority' is {priority!r}.", hint=f"Use one of: {', '.join(PRIORITIES)}."
            )
        return PRIORITIES[name]

    def _subtask_dependencies(
        self, tx: Transaction, session_id: str, raw: Sequence[Any], created: list[dict[str, str]], index: int
    ) -> list[str]:
        limits.count(f"subtasks[{index}].dependencies", raw, limits.DEPENDENCIES)
        resolved: list[str] = []
        for dependency in raw:
            if isinstance(dependency, int) and not isinstance(dependency, bool):
                if not 0 <= dependency < index:
                    raise InvalidInput(
                        f"subtasks[{index}] depends on index {dependency}, which is not an earlier subtask.",
                        hint="A subtask may depend on earlier subtasks by their 0-based index, or on task ids.",
                    )
                resolved.append(created[dependency]["task_id"])
            else:
                self._task(tx, session_id, str(dependency))
                resolved.append(str(dependency))
        return resolved

    def execute_task(
        self,
        session_id: str,
        client_id: str,
        task_id: str | None = None,
        *,
        lease_seconds: int | None = None,
        specialist: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Claim the task (without `task_id`: the best ready one, of `specialist` if given) for this
        client and hand over everything needed to do it. Taking the next task this way never races
        another agent: the session's writers take turns."""
        lease = limits.between(
            "lease_seconds", lease_seconds or self.lease_seconds, limits.LEASE_MIN_SECONDS, limits.LEASE_MAX_SECONDS
        )
        arguments = {"task_id": task_id, "specialist": specialist, "lease_seconds": lease, "client_id": client_id}
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id, writable=True)
            remembered = self._replay(tx, session_id, idempotency_key, "execute_task", arguments)
            if remembered is not None:
                return remembered
            overrides = _specialist_overrides(session)
            if task_id is None:
                task_id = self._next_ready(tx, session_id, specialist, overrides)
            task = self._task(tx, session_id, task_id)
            if task["status"] in FINISHED:
                hint = (
                    "Set its status back to 'pending' with orchestrator_update_task to retry it."
                    if task["status"] in ("failed", "cancelled")
                    else "Pick another task: orchestrator_get_status lists the ready ones."
                )
                raise Conflict(f"Task {task_id} is {task['status']}; there is nothing to execute.", hint=hint)
            holder = task["claimed_by"]
            if holder and holder != client_id and task["claim_expires_at"] >= now:
                raise Conflict(
                    f"Task {task_id} is claimed by client {holder} until {iso(task['claim_expires_at'])}.",
                    hint="Pick another ready task, or wait: the claim lapses when that client stops renewing it.",
                    claimed_by=holder,
                    claim_expires_at=iso(task["claim_expires_at"]),
                )
            dependencies = tx.dependencies(task_id)
            unfinished = [d for d in dependencies if d["status"] != "completed"]
            if unfinished:
                raise Conflict(
                    f"Task {task_id} waits for {len(unfinished)} unfinished dependenc"
                    f"{'y' if len(unfinished) == 1 else 'ies'}: "
                    + ", ".join(f"{d['id']} ({d['status']})" for d in unfinished[:10]),
                    hint="Complete those first; orchestrator_get_status lists the tasks that are ready now.",
                    unfinished_dependencies=[d["id"] for d in unfinished],
                )
            if holder and holder != client_id:
                tx.append_event(session_id, "claim.expired", holder, now, task_id, client_id=holder)
            if not tx.claim_task(task_id, client_id, now, lease):
                raise Conflict(f"Task {task_id} was claimed by another client just now.", hint="Pick another task.")
            tx.touch_client(client_id, session_id, now)
            tx.append_event(session_id, "task.claimed", client_id, now, task_id, lease_seconds=lease)
            task = self._task(tx, session_id, task_id)
            dep_artifacts = tx.artifacts_of([d["id"] for d in dependencies])
            parent = tx.task(task["parent_id"]) if task["parent_id"] else None
            result = self._work_order(task, dependencies, dep_artifacts, parent, overrides, client_id, now + lease, now)
            self._remember(tx, session_id, idempotency_key, "execute_task", arguments, result, now)
        return result

    @staticmethod
    def _work_order(
        task: Row,
        dependencies: list[Row],
        dep_artifacts: list[Row],
        parent: Row | None,
        overrides: Mapping[str, str],
        client_id: str,
        expires_at: float,
        now: float,
    ) -> dict[str, Any]:
        """What an agent needs to do a claimed task: the task, the role's instructions, what it builds on."""
        return {
            "task": task_full(task, [d["id"] for d in dependencies], now),
            "specialist": {"name": task["specialist"], "instructions": specialists.instructions_for(task["specialist"], overrides)},
            "dependencies": [
                {
                    "task_id": d["id"],
                    "title": d["title"],
                    "specialist": d["specialist"],
                    "summary": d["summary"],
                    "artifacts": [artifact_ref(a) for a in dep_artifacts if a["task_id"] == d["id"]],
                }
                for d in dependencies
            ],
            "parent": {"task_id": parent["id"], "title": parent["title"]} if parent else None,
            "claim": {"client_id": client_id, "expires_at": iso(expires_at)},
            "next_step": "Do the work, then call orchestrator_complete_task with this task_id and a summary.",
        }

    @staticmethod
    def _next_ready(
        tx: Transaction, session_id: str, specialist: str | None, overrides: Mapping[str, str]
    ) -> str:
        role = specialists.resolve(specialist, overrides) if specialist else None
        ready = tx.ready_tasks(session_id, 1, specialist=role)
        if not ready:
            counts = tx.status_counts(session_id)
            raise Conflict(
                f"No {role + ' ' if role else ''}task is ready to start: {counts.get('pending', 0)} pending "
                f"(waiting for dependencies), {counts.get('in_progress', 0)} in progress.",
                hint="Plan more work with orchestrator_plan_task, or check orchestrator_get_status later.",
            )
        return ready[0]["id"]

    def complete_task(
        self,
        session_id: str,
        client_id: str,
        task_id: str,
        *,
        summary: str,
        detailed_work: str | None = None,
        artifacts: Sequence[Mapping[str, Any]] = (),
        status: str = "completed",
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Record the result, keep long output as artifacts, release the claim."""
        if status not in COMPLETION_STATUSES:
            raise InvalidInput(f"'status' is {status!r}.", hint=f"Use one of: {', '.join(COMPLETION_STATUSES)}.")
        summary_text = limits.text("summary", summary, limits.SUMMARY, required=True)
        detailed = limits.text("detailed_work", detailed_work, limits.ARTIFACT_CONTENT)
        limits.count("artifacts", artifacts, limits.ARTIFACTS)
        files = [self._artifact_input(index, item) for index, item in enumerate(artifacts)]
        arguments = {
            "task_id": task_id, "summary": summary_text, "detailed_work": detailed, "artifacts": files, "status": status,
        }
        now = self.clock()
        with self.store.transaction() as tx:
            self._session(tx, session_id, writable=True)
            remembered = self._replay(tx, session_id, idempotency_key, "complete_task", arguments)
            if remembered is not None:
                return remembered
            task = self._task(tx, session_id, task_id)
            self._require_claim(task, client_id, now, "complete")
            stored: list[Row] = []
            if detailed:
                stored.append(self._store_artifact(tx, task, client_id, "detailed_work", "detailed-work.md", "text/markdown", detailed, now))
            for name, mime_type, content in files:
                stored.append(self._store_artifact(tx, task, client_id, "file", name, mime_type, content, now))
            tx.update_task(
                task_id,
                {
                    "status": status,
                    "summary": summary_text,
                    "claimed_by": None,
                    "claim_expires_at": None,
                    "claim_lease_seconds": None,
                    "updated_at": now,
                    "finished_at": now if status in FINISHED else None,
                },
            )
            tx.append_event(session_id, f"task.{status}", client_id, now, task_id, artifacts=len(stored))
            tx.touch_client(client_id, session_id, now)
            counts = tx.child_status_counts(task["parent_id"]) if task["parent_id"] else tx.status_counts(session_id)
            ready = tx.ready_tasks(session_id, 1)
            result = {
                "task_id": task_id,
                "status": status,
                "artifacts": [artifact_ref(a) for a in stored],
                "parent_progress": progress(counts) | {"parent_task_id": task["parent_id"]},
                "next_recommended_task": task_brief(ready[0], now) if ready else None,
            }
            self._remember(tx, session_id, idempotency_key, "complete_task", arguments, result, now)
        return result

    @staticmethod
    def _artifact_input(index: int, item: Mapping[str, Any]) -> tuple[str, str, str]:
        prefix = f"artifacts[{index}]."
        name = limits.text(prefix + "name", item.get("name"), limits.NAME, required=True)
        content = item.get("content")
        if not isinstance(content, str):
            raise InvalidInput(f"'{prefix}content' must be a string.", hint="Pass the artifact's text as 'content'.")
        limits.text(prefix + "content", content, limits.ARTIFACT_CONTENT, required=True)
        mime_type = limits.text(prefix + "mime_type", item.get("mime_type"), limits.NAME) or "text/plain"
        assert name is not None
        return name, mime_type, content

    @staticmethod
    def _store_artifact(
        tx: Transaction, task: Row, client_id: str | None, kind: str, name: str, mime_type: str, content: str, now: float
    ) -> Row:
        artifact_id = tx.insert_artifact(task["session_id"], task["id"], kind, name, mime_type, content, client_id, now)
        tx.append_event(task["session_id"], "artifact.created", client_id, now, task["id"], artifact_id=artifact_id, artifact_kind=kind)
        return {"id": artifact_id, "kind": kind, "name": name, "size": len(content.encode())}

    def _require_claim(self, task: Row, client_id: str, now: float, verb: str) -> None:
        if task["status"] != "in_progress" or task["claimed_by"] is None:
            hint = (
                "Claim it first with orchestrator_execute_task."
                if task["status"] in ("pending", "blocked")
                else "It is finished; plan a follow-up task instead."
            )
            raise Conflict(f"Task {task['id']} is {task['status']} and not claimed; you cannot {verb} it.", hint=hint)
        if task["claimed_by"] != client_id:
            raise Conflict(
                f"Task {task['id']} is claimed by client {task['claimed_by']}, not by you ({client_id}).",
                hint="Only the client holding the claim can complete it. Pick another task, or wait for the claim to lapse.",
                claimed_by=task["claimed_by"],
            )

    def update_task(
        self,
        session_id: str,
        client_id: str | None,
        task_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Change fields of a task; with `expected_version`, refuse a write based on a stale read."""
        if not changes:
            raise InvalidInput(
                "No fields to change were given.",
                hint="Pass one or more of: title, description, specialist, priority, status, dependencies, parent_task_id.",
            )
        arguments = {"task_id": task_id, "changes": dict(changes), "expected_version": expected_version}
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id, writable=True)
            remembered = self._replay(tx, session_id, idempotency_key, "update_task", arguments)
            if remembered is not None:
                return remembered
            task = self._task(tx, session_id, task_id)
            if expected_version is not None and task["version"] != expected_version:
                raise Conflict(
                    f"Task {task_id} is at version {task['version']}, not {expected_version}: it changed since you read it.",
                    hint="Read it again (orchestrator_query_tasks or the task resource), then retry with the current version.",
                    current_version=task["version"],
                )
            overrides = _specialist_overrides(session)
            fields = self._task_changes(tx, session_id, task, changes, client_id, now, overrides)
            if "dependencies" in changes:
                tx.replace_dependencies(task_id, changes["dependencies"])
            if fields or "dependencies" in changes:
                fields["updated_at"] = now
                if not tx.update_task(task_id, fields, expected_version=expected_version):
                    raise Conflict(f"Task {task_id} changed while being updated.", hint="Read it again and retry.")
            tx.append_event(session_id, "task.updated", client_id, now, task_id, fields=sorted(changes))
            task = self._task(tx, session_id, task_id)
            deps = tx.dependency_ids([task_id])[task_id]
            result = task_full(task, deps, now)
            self._remember(tx, session_id, idempotency_key, "update_task", arguments, result, now)
        return result

    def _task_changes(
        self,
        tx: Transaction,
        session_id: str,
        task: Row,
        changes: Mapping[str, Any],
        client_id: str | None,
        now: float,
        overrides: Mapping[str, str],
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        task_id = task["id"]
        if "title" in changes:
            fields["title"] = limits.text("title", changes["title"], limits.TITLE, required=True)
        if "description" in changes:
            fields["description"] = limits.text("description", changes["description"], limits.DESCRIPTION) or ""
        if "specialist" in changes:
            fields["specialist"] = specialists.resolve(changes["specialist"], overrides)
        if "priority" in changes:
            fields["priority"] = self._priority(changes["priority"])
        if "parent_task_id" in changes:
            parent_id = changes["parent_task_id"]
            if parent_id is not None:
                self._task(tx, session_id, parent_id)
                if tx.is_ancestor(task_id, parent_id):
                    raise InvalidInput(
                        f"Task {parent_id} is {task_id} itself or one of its subtasks; it cannot be its parent.",
                        hint="Choose a parent outside this task's subtree.",
                    )
            fields["parent_id"] = parent_id
        if "dependencies" in changes:
            deps = list(dict.fromkeys(changes["dependencies"]))
            limits.count("dependencies", deps, limits.DEPENDENCIES)
            self._require_tasks(tx, session_id, deps, "dependencies")
            if task_id in deps or tx.reaches(deps, task_id):
                raise InvalidInput(
                    f"These dependencies would make a cycle through task {task_id}.",
                    hint="A task cannot depend, directly or through others, on itself. Remove the dependency that leads back.",
                )
        if "status" in changes:
            new_status = changes["status"]
            if new_status not in STATUSES:
                raise InvalidInput(f"'status' is {new_status!r}.", hint=f"Use one of: {', '.join(STATUSES)}.")
            if new_status != task["status"]:
                if new_status not in UPDATE_TRANSITIONS[task["status"]]:
                    raise Conflict(
                        f"Task {task_id} cannot go from {task['status']} to {new_status} by an update.",
                        hint=self._transition_hint(task["status"], new_status),
                    )
                if task["status"] == "in_progress":
                    live_holder = task["claim_expires_at"] is not None and task["claim_expires_at"] >= now
                    if live_holder and task["claimed_by"] != client_id:
                        raise Conflict(
                            f"Task {task_id} is claimed by client {task['claimed_by']}.",
                            hint="Only the claim holder can put it back; wait for the claim to lapse.",
                        )
                    fields.update(claimed_by=None, claim_expires_at=None, claim_lease_seconds=None)
                if new_status == "pending":
                    fields["finished_at"] = None
                fields["status"] = new_status
        if "summary" in changes:
            fields["summary"] = limits.text("summary", changes["summary"], limits.SUMMARY)
        return fields

    @staticmethod
    def _transition_hint(current: str, wanted: str) -> str:
        if wanted == "in_progress":
            return "Claim the task with orchestrator_execute_task instead."
        if wanted in ("completed", "failed"):
            return "Record the result with orchestrator_complete_task instead."
        if wanted == "cancelled":
            return "Use orchestrator_cancel_task instead."
        allowed = sorted(UPDATE_TRANSITIONS[current])
        return f"From {current} an update may set: {', '.join(allowed) or 'nothing'}."

    def query_tasks(
        self,
        session_id: str,
        *,
        status: Sequence[str] = (),
        specialist: str | None = None,
        parent_task_id: str | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        for value in status:
            if value not in STATUSES:
                raise InvalidInput(f"'status' contains {value!r}.", hint=f"Use any of: {', '.join(STATUSES)}.")
        limits.between("limit", limit, 1, limits.PAGE_SIZE)
        limits.between("offset", offset, 0, 10**9)
        search = limits.text("text", text, limits.SEARCH_TEXT)
        now = self.clock()
        with self.store.transaction(write=False) as tx:
            self._session(tx, session_id)
            if parent_task_id:
                self._task(tx, session_id, parent_task_id)
            rows, total = tx.query_tasks(
                session_id,
                statuses=status,
                specialist=specialist.strip().lower() if specialist else None,
                parent_id=parent_task_id,
                text=search,
                limit=limit,
                offset=offset,
            )
            deps = tx.dependency_ids([r["id"] for r in rows])
        tasks = []
        for row in rows:
            view = task_full(row, deps[row["id"]], now)
            view.pop("description")
            tasks.append(view)
        return {"tasks": tasks, "total": total, "limit": limit, "offset": offset, "has_more": offset + len(rows) < total}

    def cancel_task(
        self,
        session_id: str,
        client_id: str | None,
        task_id: str,
        *,
        reason: str | None = None,
        cascade: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        why = limits.text("reason", reason, limits.REASON)
        arguments = {"task_id": task_id, "reason": why, "cascade": cascade}
        now = self.clock()
        with self.store.transaction() as tx:
            self._session(tx, session_id, writable=True)
            remembered = self._replay(tx, session_id, idempotency_key, "cancel_task", arguments)
            if remembered is not None:
                return remembered
            task = self._task(tx, session_id, task_id)
            if task["status"] in FINISHED:
                raise Conflict(f"Task {task_id} is already {task['status']}.", hint="Nothing to cancel.")
            targets = [task_id]
            if cascade:
                targets += [t["id"] for t in tx.tasks_by_ids(tx.subtree_ids(task_id)) if t["status"] not in FINISHED]
            for target in targets:
                tx.update_task(
                    target,
                    {
                        "status": "cancelled",
                        "claimed_by": None,
                        "claim_expires_at": None,
                        "claim_lease_seconds": None,
                        "finished_at": now,
                        "updated_at": now,
                        "summary": f"Cancelled: {why}" if why else "Cancelled.",
                    },
                )
                tx.append_event(session_id, "task.cancelled", client_id, now, target, reason=why)
            open_children = 0 if cascade else sum(
                n for s, n in tx.child_status_counts(task_id).items() if s not in FINISHED
            )
            result = {"task_id": task_id, "status": "cancelled", "cancelled": targets, "open_subtasks_left": open_children}
            self._remember(tx, session_id, idempotency_key, "cancel_task", arguments, result, now)
        return result

    def synthesize_results(
        self,
        session_id: str,
        client_id: str | None,
        *,
        parent_task_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Combine the work under a parent (or the session) into one report, kept as an artifact."""
        arguments = {"parent_task_id": parent_task_id}
        now = self.clock()
        with self.store.transaction() as tx:
            session = self._session(tx, session_id, writable=True)
            remembered = self._replay(tx, session_id, idempotency_key, "synthesize_results", arguments)
            if remembered is not None:
                return remembered
            if parent_task_id:
                parent = self._task(tx, session_id, parent_task_id)
                ids = tx.subtree_ids(parent_task_id)
                rows = tx.tasks_by_ids(ids[:LISTED_TASKS])
                counts = tx.subtree_status_counts(parent_task_id)
                title = f"Results: {parent['title']}"
                truncated = len(ids) > LISTED_TASKS
            else:
                parent = None
                rows = tx.subtasks(None, session_id, LISTED_TASKS)
                counts = tx.status_counts(session_id)
                title = f"Results: session {session['name']}"
                truncated = sum(counts.values()) > LISTED_TASKS
            artifacts = [a for a in tx.artifacts_of([r["id"] for r in rows]) if a["kind"] != "synthesis"]
            report, figures = build_report(title, rows, artifacts, counts, truncated)
            stored = self._store_artifact(
                tx, parent or {"id": None, "session_id": session_id}, client_id,
                "synthesis", "synthesis-report.md", "text/markdown", report, now,
            )
            if len(report) > INLINE_REPORT_CHARS:
                report = report[:INLINE_REPORT_CHARS] + "\n\n[...truncated; read the artifact for the full report]\n"
            result = {"parent_task_id": parent_task_id, "report": report, "progress": figures, "artifact": artifact_ref(stored)}
            self._remember(tx, session_id, idempotency_key, "synthesize_results", arguments, result, now)
        return result

    # -- resources --------------------------------------------------------

    def read_task(self, task_id: str) -> dict[str, Any]:
        now = self.clock()
        with self.store.transaction(write=False) as tx:
            task = tx.task(task_id)
            if task is None:
                raise NotFound(f"No task {task_id!r}.", hint="Use a task_id from orchestrator_query_tasks.")
            deps = tx.dependency_ids([task_id])[task_id]
            artifacts = tx.artifacts_of([task_id])
        return task_full(task, deps, now) | {"artifacts": [artifact_ref(a) for a in artifacts]}

    def read_artifact(self, artifact_id: str) -> Row:
        with self.store.transaction(write=False) as tx:
            artifact = tx.artifact(artifact_id)
        if artifact is None:
            raise NotFound(f"No artifact {artifact_id!r}.", hint="Use an artifact URI a tool returned.")
        return artifact

    def session_of_task(self, task_id: str) -> str | None:
        with self.store.transaction(write=False) as tx:
            task = tx.task(task_id)
        return task["session_id"] if task else None

    def renew_client(self, client_id: str, session_id: str) -> None:
        """Any sign of life from a client keeps it connected and renews its claims."""
        now = self.clock()
        with self.store.transaction() as tx:
            client = tx.client(client_id)
            if client is None:
                return
            if client["state"] != "connected":
                tx.append_event(session_id, "client.reconnected", client_id, now, name=client["name"])
            tx.touch_client(client_id, session_id, now)

    def disconnect_client(self, client_id: str) -> None:
        """The client's connection ended. Its claims stay until their leases lapse, so a
        quick reconnect (presenting its client_id) finds them still held."""
        with self.store.transaction() as tx:
            client = tx.client(client_id)
            if client is not None and tx.set_client_state(client_id, "disconnected"):
                tx.append_event(client["session_id"], "client.disconnected", client_id, self.clock())

    def expire_stale(self, *, batch: int = 500) -> dict[str, int]:
        """Release claims whose lease lapsed and mark silent clients expired, logging each."""
        now = self.clock()
        with self.store.transaction(write=False) as tx:
            claims = tx.expired_claims(now, batch)
            clients = tx.stale_clients(now - self.lease_seconds, batch)
        if not claims and not clients:
            return {"claims": 0, "clients": 0}
        released = expired = 0
        with self.store.transaction() as tx:
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

    def require_client(self, client_id: str) -> None:
        with self.store.transaction(write=False) as tx:
            if tx.client(client_id) is None:
                raise NotFound(
                    f"Unknown client_id {client_id!r}.",
                    hint="Use the client_id orchestrator_initialize_session returned, or omit it.",
                )

    def last_event_seq(self, session_id: str) -> int:
        with self.store.transaction(write=False) as tx:
            session = tx.session(session_id)
        return session["last_event_seq"] if session else 0

    def changes_since(self, session_id: str, seq: int) -> tuple[int, set[str]]:
        """The session's latest event sequence number and the tasks changed after `seq`."""
        with self.store.transaction(write=False) as tx:
            session = tx.session(session_id)
            if session is None or session["last_event_seq"] == seq:
                return seq, set()
            events = tx.events_since(session_id, seq, STATUS_EVENTS_LIMIT)
        return session["last_event_seq"], {e["task_id"] for e in events if e["task_id"]}

    # -- shared checks ----------------------------------------------------

    @staticmethod
    def _session(tx: Transaction, session_id: str, *, writable: bool = False) -> Row:
        """The session, locked for this transaction's writes when `writable` (lock first, then read)."""
        if writable:
            tx.lock_session(session_id)
        session = tx.session(session_id)
        if session is None:
            raise NotFound(
                f"No session {session_id!r}.",
                hint="Call orchestrator_initialize_session, or pick one from orchestrator_list_sessions.",
            )
        if writable:
            if session["status"] != "active":
                raise Conflict(
                    f"Session {session_id} has ended.",
                    hint="Resume it with orchestrator_resume_session, or start a new one with orchestrator_initialize_session.",
                )
        return session

    @staticmethod
    def _task(tx: Transaction, session_id: str, task_id: str) -> Row:
        task = tx.task(task_id)
        if task is None or task["session_id"] != session_id:
            raise NotFound(
                f"No task {task_id!r} in session {session_id}.",
                hint="Use a task_id from orchestrator_get_status or orchestrator_query_tasks.",
            )
        return task

    @staticmethod
    def _require_tasks(tx: Transaction, session_id: str, task_ids: Sequence[str], field_name: str) -> None:
        found = {t["id"] for t in tx.tasks_by_ids(list(task_ids)) if t["session_id"] == session_id}
        missing = [t for t in task_ids if t not in found]
        if missing:
            raise NotFound(
                f"'{field_name}' names unknown task(s): {', '.join(missing[:10])}.",
                hint="Use task ids of this session (orchestrator_query_tasks lists them).",
            )

    # -- idempotency ------------------------------------------------------

    @staticmethod
    def _request_hash(tool: str, arguments: Mapping[str, Any]) -> str:
        relevant = {k: v for k, v in arguments.items() if v is not None}
        canonical = json.dumps([tool, relevant], sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def _replay(
        self, tx: Transaction, session_id: str, key: str | None, tool: str, arguments: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The first result for a reused idempotency key; a reuse with other arguments is refused."""
        if key is None:
            return None
        limits.text("idempotency_key", key, limits.IDEMPOTENCY_KEY, required=True)
        stored = tx.idempotent_response(session_id, key)
        if stored is None:
            return None
        if stored["tool"] != tool or stored["request_hash"] != self._request_hash(tool, arguments):
            raise Conflict(
                f"The idempotency_key {key!r} was already used for a different request.",
                hint="Use a new key for a new request; reuse a key only to retry the very same call.",
            )
        return json.loads(stored["response"]) | {"replayed": True}

    def _remember(
        self,
        tx: Transaction,
        session_id: str,
        key: str | None,
        tool: str,
        arguments: Mapping[str, Any],
        result: Mapping[str, Any],
        now: float,
    ) -> None:
        if key is not None:
            tx.remember_response(session_id, key, tool, self._request_hash(tool, arguments), json.dumps(result), now)
