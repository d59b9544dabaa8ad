"""The versioned schema, shared by every store implementation.

The DDL is written in the SQL both SQLite and PostgreSQL accept: `TEXT`,
`BIGINT` and `DOUBLE PRECISION` columns (SQLite maps them to its affinities),
JSON kept as `TEXT`, times as seconds since the epoch. `MIGRATIONS[n]` brings a
store from version `n` to `n + 1`, followed by the statements an implementation
keeps for itself under the same step (its `OWN_MIGRATIONS[n]`: what only its SQL
can say, such as a text-search index); a released entry is never edited, only
new ones are appended.
"""

from __future__ import annotations

_STATUSES = ("pending", "in_progress", "blocked", "completed", "failed", "cancelled")

MIGRATIONS: list[list[str]] = [
    # 0 -> 1: the first release.
    [
        """CREATE TABLE store_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE workspaces (
            id TEXT PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            root TEXT NOT NULL,
            types TEXT NOT NULL,
            vcs TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id),
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            metadata TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            last_activity_at DOUBLE PRECISION NOT NULL,
            ended_at DOUBLE PRECISION,
            last_event_seq BIGINT NOT NULL DEFAULT 0,
            task_seq BIGINT NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX sessions_by_workspace ON sessions (workspace_id, status, last_activity_at)",
        "CREATE UNIQUE INDEX sessions_active_name ON sessions (workspace_id, name) WHERE status = 'active'",
        """CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            transport TEXT NOT NULL,
            pid BIGINT,
            host TEXT NOT NULL,
            worktree TEXT,
            state TEXT NOT NULL,
            first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX clients_by_session ON clients (session_id, state, last_seen)",
        "CREATE INDEX clients_by_liveness ON clients (state, last_seen)",
        """CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq BIGINT NOT NULL,
            parent_id TEXT REFERENCES tasks(id),
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            specialist TEXT NOT NULL,
            priority BIGINT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT,
            version BIGINT NOT NULL,
            claimed_by TEXT REFERENCES clients(id),
            claim_expires_at DOUBLE PRECISION,
            claim_lease_seconds DOUBLE PRECISION,
            created_by TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION
        )""",
        "CREATE UNIQUE INDEX tasks_by_seq ON tasks (session_id, seq)",
        "CREATE INDEX tasks_by_status ON tasks (session_id, status, priority DESC, seq)",
        "CREATE INDEX tasks_by_parent ON tasks (parent_id, status)",
        "CREATE INDEX tasks_by_update ON tasks (session_id, updated_at)",
        "CREATE INDEX tasks_by_claim ON tasks (claimed_by)",
        "CREATE INDEX tasks_by_claim_expiry ON tasks (status, claim_expires_at)",
        """CREATE TABLE task_dependencies (
            task_id TEXT NOT NULL REFERENCES tasks(id),
            depends_on TEXT NOT NULL REFERENCES tasks(id),
            PRIMARY KEY (task_id, depends_on)
        )""",
        "CREATE INDEX task_dependents ON task_dependencies (depends_on)",
        """CREATE TABLE artifacts (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            task_id TEXT REFERENCES tasks(id),
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            content TEXT NOT NULL,
            size BIGINT NOT NULL,
            created_by TEXT,
            created_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX artifacts_by_task ON artifacts (task_id, created_at)",
        "CREATE INDEX artifacts_by_session ON artifacts (session_id, created_at)",
        """CREATE TABLE events (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq BIGINT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            actor TEXT,
            kind TEXT NOT NULL,
            task_id TEXT,
            data TEXT NOT NULL,
            PRIMARY KEY (session_id, seq)
        )""",
        """CREATE TABLE idempotency_keys (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            key TEXT NOT NULL,
            tool TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (session_id, key)
        )""",
    ],
    # 1 -> 2: each session counts its tasks per status, so a status summary costs the same at any size;
    # tasks of one status are listed in order without reading the others.
    [
        "CREATE INDEX tasks_by_status_seq ON tasks (session_id, status, seq)",
        "ALTER TABLE sessions ADD COLUMN tasks_pending BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN tasks_in_progress BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN tasks_blocked BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN tasks_completed BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN tasks_failed BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN tasks_cancelled BIGINT NOT NULL DEFAULT 0",
        "UPDATE sessions SET "
        + ", ".join(
            f"tasks_{status} = (SELECT COUNT(*) FROM tasks WHERE tasks.session_id = sessions.id AND tasks.status = '{status}')"
            for status in _STATUSES
        ),
    ],
    # 2 -> 3: a task knows how many subtasks it has, how many are unfinished, and how many of its
    # dependencies are unfinished, so readiness is an index lookup and a parent is a container
    # (never ready work); each session counts its parents per status apart, so progress counts work.
    # Claims reserve paths, and a task remembers whose claim was taken from it (to keep that client's
    # report); messages between agents; a client may act for a named principal.
    [
        "ALTER TABLE tasks ADD COLUMN children BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE tasks ADD COLUMN open_children BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE tasks ADD COLUMN waiting_on BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE tasks ADD COLUMN claim_paths TEXT",
        "ALTER TABLE tasks ADD COLUMN claim_lost_by TEXT",
        "UPDATE tasks SET "
        "children = (SELECT COUNT(*) FROM tasks c WHERE c.parent_id = tasks.id), "
        "open_children = (SELECT COUNT(*) FROM tasks c WHERE c.parent_id = tasks.id "
        "AND c.status NOT IN ('completed', 'failed', 'cancelled')), "
        "waiting_on = (SELECT COUNT(*) FROM task_dependencies d JOIN tasks dep ON dep.id = d.depends_on "
        "WHERE d.task_id = tasks.id AND dep.status <> 'completed')",
        "CREATE INDEX tasks_ready ON tasks (session_id, priority DESC, seq) "
        "WHERE status = 'pending' AND waiting_on = 0 AND children = 0",
        "CREATE INDEX tasks_ready_by_specialist ON tasks (session_id, specialist, priority DESC, seq) "
        "WHERE status = 'pending' AND waiting_on = 0 AND children = 0",
        "CREATE INDEX tasks_to_synthesize ON tasks (session_id, seq) "
        "WHERE status = 'pending' AND children > 0 AND open_children = 0",
        "CREATE INDEX tasks_claimed ON tasks (session_id, claimed_by) WHERE status = 'in_progress'",
        *(f"ALTER TABLE sessions ADD COLUMN parents_{status} BIGINT NOT NULL DEFAULT 0" for status in _STATUSES),
        "UPDATE sessions SET "
        + ", ".join(
            f"parents_{status} = (SELECT COUNT(*) FROM tasks WHERE tasks.session_id = sessions.id "
            f"AND tasks.status = '{status}' AND tasks.children > 0)"
            for status in _STATUSES
        ),
        "ALTER TABLE sessions ADD COLUMN message_seq BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN specialist_messages_waiting BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE clients ADD COLUMN message_seq BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE clients ADD COLUMN principal TEXT",
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq BIGINT NOT NULL,
            sender TEXT,
            sender_name TEXT NOT NULL,
            recipient_kind TEXT NOT NULL,
            recipient TEXT,
            task_id TEXT REFERENCES tasks(id),
            body TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            delivered_to TEXT,
            delivered_at DOUBLE PRECISION
        )""",
        "CREATE UNIQUE INDEX messages_by_seq ON messages (session_id, seq)",
        "CREATE INDEX messages_for_specialists ON messages (session_id, recipient, seq) "
        "WHERE recipient_kind = 'specialist' AND delivered_to IS NULL",
    ],
    # 3 -> 4: queries by specialist, and the dashboard's columns (by status, most recently changed first),
    # page through indexes; each store adds its own text-search index (`OWN_MIGRATIONS` of its implementation).
    [
        "CREATE INDEX tasks_by_specialist ON tasks (session_id, specialist, seq)",
        "CREATE INDEX tasks_by_status_update ON tasks (session_id, status, updated_at, seq)",
    ],
    # 4 -> 5: nothing shared; PostgreSQL keeps each task's words in a column of their own (its `OWN_MIGRATIONS`).
    [],
]

SCHEMA_VERSION = len(MIGRATIONS)

TASK_STATUSES = _STATUSES
FINISHED_STATUSES = frozenset({"completed", "failed", "cancelled"})
# The session columns counting the tasks, and among them the parents, in each status.
TASK_COUNT_COLUMNS = {status: f"tasks_{status}" for status in TASK_STATUSES}
PARENT_COUNT_COLUMNS = {status: f"parents_{status}" for status in TASK_STATUSES}

# Every table holding records, parents before children (the order to copy them in).
TABLES = (
    "store_meta", "workspaces", "sessions", "clients", "tasks", "task_dependencies", "artifacts", "events",
    "idempotency_keys", "messages",
)
# The schema version that added a table (the others were in the first).
TABLE_SINCE = {"messages": 3}


def migration(step: int, own: dict[int, list[str]]) -> list[str]:
    """The statements that bring a store from version `step` to `step + 1`: the shared ones, then its own."""
    return MIGRATIONS[step] + own.get(step, [])


def tables_at(version: int) -> tuple[str, ...]:
    """The tables a store of schema `version` holds."""
    return tuple(table for table in TABLES if TABLE_SINCE.get(table, 1) <= version)
