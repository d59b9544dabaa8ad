"""The PostgreSQL store: one database shared by several taskweave instances.

SQLite serializes every writer with one file lock; here the same guarantees
come from row locks. Write transactions run READ COMMITTED, so a statement
that waited for another instance's lock sees what that instance committed:
`lock_session` / `lock_workspace` lock the row (`SELECT ... FOR NO KEY UPDATE`), the
conditional UPDATE in `claim_task` lets exactly one claimer through, and
`append_event` numbers events by updating the session row, so sequence
numbers stay gap-free. Read transactions run REPEATABLE READ READ ONLY: one
snapshot per call, like a SQLite reader, and never a serialization failure.

Connections come from a small pool that tests each connection before handing
it out, so after PostgreSQL restarts the dead ones are replaced and the next
call works without restarting taskweave. Changes are announced with NOTIFY at
commit; `wait_for_change` LISTENs on a connection of its own.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from taskweave.errors import Conflict, StoreBusy, StoreError, TaskweaveError
from taskweave.store import waiting
from taskweave.store.base import BackupReport, RestoreReport, Store, StoreDescription, newer_schema
from taskweave.store.records import Row, SessionRow
from taskweave.store.schema import SCHEMA_VERSION, migration
from taskweave.store.transaction import Transaction

log = logging.getLogger(__name__)

CHANNEL = "taskweave_changes"
MIGRATION_LOCK_KEY = 0x74776576  # "twev": one migrator at a time across instances
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 8
CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10.0
# The pool retries a failed connection with a doubling delay until this long has passed, then starts
# afresh on the next request: it bounds how long taskweave stays down after PostgreSQL is back.
RECONNECT_SECONDS = 5.0
URL_FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
IDLE_IN_TRANSACTION_SECONDS = 60
# How often the offset between this machine's clock and the database's is measured again.
CLOCK_CHECK_SECONDS = 60.0

_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|%")


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> str:
    """Rewrite `?` placeholders as `%s` and escape literal `%`; a `?` inside a string literal stays."""

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _SQL_TOKEN.sub(swap, sql)


@dataclass(frozen=True)
class Location:
    """A parsed PostgreSQL URL; `safe_url` is the URL without its password, fit for logs and hints."""

    url: str
    safe_url: str
    server: str
    database: str
    user: str
    options: dict[str, Any]


# TASKWEAVE_SYNC on PostgreSQL: unset keeps the database's own `synchronous_commit`; `full` asks for it on;
# `normal` turns it off for taskweave's transactions: a commit answers before its WAL reaches the disk, so
# PostgreSQL crashing (or the machine losing power) can lose the last fraction of a second of changes, never
# corrupt anything, and every commit costs no disk flush.
SYNCHRONOUS_COMMIT = {"normal": "off", "full": "on"}


def parse_url(url: str, sync: str | None = None) -> Location:
    """Validate a `postgresql://` URL up front, so a typo is reported as such and not as a network error."""
    safe_url = re.sub(r"[?&]password=[^&]*", "", re.sub(r"^(\w+://[^:@/]*):[^@/]*@", r"\1@", url))
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise StoreError(
            f"The PostgreSQL URL {safe_url} is malformed: {str(error).strip()}.",
            hint=f"Write it as {URL_FORM}.",
        ) from error
    port = str(info.get("port") or "5432")
    if not all(part.isdigit() for part in port.split(",")):
        raise StoreError(
            f"The PostgreSQL URL {safe_url} is malformed: the port {port!r} is not a number.",
            hint=f"Write it as {URL_FORM}.",
        )
    host = str(info.get("host") or "the local socket")
    user = str(info.get("user") or "(your login name)")
    options: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
    if "connect_timeout" not in info:
        options["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in info:
        options["application_name"] = "taskweave"
    # No lock is waited for longer than a call may wait, and a client stopped inside a transaction
    # (its locks held) is ended by the server, so the others are never blocked for good.
    options["options"] = " ".join(
        part for part in (
            str(info.get("options") or ""),
            f"-c lock_timeout={int(waiting.LOCK_WAIT_SECONDS * 1000)}",
            f"-c idle_in_transaction_session_timeout={int(IDLE_IN_TRANSACTION_SECONDS * 1000)}",
            f"-c synchronous_commit={SYNCHRONOUS_COMMIT[sync]}" if sync else "",
        ) if part
    )
    return Location(
        url=url,
        safe_url=safe_url,
        server=f"{host}:{port}",
        database=str(info.get("dbname") or info.get("user") or "(default)"),
        user=user,
        options=options,
    )


def _reason(error: psycopg.Error) -> str:
    """libpq's own words, without its connection preamble."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rsplit("failed: ", 1)[-1].replace("FATAL:  ", "").rstrip(".")


