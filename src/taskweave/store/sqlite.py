"""The embedded SQLite store: one file, several processes, WAL.

Every process opens its own connection. WAL lets readers run beside the one
writer; writes open with `BEGIN IMMEDIATE`, so a transaction that reads and
then claims a task holds the write lock from its first statement and never
has to be retried halfway. The busy timeout makes a writer wait for another
process's commit instead of failing.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taskweave.errors import StoreError
from taskweave.store.base import Store, Transaction
from taskweave.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
APPLICATION_ID = 0x74776576  # "twev": marks the file as a taskweave store
SQLITE_HEADER = b"SQLite format 3\x00"


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row)}


class SQLiteTransaction(Transaction):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        return self._connection.execute(sql, params)

    def lock_session(self, session_id: str) -> None:
        """Nothing to do: a write transaction already holds SQLite's single write lock."""

    def lock_workspace(self, workspace_id: str) -> None:
        """Nothing to do: a write transaction already holds SQLite's single write lock."""


class SQLiteStore(Store):
    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        self.path = path
        self.url = str(path)
        self._lock = threading.Lock()
        self._connection = self._connect(synchronous)
        self._migrate()

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        self._refuse_non_sqlite_file()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = _dict_row
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()["journal_mode"]
            if mode != "wal":
                raise StoreError(
                    f"The store {self.path} cannot use write-ahead logging (journal mode is {mode!r}).",
                    hint="Put the store on a local file system, e.g. with --store or TASKWEAVE_STORE.",
                )
            connection.execute(f"PRAGMA synchronous = {synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"The store {self.path} cannot be opened: {error}.",
                hint="Check the path and its permissions, or point --store / TASKWEAVE_STORE at another file.",
            ) from error
        return connection

    def _refuse_non_sqlite_file(self) -> None:
        try:
            with open(self.path, "rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(
                f"The store {self.path} cannot be read: {error.strerror}.",
                hint="Check the file's permissions, or point --store / TASKWEAVE_STORE at another file.",
            ) from error
        if header and header != SQLITE_HEADER:
            raise StoreError(
                f"The store {self.path} is not a usable SQLite database: it is damaged or another kind of file.",
                hint="Restore it from a backup, or point --store / TASKWEAVE_STORE at another file. "
                "taskweave left it untouched.",
            )

    def _migrate(self) -> None:
        with self._lock:
            try:
                self._migrate_locked()
            except sqlite3.DatabaseError as error:
                raise StoreError(
                    f"The store {self.path} is not a usable SQLite database: {error}.",
                    hint="Restore it from a backup, or point --store / TASKWEAVE_STORE at another file.",
                ) from error

    def _migrate_locked(self) -> None:
        connection = self._connection
        version = connection.execute("PRAGMA user_version").fetchone()["user_version"]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The store {self.path} has schema version {version}, newer than this taskweave "
                f"understands ({SCHEMA_VERSION}).",
                hint="Upgrade taskweave (pip install -U taskweave), or use another store.",
            )
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()["user_version"]
            if version == 0:
                self._refuse_foreign_database()
            elif version < SCHEMA_VERSION:
                self._backup_before_migration(version)
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            SQLiteTransaction(connection).set_meta("schema_version", str(SCHEMA_VERSION))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        log.info("store %s migrated from schema version %d to %d", self.path, version, SCHEMA_VERSION)

    def _refuse_foreign_database(self) -> None:
        tables = self._connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        if tables:
            raise StoreError(
                f"The file {self.path} is a SQLite database but not a taskweave store.",
                hint="Point --store / TASKWEAVE_STORE at a new or existing taskweave store file.",
            )

    def _backup_before_migration(self, version: int) -> None:
        target = self.path.with_name(f"{self.path.name}.schema-v{version}-{int(time.time())}.bak")
        backup = sqlite3.connect(target)
        try:
            self._connection.backup(backup)
        finally:
            backup.close()
        log.info("backed up %s to %s before migrating", self.path, target)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        with self._lock:
            connection = self._connection
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as error:
                raise StoreError(
                    f"The store {self.path} is busy or unavailable: {error}.",
                    hint="Retry the call; if it keeps failing, run `taskweave check`.",
                ) from error
            try:
                yield SQLiteTransaction(connection)
            except sqlite3.DatabaseError as error:
                connection.execute("ROLLBACK")
                raise StoreError(
                    f"The store {self.path} failed: {error}.",
                    hint="Nothing was changed. Check free disk space and permissions, then run `taskweave check`.",
                ) from error
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                connection.execute("ROLLBACK")
                raise StoreError(
                    f"The change could not be saved to {self.path}: {error}.",
                    hint="Nothing was changed. Check free disk space and permissions, then retry.",
                ) from error

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def describe(self) -> dict[str, Any]:
        return {"kind": "sqlite", "location": str(self.path), "schema_version": SCHEMA_VERSION}

    def check(self) -> list[str]:
        with self.transaction(write=False) as tx:
            problems = [
                f"integrity: {row['integrity_check']}"
                for row in tx.all("PRAGMA integrity_check")
                if row["integrity_check"] != "ok"
            ]
            problems += [
                f"table {row['table']} row {row['rowid']} points at a missing {row['parent']} row"
                for row in tx.all("PRAGMA foreign_key_check")
            ]
            version = tx.one("PRAGMA user_version")["user_version"]
            if version != SCHEMA_VERSION or tx.meta("schema_version") != str(SCHEMA_VERSION):
                problems.append(f"schema version is {version}, expected {SCHEMA_VERSION}")
            problems += tx.consistency_problems()
        return problems

    def backup(self, target: str) -> dict[str, Any]:
        """Copy the whole database in one step from a read snapshot: other writers never wait long."""
        destination = Path(target).expanduser().resolve()
        if destination == self.path:
            raise StoreError("The backup target is the store itself.", hint="Give another file path.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        snapshot = sqlite3.connect(partial)
        try:
            with self._lock:
                self._connection.backup(snapshot)
            snapshot.execute("PRAGMA journal_mode = DELETE")
            verdict = snapshot.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            snapshot.close()
        if verdict != "ok":
            partial.unlink(missing_ok=True)
            raise StoreError(f"The snapshot failed its check: {verdict}.", hint="Run `taskweave check` on the store.")
        os.replace(partial, destination)
        return {"path": str(destination), "bytes": destination.stat().st_size}


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("taskweave", appauthor=False) / "taskweave.db"


def open_sqlite(location: str | os.PathLike[str]) -> SQLiteStore:
    path = Path(location).expanduser()
    if path.is_dir():
        raise StoreError(
            f"The store path {path} is a directory.",
            hint="Give a file path, e.g. --store ~/taskweave.db.",
        )
    return SQLiteStore(path.resolve())
