"""The unit of work the domain talks to, and the one catalogue of SQL behind it.

Every record query lives here, once, in SQL that SQLite and PostgreSQL both
accept; an implementation supplies only what differs: how a statement is
executed and how a write lock is taken.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from taskweave.store.records import (
    ArtifactMeta,
    ArtifactRow,
    ClientRow,
    EventRow,
    ExpiredClaim,
    ListedSession,
    MessageCursor,
    MessageRow,
    Row,
    SessionRow,
    StaleClient,
    StoredResponse,
    TaskRow,
    TaskState,
    WorkspaceRow,
)
from taskweave.store.schema import (
    FINISHED_STATUSES,
    PARENT_COUNT_COLUMNS,
    TABLES,
    TASK_COUNT_COLUMNS,
    TASK_STATUSES,
)

TASK_COLUMNS = (
    "id, session_id, seq, parent_id, title, description, specialist, priority, status, summary, version, "
    "claimed_by, claim_expires_at, claim_lease_seconds, created_by, created_at, updated_at, started_at, finished_at, "
    "children, open_children, waiting_on, claim_paths, claim_lost_by"
)
# The claim columns of a task that nobody holds.
RELEASED_CLAIM: Row = {"claimed_by": None, "claim_expires_at": None, "claim_lease_seconds": None, "claim_paths": None}
# A task is ready work when it is pending, none of its dependencies is unfinished, and it is no parent.
READY = "t.status = 'pending' AND t.waiting_on = 0 AND t.children = 0"


class Cursor(Protocol):
    """What `Transaction._execute` returns: the part of a DB-API cursor the catalogue uses."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


def new_id(prefix: str) -> str:
    """A random id with a readable prefix (`t_` task, `s_` session...)."""
    return f"{prefix}_{secrets.token_hex(8)}"


# A task named by its id, or given as its row as this transaction last read it (which saves reading it again).
TaskRef = str | TaskRow


def _task_id(task: TaskRef) -> str:
    return task if isinstance(task, str) else task["id"]


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


TASK_COUNTERS = ", ".join(TASK_COUNT_COLUMNS.values())
PREFIXED_TASK_COLUMNS = ", ".join("t." + column.strip() for column in TASK_COLUMNS.split(","))


PARENT_COUNTERS = ", ".join(PARENT_COUNT_COLUMNS.values())


def _counters(session: Row | SessionRow, columns: dict[str, str] = TASK_COUNT_COLUMNS) -> dict[str, int]:
    """A session row's task counters (or parent counters), by status."""
    row = cast(Row, session)
    return {status: int(row[column]) for status, column in columns.items()}