def connection_error(error: psycopg.OperationalError, where: Location) -> StoreError:
    """Why a connection could not be opened, in terms of the part of the URL to fix."""
    reason = _reason(error)
    if reason.startswith("database") and "does not exist" in reason:
        return StoreError(
            f"The PostgreSQL database {where.database!r} does not exist on {where.server}.",
            hint=f"Create it first (createdb -h HOST -p PORT {where.database}), or fix the database name in the URL.",
        )
    if "password" in reason or "authentication" in reason or reason.startswith("role"):
        return StoreError(
            f"PostgreSQL at {where.server} refused the login as {where.user}: {reason}.",
            hint="Check the user and password in the URL (or PGPASSWORD / ~/.pgpass).",
        )
    return StoreError(
        f"Cannot connect to PostgreSQL at {where.server}: {reason}.",
        hint="Check that PostgreSQL is running and that the host and port in the URL are right.",
    )


def statement_error(error: psycopg.Error, where: Location) -> TaskweaveError:
    """Why a transaction failed; in every case it was rolled back."""
    if isinstance(error, (errors.SerializationFailure, errors.DeadlockDetected)):
        return StoreError(
            "A concurrent change to the same data got in the way; nothing was changed.",
            hint="Retry the call.",
        )
    if isinstance(error, errors.LockNotAvailable):
        return StoreBusy(
            f"PostgreSQL at {where.server} kept the data locked by another client for {waiting.LOCK_WAIT_SECONDS:g} "
            "seconds; nothing was changed.",
            hint="Retry; if it persists, look for a stopped or hung taskweave process using the database.",
        )
    if isinstance(error, errors.UniqueViolation) and error.diag.constraint_name == "sessions_active_name":
        return Conflict(
            "Another client made a session of that name active at the same moment; nothing was changed.",
            hint="Call again: you attach to that session.",
        )
    if isinstance(error, errors.UniqueViolation):
        return StoreError(
            f"taskweave tried to store a duplicate ({error.diag.constraint_name}); nothing was changed. This is a bug.",
            hint="Retry the call; if it happens again, report it with the server log.",
        )
    if isinstance(error, psycopg.OperationalError):
        return StoreError(
            f"The connection to PostgreSQL at {where.server} failed: {_reason(error)}; nothing was changed.",
            hint="Retry the call: taskweave reconnects by itself as soon as PostgreSQL is reachable again.",
        )
    return StoreError(
        f"PostgreSQL at {where.server} refused a statement: {_reason(error)}; nothing was changed.",
        hint="Run `taskweave check`; if the problem stays, report it with the server log.",
    )