class Transaction(ABC):
    """One open transaction. Statements use `?` placeholders; implementations translate."""

    # Per table, the columns only this store's schema has, computed from the others: never copied.
    own_columns: Mapping[str, frozenset[str]] = {}

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> Cursor:
        """Run one statement; return a cursor-like object with `fetchone`, `fetchall`, `rowcount`."""

    @abstractmethod
    def lock_session(self, session_id: str) -> SessionRow | None:
        """Serialize writers of one session until this transaction ends; the session as locked (None: no such)."""

    @abstractmethod
    def lock_workspace(self, workspace_id: str) -> None:
        """Serialize writers that create sessions in one workspace."""

    @abstractmethod
    def text_match(self, words: Sequence[str]) -> tuple[str, list[Any]]:
        """A condition on `tasks`, and its parameters: every one of `words` (lowercase runs of letters and
        digits) begins a word of the task's title, description or summary. Each store has its own index."""

    def tasks_by(self, index: str | None, alias: str = "") -> str:
        """`tasks` (as `alias`) in the FROM clause of a query made for `index` (None: for the text index, whose
        matches are looked up by rowid). PostgreSQL's planner picks well from its statistics; SQLite's, without
        them, prefers a broader index, so its implementation names the one meant."""
        return f"tasks {alias}".rstrip()

    def announce_change(self, session_id: str) -> None:
        """Tell other server processes, at commit, that `session_id` changed (a no-op where they poll)."""

    # -- plumbing ---------------------------------------------------------

    def one(self, sql: str, *params: Any) -> Row | None:
        return cast(Row | None, self._execute(sql, params).fetchone())

    def all(self, sql: str, *params: Any) -> list[Row]:
        return cast(list[Row], self._execute(sql, params).fetchall())

    def run(self, sql: str, *params: Any) -> int:
        return self._execute(sql, params).rowcount

    def later(self, sql: str, *params: Any) -> None:
        """A statement whose result nobody reads. It runs in order with the others, but an implementation
        may send it together with the next statement that is read, or with the commit."""
        self._execute(sql, params)

    # -- store metadata ---------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM store_meta WHERE key = ?", key)
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        if self.run("UPDATE store_meta SET value = ? WHERE key = ?", value, key) == 0:
            self.run("INSERT INTO store_meta (key, value) VALUES (?, ?)", key, value)

    # -- workspaces -------------------------------------------------------

    def workspace_by_identity(self, identity: str) -> WorkspaceRow | None:
        return cast(WorkspaceRow | None, self.one("SELECT * FROM workspaces WHERE identity = ?", identity))

    def workspace(self, workspace_id: str) -> WorkspaceRow | None:
        return cast(WorkspaceRow | None, self.one("SELECT * FROM workspaces WHERE id = ?", workspace_id))

    def upsert_workspace(
        self, identity: str, root: str, types: list[str], vcs: str | None, now: float
    ) -> WorkspaceRow:
        existing = self.workspace_by_identity(identity)
        if existing is None:
            self.run(
                "INSERT INTO workspaces (id, identity, root, types, vcs, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identity) DO NOTHING",
                new_id("w"), identity, root, json.dumps(types), vcs, now, now,
            )
        elif (existing["root"], existing["types"], existing["vcs"]) != (root, json.dumps(types), vcs):
            self.run(
                "UPDATE workspaces SET root = ?, types = ?, vcs = ?, updated_at = ? WHERE id = ?",
                root, json.dumps(types), vcs, now, existing["id"],
            )
        row = self.workspace_by_identity(identity)
        assert row is not None
        return row

    # -- sessions ---------------------------------------------------------

    def session(self, session_id: str) -> SessionRow | None:
        return cast(SessionRow | None, self.one("SELECT * FROM sessions WHERE id = ?", session_id))

    def active_session(self, workspace_id: str, name: str | None) -> SessionRow | None:
        if name is None:
            row = self.one(
                "SELECT * FROM sessions WHERE workspace_id = ? AND status = 'active' "
                "ORDER BY last_activity_at DESC, id LIMIT 1",
                workspace_id,
            )
        else:
            row = self.one(
                "SELECT * FROM sessions WHERE workspace_id = ? AND name = ? AND status = 'active'", workspace_id, name
            )
        return cast(SessionRow | None, row)

    def session_names(self, workspace_id: str) -> set[str]:
        return {r["name"] for r in self.all("SELECT name FROM sessions WHERE workspace_id = ?", workspace_id)}

    def insert_session(self, workspace_id: str, name: str, metadata: dict[str, Any], now: float) -> SessionRow:
        session_id = new_id("s")
        self.run(
            "INSERT INTO sessions (id, workspace_id, name, status, metadata, created_at, last_activity_at) "
            "VALUES (?, ?, ?, 'active', ?, ?, ?)",
            session_id, workspace_id, name, json.dumps(metadata), now, now,
        )
        row = self.session(session_id)
        assert row is not None
        return row

    def set_session_status(self, session_id: str, status: str, now: float) -> None:
        self.run(
            "UPDATE sessions SET status = ?, ended_at = ?, last_activity_at = ? WHERE id = ?",
            status, now if status == "ended" else None, now, session_id,
        )

    def set_session_metadata(self, session_id: str, metadata: dict[str, Any]) -> None:
        self.later("UPDATE sessions SET metadata = ? WHERE id = ?", json.dumps(metadata), session_id)

    def sessions(
        self, workspace_id: str | None, limit: int, within: tuple[str, ...] | None = None
    ) -> list[ListedSession]:
        """Most recently active first; `within` keeps those whose workspace root is one of, or under, those roots."""
        conditions: list[str] = []
        params: list[Any] = []
        if workspace_id:
            conditions.append("s.workspace_id = ?")
            params.append(workspace_id)
        if within is not None:
            under = ["w.root = ? OR substr(w.root, 1, ?) = ?"] * len(within)
            conditions.append("(" + " OR ".join(under) + ")" if under else "FALSE")
            for root in within:
                prefix = root.rstrip("/") + "/"
                params += [root, len(prefix), prefix]
        where = "WHERE " + " AND ".join(conditions) if conditions else ""
        rows = self.all(
            f"SELECT s.*, w.root AS workspace_root FROM sessions s JOIN workspaces w ON w.id = s.workspace_id "
            f"{where} ORDER BY s.last_activity_at DESC, s.id LIMIT ?",
            *params, limit,
        )
        return cast(list[ListedSession], rows)

    def next_task_seq(self, session_id: str) -> int:
        row = self.one("UPDATE sessions SET task_seq = task_seq + 1 WHERE id = ? RETURNING task_seq", session_id)
        assert row is not None
        return int(row["task_seq"])

    # -- clients ----------------------------------------------------------

    def client(self, client_id: str) -> ClientRow | None:
        return cast(ClientRow | None, self.one("SELECT * FROM clients WHERE id = ?", client_id))

    def insert_client(self, session_id: str, info: Row, now: float) -> ClientRow:
        """A new client of the session; the messages sent before it joined are not for it."""
        client_id = new_id("c")
        self.run(
            "INSERT INTO clients (id, session_id, name, version, transport, pid, host, worktree, principal, state, "
            "first_seen, last_seen, message_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'connected', ?, ?, "
            "(SELECT message_seq FROM sessions WHERE id = ?))",
            client_id, session_id, info["name"], info["version"], info["transport"], info.get("pid"),
            info["host"], info.get("worktree"), info.get("principal"), now, now, session_id,
        )
        row = self.client(client_id)
        assert row is not None
        return row

    def touch_client(self, client_id: str, session_id: str, now: float) -> None:
        """Record activity: the client is connected, bound to `session_id`, and each claim it holds
        is renewed for its own lease length once half of that lease has passed (so a busy client
        does not rewrite its claims on every call)."""
        self.later(
            "UPDATE clients SET last_seen = ?, state = 'connected', session_id = ? WHERE id = ?",
            now, session_id, client_id,
        )
        self.later(
            "UPDATE tasks SET claim_expires_at = ? + claim_lease_seconds WHERE claimed_by = ? "
            "AND status = 'in_progress' AND claim_expires_at < ? + claim_lease_seconds / 2",
            now, client_id, now,
        )

    def set_client_state(self, client_id: str, state: str) -> bool:
        return self.run("UPDATE clients SET state = ? WHERE id = ? AND state <> ?", state, client_id, state) == 1

    def stale_clients(self, seen_before: float, limit: int) -> list[StaleClient]:
        """Clients not yet marked expired whose last sign of life is older than `seen_before`."""
        rows = self.all(
            "SELECT id, session_id, name FROM clients WHERE state IN ('connected', 'disconnected') "
            "AND last_seen < ? ORDER BY session_id, id LIMIT ?",
            seen_before, limit,
        )
        return cast(list[StaleClient], rows)

    def clients(self, session_id: str, limit: int = 50, *, connected_since: float | None = None) -> list[ClientRow]:
        """The session's clients, most recently seen first; with `connected_since`, only the live ones."""
        if connected_since is None:
            rows = self.all(
                "SELECT * FROM clients WHERE session_id = ? ORDER BY last_seen DESC, id LIMIT ?", session_id, limit
            )
        else:
            rows = self.all(
                "SELECT * FROM clients WHERE session_id = ? AND state = 'connected' AND last_seen >= ? "
                "ORDER BY last_seen DESC, id LIMIT ?",
                session_id, connected_since, limit,
            )
        return cast(list[ClientRow], rows)

    def connected_clients(self, since: float) -> int:
        """Clients of any session connected and seen since `since`."""
        row = self.one("SELECT COUNT(*) AS n FROM clients WHERE state = 'connected' AND last_seen >= ?", since)
        return int(row["n"]) if row else 0

    def connected_client_count(self, session_id: str, since: float) -> int:
        row = self.one(
            "SELECT COUNT(*) AS n FROM clients WHERE session_id = ? AND state = 'connected' AND last_seen >= ?",
            session_id, since,
        )
        return int(row["n"]) if row else 0

    # -- tasks ------------------------------------------------------------

    def task(self, task_id: str) -> TaskRow | None:
        return cast(TaskRow | None, self.one(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", task_id))

    def tasks_by_ids(self, task_ids: Sequence[str]) -> list[TaskRow]:
        if not task_ids:
            return []
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE id IN ({_placeholders(task_ids)}) ORDER BY seq",
            *task_ids,
        )
        return cast(list[TaskRow], rows)

    def insert_task(self, fields: Row) -> None:
        columns = ", ".join(fields)
        self.later(f"INSERT INTO tasks ({columns}) VALUES ({_placeholders(list(fields))})", *fields.values())
        self._count_status_change(fields["session_id"], None, fields["status"])
        if fields.get("parent_id"):
            self._adopt(fields["parent_id"], fields["status"], +1)

    def move_task(self, task_id: str, parent_id: str) -> None:
        """Make `task_id` a subtask of `parent_id` (neither its own subtree: the caller has checked)."""
        state = self._task_state(task_id)
        assert state is not None
        if state["parent_id"] == parent_id:
            return
        if state["parent_id"] is not None:
            self._adopt(state["parent_id"], state["status"], -1)
        self.run("UPDATE tasks SET parent_id = ? WHERE id = ?", parent_id, task_id)
        self._adopt(parent_id, state["status"], +1)

    def _adopt(self, parent_id: str, child_status: str, step: int) -> None:
        """Count a child of status `child_status` into (+1) or out of (-1) `parent_id`'s subtasks."""
        open_step = 0 if child_status in FINISHED_STATUSES else step
        row = self.one(
            "UPDATE tasks SET children = children + ?, open_children = open_children + ? WHERE id = ? "
            "RETURNING session_id, status, children",
            step, open_step, parent_id,
        )
        assert row is not None
        became_parent = step > 0 and row["children"] == 1
        stopped_being_parent = step < 0 and row["children"] == 0
        if became_parent or stopped_being_parent:
            column = PARENT_COUNT_COLUMNS[row["status"]]
            self.later(f"UPDATE sessions SET {column} = {column} + ? WHERE id = ?", step, row["session_id"])

    def update_task(self, task: TaskRef, fields: Row, *, expected_version: int | None = None) -> TaskRow | None:
        """Apply `fields` and bump the version; the task as changed, or None when `expected_version` no longer
        matches."""
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql = f"UPDATE tasks SET {assignments}, version = version + 1 WHERE id = ?"
        params: list[Any] = [*fields.values(), _task_id(task)]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        return self._update_counted(task, fields.get("status"), sql, *params)

    def finish_task(self, task: TaskRef, *, status: str, summary: str, now: float) -> None:
        """Give the task its final (or blocked) status and summary, and release its claim."""
        self.update_task(
            task,
            {
                "status": status,
                "summary": summary,
                **RELEASED_CLAIM,
                "updated_at": now,
                "finished_at": now if status in FINISHED_STATUSES else None,
            },
        )

    def claim_task(
        self, task: TaskRef, client_id: str, now: float, lease_seconds: float, paths: Sequence[str] = ()
    ) -> TaskRow | None:
        """Take the lease (reserving `paths`) when nobody else holds a live one; exactly one concurrent caller wins.
        The task as claimed, or None when someone else holds it."""
        return self._update_counted(
            task,
            "in_progress",
            "UPDATE tasks SET claimed_by = ?, claim_expires_at = ?, claim_lease_seconds = ?, claim_paths = ?, "
            "status = 'in_progress', started_at = COALESCE(started_at, ?), updated_at = ?, version = version + 1, "
            "claim_lost_by = NULL "
            "WHERE id = ? AND status IN ('pending', 'blocked', 'in_progress') "
            "AND (claimed_by IS NULL OR claimed_by = ? OR claim_expires_at < ?)",
            client_id, now + lease_seconds, lease_seconds, json.dumps(list(paths)) if paths else None, now, now,
            _task_id(task), client_id, now,
        )

    def reserved_paths(self, session_id: str, now: float) -> list[TaskRow]:
        """The live claims of the session that reserve paths."""
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? AND status = 'in_progress' "
            "AND claim_paths IS NOT NULL AND claim_expires_at >= ? ORDER BY seq",
            session_id, now,
        )
        return cast(list[TaskRow], rows)

    def expired_claims(self, now: float, limit: int) -> list[ExpiredClaim]:
        rows = self.all(
            "SELECT id, session_id, claimed_by FROM tasks WHERE status = 'in_progress' AND claim_expires_at < ? "
            "ORDER BY session_id, id LIMIT ?",
            now, limit,
        )
        return cast(list[ExpiredClaim], rows)

    def release_expired_claim(self, task_id: str, holder: str, now: float) -> bool:
        """Put a task whose lease lapsed back to pending; False if it was renewed or taken meanwhile."""
        return self._update_counted(
            task_id,
            "pending",
            "UPDATE tasks SET status = 'pending', claimed_by = NULL, claim_expires_at = NULL, "
            "claim_lease_seconds = NULL, claim_paths = NULL, updated_at = ?, version = version + 1 "
            "WHERE id = ? AND status = 'in_progress' AND claimed_by = ? AND claim_expires_at < ?",
            now, task_id, holder, now,
        ) is not None

    def _update_counted(self, task: TaskRef, entered: str | None, sql: str, *params: Any) -> TaskRow | None:
        """Run an UPDATE of one task; when it moved the task into status `entered`, keep every count in step.
        The task as changed, or None when the UPDATE's conditions left it as it was.

        Every writer of a session holds its lock, so the state read before the change (given as
        the task's row, or read here) is still the one the change replaced.
        """
        before: TaskState | None = None
        if entered is not None:
            before = self._task_state(task) if isinstance(task, str) else task
        changed = cast(TaskRow | None, self.one(f"{sql} RETURNING {TASK_COLUMNS}", *params))
        if changed is not None and before is not None and entered is not None and before["status"] != entered:
            self._status_moved(changed["id"], before, entered)
        return changed

    def _task_state(self, task_id: str) -> TaskState | None:
        return cast(
            TaskState | None, self.one("SELECT session_id, status, parent_id, children FROM tasks WHERE id = ?", task_id)
        )

    def _status_moved(self, task_id: str, before: TaskState, entered: str) -> None:
        """What a task's move from `before["status"]` to `entered` changes beyond the task itself."""
        left = before["status"]
        self._count_status_change(before["session_id"], left, entered, parent=before["children"] > 0)
        if (left == "completed") != (entered == "completed"):
            self.later(
                "UPDATE tasks SET waiting_on = waiting_on + ? "
                "WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on = ?)",
                -1 if entered == "completed" else 1, task_id,
            )
        if before["parent_id"] is not None and (left in FINISHED_STATUSES) != (entered in FINISHED_STATUSES):
            self.later(
                "UPDATE tasks SET open_children = open_children + ? WHERE id = ?",
                -1 if entered in FINISHED_STATUSES else 1, before["parent_id"],
            )

    def _count_status_change(self, session_id: str, left: str | None, entered: str, *, parent: bool = False) -> None:
        """Keep the session's per-status counters in step with a task's move from `left` to `entered`."""
        changes: list[str] = []
        for columns in (TASK_COUNT_COLUMNS, PARENT_COUNT_COLUMNS) if parent else (TASK_COUNT_COLUMNS,):
            changes.append(f"{columns[entered]} = {columns[entered]} + 1")
            if left is not None:
                changes.append(f"{columns[left]} = {columns[left]} - 1")
        self.later(f"UPDATE sessions SET {', '.join(changes)} WHERE id = ?", session_id)

    def dependencies(self, task_id: str) -> list[TaskRow]:
        rows = self.all(
            f"SELECT {PREFIXED_TASK_COLUMNS} FROM task_dependencies d "
            "JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? ORDER BY t.seq",
            task_id,
        )
        return cast(list[TaskRow], rows)

    def dependency_ids(self, task_ids: Sequence[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {task_id: [] for task_id in task_ids}
        if task_ids:
            for row in self.all(
                f"SELECT task_id, depends_on FROM task_dependencies WHERE task_id IN ({_placeholders(task_ids)})",
                *task_ids,
            ):
                result[row["task_id"]].append(row["depends_on"])
        return result

    def add_dependencies(self, task_id: str, depends_on: Sequence[str]) -> None:
        for dependency in depends_on:
            self.later("INSERT INTO task_dependencies (task_id, depends_on) VALUES (?, ?)", task_id, dependency)
        if depends_on:
            self._recount_waiting(task_id)

    def replace_dependencies(self, task_id: str, depends_on: Sequence[str]) -> None:
        self.run("DELETE FROM task_dependencies WHERE task_id = ?", task_id)
        self.add_dependencies(task_id, depends_on)
        if not depends_on:
            self._recount_waiting(task_id)

    def _recount_waiting(self, task_id: str) -> None:
        self.later(
            "UPDATE tasks SET waiting_on = (SELECT COUNT(*) FROM task_dependencies d JOIN tasks dep "
            "ON dep.id = d.depends_on WHERE d.task_id = tasks.id AND dep.status <> 'completed') WHERE id = ?",
            task_id,
        )

    # The walks of the task graph below go one level per statement, each an index lookup of the level's
    # ids. A recursive CTE does it in one statement, but PostgreSQL plans its recursive step as a hash
    # join over every task of the store: the cost would follow the store's size, not the subtree's.

    def _walk(self, sql: str, start_ids: Sequence[str]) -> list[Row]:
        """Every row reachable from `start_ids`, level by level: `sql` selects the rows (each with an `id`)
        that a level's ids lead to, the level's ids in place of `{ids}`."""
        found: list[Row] = []
        seen = set(start_ids)
        level = list(dict.fromkeys(start_ids))
        while level:
            rows = self.all(sql.format(ids=_placeholders(level)), *level)
            found += rows
            level = [r["id"] for r in rows if r["id"] not in seen]
            seen.update(level)
        return found

    def reaches(self, start_ids: Sequence[str], target_id: str) -> bool:
        """True when `target_id` is `start_ids` or reachable from them along dependency edges."""
        if target_id in start_ids:
            return True
        reached = self._walk("SELECT depends_on AS id FROM task_dependencies WHERE task_id IN ({ids})", start_ids)
        return any(r["id"] == target_id for r in reached)

    def is_ancestor(self, candidate_id: str, task_id: str) -> bool:
        """True when `candidate_id` is `task_id` itself or one of its ancestors."""
        if candidate_id == task_id:
            return True
        ancestors = self._walk(
            "SELECT parent_id AS id FROM tasks WHERE id IN ({ids}) AND parent_id IS NOT NULL", [task_id]
        )
        return any(r["id"] == candidate_id for r in ancestors)

    def subtree_ids(self, task_id: str) -> list[str]:
        return [r["id"] for r in self._walk("SELECT id FROM tasks WHERE parent_id IN ({ids})", [task_id])]

    def subtree_work_counts(self, task_id: str) -> dict[str, int]:
        """The work (tasks that are no parents) under `task_id`, counted by status."""
        counts: dict[str, int] = {}
        level = [task_id]
        while level:
            where = f"parent_id IN ({_placeholders(level)})"
            rows = self.all(
                f"SELECT status, COUNT(*) AS n, NULL AS id FROM tasks WHERE {where} AND children = 0 GROUP BY status "
                f"UNION ALL SELECT NULL, NULL, id FROM tasks WHERE {where} AND children > 0",
                *level, *level,
            )
            for row in rows:
                if row["status"] is not None:
                    counts[row["status"]] = counts.get(row["status"], 0) + int(row["n"])
            level = [r["id"] for r in rows if r["id"] is not None]
        return counts

    def status_counts(self, session_id: str) -> dict[str, int]:
        """Every task of the session, counted by status."""
        row = self.one(f"SELECT {TASK_COUNTERS} FROM sessions WHERE id = ?", session_id)
        return _counters(row) if row else {}

    def work_counts(self, session_id: str) -> dict[str, int]:
        """The session's work (tasks that are no parents), counted by status."""
        row = self.one(f"SELECT {TASK_COUNTERS}, {PARENT_COUNTERS} FROM sessions WHERE id = ?", session_id)
        if row is None:
            return {}
        parents = _counters(row, PARENT_COUNT_COLUMNS)
        return {status: n - parents[status] for status, n in _counters(row).items()}

    def child_status_counts(self, parent_id: str) -> dict[str, int]:
        rows = self.all("SELECT status, COUNT(*) AS n FROM tasks WHERE parent_id = ? GROUP BY status", parent_id)
        return {r["status"]: int(r["n"]) for r in rows}

    def tasks_with_status(self, session_id: str, status: str, limit: int) -> list[TaskRow]:
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? AND status = ? "
            "ORDER BY priority DESC, seq LIMIT ?",
            session_id, status, limit,
        )
        return cast(list[TaskRow], rows)

    def ready_tasks(
        self, session_id: str, limit: int, parent_id: str | None = None, specialist: str | None = None
    ) -> list[TaskRow]:
        """Ready work (see `READY`), best first: from the partial index of ready tasks, or a parent's subtasks."""
        scope, params = ("t.parent_id = ?", [parent_id]) if parent_id else ("t.session_id = ?", [session_id])
        if specialist:
            scope += " AND t.specialist = ?"
            params.append(specialist)
        index = "tasks_by_parent" if parent_id else "tasks_ready_by_specialist" if specialist else "tasks_ready"
        rows = self.all(
            f"SELECT {PREFIXED_TASK_COLUMNS} FROM {self.tasks_by(index, 't')} WHERE {scope} AND {READY} "
            "ORDER BY t.priority DESC, t.seq LIMIT ?",
            *params, limit,
        )
        return cast(list[TaskRow], rows)

    def claims_of(self, session_id: str, client_id: str) -> list[TaskRow]:
        """The tasks `client_id` holds a claim on."""
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? AND status = 'in_progress' AND claimed_by = ? "
            "ORDER BY seq",
            session_id, client_id,
        )
        return cast(list[TaskRow], rows)

    def to_synthesize(self, session_id: str, limit: int) -> list[TaskRow]:
        """Parents whose every subtask is finished, still waiting for their synthesis."""
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM {self.tasks_by('tasks_to_synthesize')} WHERE session_id = ? "
            "AND status = 'pending' AND children > 0 AND open_children = 0 ORDER BY seq LIMIT ?",
            session_id, limit,
        )
        return cast(list[TaskRow], rows)

    def recently_updated(self, session_id: str, limit: int, include_finished: bool) -> list[TaskRow]:
        finished = "" if include_finished else "AND status IN ('pending', 'in_progress', 'blocked', 'failed') "
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? {finished}ORDER BY updated_at DESC, seq DESC LIMIT ?",
            session_id, limit,
        )
        return cast(list[TaskRow], rows)

    def query_tasks(
        self,
        session_id: str,
        *,
        statuses: Sequence[str] = (),
        specialist: str | None = None,
        parent_id: str | None = None,
        words: Sequence[str] = (),
        limit: int,
        offset: int,
        count_limit: int,
    ) -> tuple[list[TaskRow], int]:
        """A page of the tasks that match, oldest first, and how many match: counted exactly from the
        session's counters when only statuses filter, else counted up to `count_limit`."""
        clauses = ["session_id = ?"]
        params: list[Any] = [session_id]
        if statuses:
            clauses.append(f"status IN ({_placeholders(statuses)})")
            params.extend(statuses)
        if specialist:
            clauses.append("specialist = ?")
            params.append(specialist)
        if parent_id:
            clauses.append("parent_id = ?")
            params.append(parent_id)
        if words:
            condition, values = self.text_match(words)
            clauses.append(condition)
            params.extend(values)
        where = " AND ".join(clauses)
        source = self.tasks_by(None) if words else "tasks"
        rows = cast(list[TaskRow], self.all(
            f"SELECT {TASK_COLUMNS} FROM {source} WHERE {where} ORDER BY seq LIMIT ? OFFSET ?", *params, limit, offset
        ))
        if specialist or parent_id or words:
            return rows, self._count(
                f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {source} WHERE {where} LIMIT ?) counted", *params, count_limit
            )
        counts = self.status_counts(session_id)
        return rows, sum(counts.get(status, 0) for status in set(statuses or TASK_STATUSES))

    def work_column(
        self, session_id: str, status: str, limit: int, after: tuple[float, int] | None = None
    ) -> list[TaskRow]:
        """The session's work (no parents) of one status, most recently changed first; `after` is the
        (updated_at, seq) of the last task of the page before."""
        later = "AND (updated_at < ? OR (updated_at = ? AND seq < ?)) " if after else ""
        params = (after[0], after[0], after[1]) if after else ()
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? AND status = ? AND children = 0 {later}"
            "ORDER BY updated_at DESC, seq DESC LIMIT ?",
            session_id, status, *params, limit,
        )
        return cast(list[TaskRow], rows)

    def root_parents(self, session_id: str, limit: int, offset: int) -> tuple[list[TaskRow], int]:
        """A page of the parents at the top of the session's tree, newest first, and how many there are."""
        where = "session_id = ? AND parent_id IS NULL AND children > 0"
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?", session_id, limit, offset
        )
        return cast(list[TaskRow], rows), self._count(f"SELECT COUNT(*) AS n FROM tasks WHERE {where}", session_id)

    def root_tasks(self, session_id: str, limit: int) -> list[TaskRow]:
        """The session's tasks that have no parent, oldest first."""
        rows = self.all(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? AND parent_id IS NULL ORDER BY seq LIMIT ?",
            session_id, limit,
        )
        return cast(list[TaskRow], rows)

    def dependents(self, task_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(task, dependent) for every task that depends on one of `task_ids`."""
        if not task_ids:
            return []
        rows = self.all(
            f"SELECT task_id, depends_on FROM task_dependencies WHERE depends_on IN ({_placeholders(task_ids)})",
            *task_ids,
        )
        return [(r["depends_on"], r["task_id"]) for r in rows]

    def session_tasks(self, session_id: str, limit: int) -> list[TaskRow]:
        rows = self.all(f"SELECT {TASK_COLUMNS} FROM tasks WHERE session_id = ? ORDER BY seq LIMIT ?", session_id, limit)
        return cast(list[TaskRow], rows)

    # -- artifacts --------------------------------------------------------

    def insert_artifact(
        self,
        session_id: str,
        task_id: str | None,
        kind: str,
        name: str,
        mime_type: str,
        content: str,
        created_by: str | None,
        now: float,
    ) -> str:
        artifact_id = new_id("a")
        self.later(
            "INSERT INTO artifacts (id, session_id, task_id, kind, name, mime_type, content, size, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            artifact_id, session_id, task_id, kind, name, mime_type, content, len(content.encode()), created_by, now,
        )
        return artifact_id

    def artifact(self, artifact_id: str) -> ArtifactRow | None:
        return cast(ArtifactRow | None, self.one("SELECT * FROM artifacts WHERE id = ?", artifact_id))

    def artifacts_of(self, task_ids: Sequence[str]) -> list[ArtifactMeta]:
        if not task_ids:
            return []
        rows = self.all(
            "SELECT id, session_id, task_id, kind, name, mime_type, size, created_at FROM artifacts "
            f"WHERE task_id IN ({_placeholders(task_ids)}) ORDER BY created_at, id",
            *task_ids,
        )
        return cast(list[ArtifactMeta], rows)

    # -- messages ---------------------------------------------------------

    def insert_message(self, fields: Row) -> int:
        """Store a message under the session's next message number; that number."""
        waiting = 1 if fields["recipient_kind"] == "specialist" else 0
        row = self.one(
            "UPDATE sessions SET message_seq = message_seq + 1, "
            "specialist_messages_waiting = specialist_messages_waiting + ? WHERE id = ? RETURNING message_seq",
            waiting, fields["session_id"],
        )
        assert row is not None
        seq = int(row["message_seq"])
        values = {**fields, "seq": seq}
        self.later(
            f"INSERT INTO messages ({', '.join(values)}) VALUES ({_placeholders(list(values))})", *values.values()
        )
        return seq

    def message(self, message_id: str) -> MessageRow | None:
        return cast(MessageRow | None, self.one("SELECT * FROM messages WHERE id = ?", message_id))

    def recent_messages(self, session_id: str, limit: int) -> list[MessageRow]:
        rows = self.all("SELECT * FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?", session_id, limit)
        return cast(list[MessageRow], rows)

    def message_cursor(self, session_id: str, client_id: str) -> MessageCursor | None:
        """How far the client has been given the session's messages, and how many wait for a specialist."""
        row = self.one(
            "SELECT s.message_seq AS latest, c.message_seq AS seen, s.specialist_messages_waiting AS waiting "
            "FROM sessions s, clients c WHERE s.id = ? AND c.id = ?",
            session_id, client_id,
        )
        return cast(MessageCursor | None, row)

    def unread_messages(self, session_id: str, client_id: str, limit: int) -> list[MessageRow]:
        """The client's next messages, oldest first: to it or to everyone, and to a specialist it works as."""
        rows = self.unread_direct(session_id, client_id, limit) + self._unread_for_roles(session_id, client_id, limit)
        return sorted(rows, key=lambda row: row["seq"])[:limit]

    def unread_direct(self, session_id: str, client_id: str, limit: int) -> list[MessageRow]:
        """Messages after the client's cursor that are to it, or to everyone but from someone else."""
        rows = self.all(
            "SELECT m.* FROM messages m, clients c WHERE c.id = ? AND m.session_id = ? AND m.seq > c.message_seq "
            "AND ((m.recipient_kind = 'client' AND m.recipient = c.id) "
            "OR (m.recipient_kind = 'all' AND (m.sender IS NULL OR m.sender <> c.id))) "
            "ORDER BY m.seq LIMIT ?",
            client_id, session_id, limit,
        )
        return cast(list[MessageRow], rows)

    def _unread_for_roles(self, session_id: str, client_id: str, limit: int) -> list[MessageRow]:
        rows = self.all(
            "SELECT * FROM messages WHERE session_id = ? AND recipient_kind = 'specialist' AND delivered_to IS NULL "
            "AND recipient IN (SELECT specialist FROM tasks WHERE session_id = ? AND status = 'in_progress' "
            "AND claimed_by = ?) ORDER BY seq LIMIT ?",
            session_id, session_id, client_id, limit,
        )
        return cast(list[MessageRow], rows)

    def mark_messages_given(self, session_id: str, client_id: str, given: Sequence[MessageRow], now: float) -> None:
        """Advance the client's cursor past what it was given (past everything, when nothing else waits for
        it), and mark the specialist messages it was given as delivered."""
        for_specialist = [m["id"] for m in given if m["recipient_kind"] == "specialist"]
        if for_specialist:
            self.later(
                f"UPDATE messages SET delivered_to = ?, delivered_at = ? WHERE id IN ({_placeholders(for_specialist)})",
                client_id, now, *for_specialist,
            )
            self.later(
                "UPDATE sessions SET specialist_messages_waiting = specialist_messages_waiting - ? WHERE id = ?",
                len(for_specialist), session_id,
            )
        cursor = max((m["seq"] for m in given if m["recipient_kind"] != "specialist"), default=None)
        if cursor is not None:
            self.later("UPDATE clients SET message_seq = ? WHERE id = ?", cursor, client_id)
        if not self.unread_direct(session_id, client_id, 1):
            self.later(
                "UPDATE clients SET message_seq = (SELECT message_seq FROM sessions WHERE id = ?) WHERE id = ?",
                session_id, client_id,
            )

    # -- events -----------------------------------------------------------

    def append_event(
        self, session_id: str, kind: str, actor: str | None, now: float, task_id: str | None = None, **data: Any
    ) -> None:
        """Log a change under the session's next event number; the session's writers hold its lock, so the
        numbers stay gap-free, and neither statement waits for an answer."""
        self.later(
            "UPDATE sessions SET last_event_seq = last_event_seq + 1, last_activity_at = ? WHERE id = ?",
            now, session_id,
        )
        self.later(
            "INSERT INTO events (session_id, seq, at, actor, kind, task_id, data) "
            "VALUES (?, (SELECT last_event_seq FROM sessions WHERE id = ?), ?, ?, ?, ?, ?)",
            session_id, session_id, now, actor, kind, task_id, json.dumps(data, separators=(",", ":")),
        )
        self.announce_change(session_id)

    def events_since(self, session_id: str, since: int, limit: int) -> list[EventRow]:
        """The session's events after `since`, each with the principal its actor acts for."""
        rows = self.all(
            "SELECT e.seq, e.at, e.actor, e.kind, e.task_id, e.data, c.principal FROM events e "
            "LEFT JOIN clients c ON c.id = e.actor WHERE e.session_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?",
            session_id, since, limit,
        )
        return cast(list[EventRow], rows)

    # -- consistency ------------------------------------------------------

    def _count(self, sql: str, *params: Any) -> int:
        row = self.one(sql, *params)
        return int(row["n"]) if row else 0

    def row_counts(self, tables: Sequence[str] = TABLES) -> dict[str, int]:
        return {table: self._count(f"SELECT COUNT(*) AS n FROM {table}") for table in tables}

    def consistency_problems(self) -> list[str]:
        """Logical invariants every store must keep, checked in plain words."""
        problems: list[str] = []
        for row in self.all(
            "SELECT s.id, s.last_event_seq, COUNT(e.seq) AS n, COALESCE(MAX(e.seq), 0) AS top "
            "FROM sessions s LEFT JOIN events e ON e.session_id = s.id GROUP BY s.id, s.last_event_seq"
        ):
            if not (row["n"] == row["top"] == row["last_event_seq"]):
                problems.append(
                    f"session {row['id']}: the event log has {row['n']} events numbered up to {row['top']}, "
                    f"but the session counts {row['last_event_seq']}"
                )
        claimed_wrongly = self._count(
            "SELECT COUNT(*) AS n FROM tasks WHERE (status = 'in_progress') <> (claimed_by IS NOT NULL)"
        )
        if claimed_wrongly:
            problems.append(f"{claimed_wrongly} task(s) whose claim does not match their status")
        unknown = self._count(
            f"SELECT COUNT(*) AS n FROM tasks WHERE status NOT IN ({_placeholders(TASK_STATUSES)})", *TASK_STATUSES
        )
        if unknown:
            problems.append(f"{unknown} task(s) with an unknown status")
        counted = {(r["session_id"], r["status"]): int(r["n"]) for r in self.all(
            "SELECT session_id, status, COUNT(*) AS n FROM tasks GROUP BY session_id, status"
        )}
        for session in self.all(f"SELECT id, {TASK_COUNTERS} FROM sessions"):
            wrong = [
                f"{status} {n} (has {counted.get((session['id'], status), 0)})"
                for status, n in _counters(session).items()
                if n != counted.get((session["id"], status), 0)
            ]
            if wrong:
                problems.append(f"session {session['id']}: task counters out of step: {', '.join(wrong)}")
        problems += self._task_count_problems()
        return problems

    def _task_count_problems(self) -> list[str]:
        """Every count a task or session keeps of other tasks, against a real count."""
        problems: list[str] = []
        wrong = self._count(
            "SELECT COUNT(*) AS n FROM tasks t WHERE "
            "t.children <> (SELECT COUNT(*) FROM tasks c WHERE c.parent_id = t.id) "
            "OR t.open_children <> (SELECT COUNT(*) FROM tasks c WHERE c.parent_id = t.id "
            "AND c.status NOT IN ('completed', 'failed', 'cancelled')) "
            "OR t.waiting_on <> (SELECT COUNT(*) FROM task_dependencies d JOIN tasks dep ON dep.id = d.depends_on "
            "WHERE d.task_id = t.id AND dep.status <> 'completed')"
        )
        if wrong:
            problems.append(f"{wrong} task(s) whose counts of subtasks or unfinished dependencies are out of step")
        parents = {(r["session_id"], r["status"]): int(r["n"]) for r in self.all(
            "SELECT session_id, status, COUNT(*) AS n FROM tasks WHERE children > 0 GROUP BY session_id, status"
        )}
        for session in self.all(f"SELECT id, {PARENT_COUNTERS} FROM sessions"):
            off = [
                f"{status} {n} (has {parents.get((session['id'], status), 0)})"
                for status, n in _counters(session, PARENT_COUNT_COLUMNS).items()
                if n != parents.get((session["id"], status), 0)
            ]
            if off:
                problems.append(f"session {session['id']}: parent counters out of step: {', '.join(off)}")
        return problems

    # -- idempotency ------------------------------------------------------

    def idempotent_response(self, session_id: str, key: str) -> StoredResponse | None:
        row = self.one(
            "SELECT tool, request_hash, response FROM idempotency_keys WHERE session_id = ? AND key = ?",
            session_id, key,
        )
        return cast(StoredResponse | None, row)

    def remember_response(
        self, session_id: str, key: str, tool: str, request_hash: str, response: str, now: float
    ) -> None:
        self.later(
            "INSERT INTO idempotency_keys (session_id, key, tool, request_hash, response, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            session_id, key, tool, request_hash, response, now,
        )