# The words of every task's text, searched through a GIN index: the runs of letters and digits (as FTS5
# splits them on SQLite), lowercased; a query matches the words' beginnings.
TASK_TEXT = (
    "to_tsvector('simple', regexp_replace(title || ' ' || description || ' ' || COALESCE(summary, ''), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)
# From schema 5 on the words are a stored column: computed on every row a query read, they cost a text search
# 0.3 s at 10,000 tasks whenever the planner walked the session rather than the index.
OWN_MIGRATIONS = {
    3: [f"CREATE INDEX tasks_text ON tasks USING GIN ({TASK_TEXT})"],
    4: [
        f"ALTER TABLE tasks ADD COLUMN text_words tsvector GENERATED ALWAYS AS ({TASK_TEXT}) STORED",
        "CREATE INDEX tasks_text_words ON tasks USING GIN (text_words)",
        "DROP INDEX tasks_text",
    ],
}
OWN_COLUMNS = {"tasks": frozenset({"text_words"})}


class PostgresTransaction(Transaction):
    """One transaction on one pooled connection, sent in as few round trips as the work allows.

    `begin` and every `later` statement wait in `_pending` and go out in one pipeline with the next
    statement whose result is read, or with the COMMIT: a write that reads three times costs four
    round trips, whatever it changes.
    """

    own_columns = OWN_COLUMNS

    def __init__(self, connection: psycopg.Connection[dict[str, Any]], begin: str | None = None) -> None:
        self._connection = connection
        self._announced: set[str] = set()
        self._pending: list[tuple[str, tuple[Any, ...]]] = [(begin, ())] if begin else []
        self.locked_at: float | None = None
        self.lock_waited = 0.0

    def _execute(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[dict[str, Any]]:
        if not self._pending:
            return self._connection.execute(to_psycopg(sql), tuple(params))
        with self._connection.pipeline():
            self._send_pending()
            cursor = self._connection.execute(to_psycopg(sql), tuple(params))
        return cursor

    def later(self, sql: str, *params: Any) -> None:
        self._pending.append((to_psycopg(sql), params))

    def text_match(self, words: Sequence[str]) -> tuple[str, list[Any]]:
        return "text_words @@ to_tsquery('simple', ?)", [" & ".join(f"{word}:*" for word in words)]

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        for sql, params in pending:
            self._connection.execute(sql, params)

    def commit(self) -> None:
        """What is still pending, and the COMMIT, in one round trip."""
        with self._connection.pipeline():
            self._send_pending()
            self._connection.execute("COMMIT")

    def rollback(self) -> None:
        """End the transaction if it ever began; what was still pending is dropped."""
        self._pending = []
        if self._connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with suppress(psycopg.Error):
                self._connection.execute("ROLLBACK")

    # NO KEY UPDATE serializes the writers of a row among themselves but, unlike FOR UPDATE, lets
    # the foreign-key checks of other transactions (FOR KEY SHARE) through: a planner updating its
    # session row re-checks the session's workspace key, and must not wait for an initializer that
    # holds the workspace while it waits for the planner's session.

    def lock_session(self, session_id: str) -> SessionRow | None:
        return cast(SessionRow | None, self._lock("SELECT * FROM sessions WHERE id = ? FOR NO KEY UPDATE", session_id))

    def lock_workspace(self, workspace_id: str) -> None:
        self._lock("SELECT id FROM workspaces WHERE id = ? FOR NO KEY UPDATE", workspace_id)

    def _lock(self, sql: str, row_id: str) -> Row | None:
        """Lock a row; the first lock of the transaction starts the clock of how long its locks are held."""
        asked = time.perf_counter()
        row = self.one(sql, row_id)
        if self.locked_at is None:
            self.locked_at = time.perf_counter()
            self.lock_waited = self.locked_at - asked
        return row

    def announce_change(self, session_id: str) -> None:
        """NOTIFY is delivered at commit, and not at all after a rollback."""
        if session_id not in self._announced:
            self._announced.add(session_id)
            self.later("SELECT pg_notify(?, ?)", CHANNEL, session_id)


class PostgresStore(Store):
    concurrent_transactions = True

    def __init__(
        self,
        url: str,
        *,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
        read_only: bool = False,
        local_clock: Callable[[], float] = time.time,
        sync: str | None = None,
    ) -> None:
        if sync is not None and sync not in SYNCHRONOUS_COMMIT:
            raise StoreError(f"Unknown durability setting {sync!r}.", hint="Set TASKWEAVE_SYNC to normal or full.")
        self.sync = sync
        self.location = parse_url(url, sync)
        self.url = self.location.safe_url
        self.read_only = read_only
        self._local_clock = local_clock
        with self._connect() as connection:
            if read_only:
                self.schema_version = self._read_schema_version(connection)
                if self.schema_version == 0:
                    raise StoreError(
                        f"There is no taskweave store in the database {self.location.database} on "
                        f"{self.location.server} yet.",
                        hint="A server creates it when it starts (taskweave serve --store URL).",
                    )
                if self.schema_version > SCHEMA_VERSION:
                    raise newer_schema(self.url, self.schema_version)
            else:
                self._migrate(connection)
                self.schema_version = SCHEMA_VERSION
            self._clock_offset = self._measure_clock(connection)
        self._clock_checked = time.monotonic()
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url,
            min_size=POOL_MIN_SIZE,
            max_size=POOL_MAX_SIZE,
            timeout=pool_timeout,
            reconnect_timeout=RECONNECT_SECONDS,
            kwargs=self.location.options,
            check=ConnectionPool.check_connection,
            name="taskweave",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except PoolTimeout as error:
            self._pool.close()
            raise self._unreachable() from error
        self._listener = _Listener(self._connect)

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self.location.url, **self.location.options)
        except psycopg.OperationalError as error:
            raise connection_error(error, self.location) from error

    def _unreachable(self) -> StoreError:
        return StoreError(
            f"No connection to PostgreSQL at {self.location.server} could be opened in time.",
            hint="Check that PostgreSQL is running and reachable; taskweave reconnects by itself once it is.",
        )

    # -- schema -----------------------------------------------------------

    def _migrate(self, connection: psycopg.Connection[dict[str, Any]]) -> None:
        try:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                tx = PostgresTransaction(connection)
                version = self._schema_version(tx)
                if version > SCHEMA_VERSION:
                    raise newer_schema(self.url, version)
                # DDL is transactional here: a migration that fails leaves the store as it was.
                for step in range(version, SCHEMA_VERSION):
                    for statement in migration(step, OWN_MIGRATIONS):
                        connection.execute(statement)
                if version < SCHEMA_VERSION:
                    tx.set_meta("schema_version", str(SCHEMA_VERSION))
                    log.info("store %s migrated from schema version %d to %d", self.url, version, SCHEMA_VERSION)
        except psycopg.Error as error:
            raise statement_error(error, self.location) from error

    def _read_schema_version(self, connection: psycopg.Connection[dict[str, Any]]) -> int:
        try:
            return self._schema_version(PostgresTransaction(connection))
        except psycopg.Error as error:
            raise statement_error(error, self.location) from error

    def _schema_version(self, tx: Transaction) -> int:
        tables = {
            row["table_name"]
            for row in tx.all(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }
        if "store_meta" not in tables:
            if tables:
                raise StoreError(
                    f"The database {self.location.database} on {self.location.server} holds other tables "
                    "but is not a taskweave store.",
                    hint="Point --store / TASKWEAVE_STORE at an empty database or an existing taskweave store.",
                )
            return 0
        version = tx.meta("schema_version")
        if version is None or not version.isdigit():
            raise StoreError(
                f"The store {self.url} has no valid schema version ({version!r}).",
                hint="Restore it from a backup (pg_restore), or point --store / TASKWEAVE_STORE at another database.",
            )
        return int(version)

    # -- time -------------------------------------------------------------

    def now(self) -> float:
        """The database's clock: every instance computes leases and expiries by the same time."""
        if time.monotonic() - self._clock_checked > CLOCK_CHECK_SECONDS:
            self._clock_checked = time.monotonic()
            try:
                with self._pool.connection() as connection:
                    self._clock_offset = self._measure_clock(connection)
            except (psycopg.Error, PoolTimeout) as error:
                log.info("could not measure the database's clock again (%s); keeping the last offset", error)
        return self._local_clock() + self._clock_offset

    def _measure_clock(self, connection: psycopg.Connection[dict[str, Any]]) -> float:
        """How far the database's clock is ahead of this machine's, taken halfway through one round trip."""
        sent = self._local_clock()
        row = connection.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now").fetchone()
        received = self._local_clock()
        assert row is not None
        return float(row["now"]) - (sent + received) / 2

    # -- transactions -----------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        if write and self.read_only:
            raise StoreError(f"The store {self.url} was opened to be read, not written.", hint="This is a bug.")
        begin = "BEGIN ISOLATION LEVEL READ COMMITTED" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        try:
            with self._pool.connection() as connection:
                tx = PostgresTransaction(connection, begin)
                try:
                    yield tx
                except BaseException:
                    tx.rollback()
                    raise
                self._commit(tx)
        except PoolTimeout as error:
            raise self._unreachable() from error
        except psycopg.Error as error:
            raise statement_error(error, self.location) from error

    def _commit(self, tx: PostgresTransaction) -> None:
        try:
            tx.commit()
            if tx.locked_at is not None:
                self.telemetry.write_lock(tx.lock_waited, time.perf_counter() - tx.locked_at)
        except psycopg.OperationalError as error:
            raise StoreError(
                f"The connection to PostgreSQL at {self.location.server} was lost while saving the change: "
                f"{_reason(error)}. It may or may not have been saved.",
                hint="Check with orchestrator_get_status before retrying.",
            ) from error
        except psycopg.Error:
            tx.rollback()
            raise

    def close(self) -> None:
        self._listener.close()
        self._pool.close()

    def describe(self) -> StoreDescription:
        description: StoreDescription = {"kind": "postgresql", "location": self.url, "schema_version": self.schema_version}
        if self.sync:
            description["sync"] = self.sync
        return description

    def check(self) -> list[str]:
        """Schema version and the logical invariants; PostgreSQL itself enforces integrity and foreign keys."""
        if self.schema_version < SCHEMA_VERSION:
            return []  # an older store is checked as it is; its upgrade comes with the next server
        with self.transaction(write=False) as tx:
            problems: list[str] = []
            version = tx.meta("schema_version")
            if version != str(SCHEMA_VERSION):
                problems.append(f"schema version is {version}, expected {SCHEMA_VERSION}")
            problems += tx.consistency_problems()
        return problems

    def backup(self, target: str | None = None) -> BackupReport:
        target = target or "taskweave.dump"
        raise StoreError(
            "A PostgreSQL store is backed up with PostgreSQL's own tools, not by copying a file.",
            hint=f"Run: pg_dump -Fc -d '{self.url}' -f {target} (restore with: {self._pg_restore(target)}).",
        )

    def restore(self, source: str, *, force: bool = False) -> RestoreReport:
        raise StoreError(
            "A PostgreSQL store is restored with PostgreSQL's own tools.",
            hint=f"Stop the taskweave servers using it, then run: {self._pg_restore(source)}",
        )

    def _pg_restore(self, dump: str) -> str:
        return f"pg_restore --clean --if-exists -d '{self.url}' {dump}"

    def wait_for_change(self, timeout: float) -> None:
        self._listener.wait(timeout)


class _Listener:
    """A connection of its own that LISTENs for change announcements, reopened after a connection loss.

    Every waiter wakes on a notification: one of them at a time receives on the connection, and a
    notification it receives wakes the others too (the daemon's MCP notifier and its dashboard both wait).
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[dict[str, Any]]]) -> None:
        self._connect = connect
        self._connection: psycopg.Connection[dict[str, Any]] | None = None
        self._changed = threading.Condition()
        self._generation = 0
        self._receiving = False
        self._closed = False

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = self._generation
            while self._receiving:
                remaining = deadline - time.monotonic()
                if self._generation != seen or remaining <= 0:
                    return
                self._changed.wait(remaining)
            if self._generation != seen:
                return
            self._receiving = True
        heard = False
        try:
            heard = self._receive(deadline)
        finally:
            with self._changed:
                self._receiving = False
                if heard:
                    self._generation += 1
                self._changed.notify_all()

    def _receive(self, deadline: float) -> bool:
        """True once a notification arrived before `deadline`."""
        try:
            if self._connection is None:
                self._connection = self._connect()
                self._connection.execute(f"LISTEN {CHANNEL}")
            remaining = max(0.0, deadline - time.monotonic())
            return any(True for _ in self._connection.notifies(timeout=remaining, stop_after=1))
        except (psycopg.Error, StoreError) as error:
            if self._closed:
                return False
            log.info("change listener lost its connection (%s); it reconnects on the next wait", error)
            self._drop()
            time.sleep(max(0.0, deadline - time.monotonic()))
            return False

    def _drop(self) -> None:
        if self._connection is not None:
            with suppress(psycopg.Error):
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Close the connection; a waiter receiving on it returns at once."""
        self._closed = True
        self._drop()


def open_postgres(url: str, *, read_only: bool = False) -> PostgresStore:
    sync = os.environ.get("TASKWEAVE_SYNC", "").strip().lower() or None
    return PostgresStore(url, read_only=read_only, sync=sync)
