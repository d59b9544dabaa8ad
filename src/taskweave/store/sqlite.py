"""The embedded SQLite store: one file, several processes, WAL.

Every process opens its own connection. WAL lets readers run beside the one
writer; writes open with `BEGIN IMMEDIATE`, so a transaction that reads and
then claims a task holds the write lock from its first statement and never
has to be retried halfway. The busy timeout makes a writer wait for another
process's commit instead of failing.

Durability (`TASKWEAVE_SYNC`): with `normal`, the default, a commit is in the
WAL file before the tool answers, so it survives the server being killed at
any moment; a power loss or an operating-system crash can lose the last
commits (never corrupt the store). With `full`, every commit is also flushed
to the disk (fsync) and survives a power loss, at the cost of one flush per
change.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from taskweave.errors import StoreBusy, StoreError
from taskweave.store import waiting
from taskweave.store.base import BackupReport, RestoreReport, Store, StoreDescription, newer_schema
from taskweave.store.records import SessionRow
from taskweave.store.schema import SCHEMA_VERSION, migration
from taskweave.store.transaction import Transaction
from taskweave.store.waiting import FileTurn, take

if TYPE_CHECKING:
    from taskweave.store.snapshots import SnapshotPolicy

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = int(waiting.LOCK_WAIT_SECONDS * 1000)
# The files beside a store that belong to it: SQLite's log and index, and taskweave's lock files.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".writers", ".users")
LOW_DISK_BYTES = 4 * 1024 * 1024
APPLICATION_ID = 0x74776576  # "twev": marks the file as a taskweave store
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_HEADER_BYTES = 32
SYNC_MODES = {"normal": "NORMAL", "full": "FULL"}
RESTORE_HINT = "Restore it from a backup with `taskweave restore PATH`, or point --store / TASKWEAVE_STORE elsewhere."


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row)}


def store_error(path: Path, error: sqlite3.Error, *, changed_nothing: bool = True) -> StoreError:
    """Say what went wrong with the store in words a user can act on, from SQLite's own error code."""
    text = str(error)
    nothing = "Nothing was changed. " if changed_nothing else ""
    # The primary result code is the low byte of an extended one (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED...).
    code = getattr(error, "sqlite_errorcode", -1) & 0xFF
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _disk_nearly_full(path)):
        return StoreError(
            f"The store {path} cannot be written: the disk is full ({text}).",
            hint=f"{nothing}Free some space on that disk; taskweave writes again as soon as there is room.",
        )
    if getattr(error, "sqlite_errorcode", -1) == sqlite3.SQLITE_IOERR_WRITE:
        return StoreError(
            f"The store {path} cannot be written: the operating system refused the write ({text}), as it does "
            "when the disk is full or the file has reached a size limit.",
            hint=f"{nothing}Free some space, or lift the limit; taskweave writes again as soon as it can.",
        )
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        return StoreError(
            f"The store {path} cannot be read or written: the operating system reported an I/O error ({text}).",
            hint=f"{nothing}Check that the file and its -wal and -shm files are still there and readable, that "
            "the disk is healthy, and run `taskweave check`.",
        )
    if code == sqlite3.SQLITE_READONLY:
        return StoreError(
            f"The store {path} is read-only ({text}).",
            hint=f"{nothing}Make the file and its directory writable for this user, or use another store.",
        )
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError(
            f"The store {path} is damaged ({text}).",
            hint=f"{nothing}Run `taskweave check` to see the damage. {RESTORE_HINT}",
        )
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return busy(path, changed_nothing=changed_nothing)
    return StoreError(
        f"The store {path} failed: {text}.",
        hint=f"{nothing}Check the file's permissions and free disk space, then run `taskweave check`.",
    )


def busy(path: Path, *, changed_nothing: bool = True) -> StoreBusy:
    nothing = "Nothing was changed. " if changed_nothing else ""
    return StoreBusy(
        f"The store {path} stayed locked by another process for {waiting.LOCK_WAIT_SECONDS:g} seconds.",
        hint=f"{nothing}Retry; if it persists, look for a stopped or hung process using the store "
        f"(`fuser {path}.writers` lists the processes that have it open).",
    )


def _disk_nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_DISK_BYTES
    except OSError:
        return False


def companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in COMPANION_SUFFIXES]


def refuse_companion(path: Path, role: str) -> None:
    """Refuse a path that is one of a store's companion files (overwriting a live log loses the store)."""
    for suffix in COMPANION_SUFFIXES:
        if path.name.endswith(suffix) and path.with_name(path.name[: -len(suffix)]).exists():
            store = path.with_name(path.name[: -len(suffix)])
            raise StoreError(
                f"{path} is the {suffix} file of the store {store}, not a file of its own: it cannot be {role}.",
                hint="Give another file path; the store's files are only ever written by the store itself.",
            )


# The text of every task (title, description, summary) in an FTS5 index that reads its content from
# the tasks table, keyed by the task's rowid (stable: taskweave never runs VACUUM), and kept in step
# by triggers. Diacritics stay as they are, as PostgreSQL's index keeps them.
_TASK_TEXT = "new.title, new.description, COALESCE(new.summary, '')"
_OLD_TASK_TEXT = "old.title, old.description, COALESCE(old.summary, '')"
OWN_MIGRATIONS = {
    3: [
        "CREATE VIRTUAL TABLE task_text USING fts5(title, description, summary, content='tasks', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
        "INSERT INTO task_text (task_text) VALUES ('rebuild')",
        "CREATE TRIGGER task_text_insert AFTER INSERT ON tasks BEGIN "
        f"INSERT INTO task_text (rowid, title, description, summary) VALUES (new.rowid, {_TASK_TEXT}); END",
        "CREATE TRIGGER task_text_delete AFTER DELETE ON tasks BEGIN "
        "INSERT INTO task_text (task_text, rowid, title, description, summary) "
        f"VALUES ('delete', old.rowid, {_OLD_TASK_TEXT}); END",
        "CREATE TRIGGER task_text_update AFTER UPDATE OF title, description, summary ON tasks BEGIN "
        "INSERT INTO task_text (task_text, rowid, title, description, summary) "
        f"VALUES ('delete', old.rowid, {_OLD_TASK_TEXT}); "
        f"INSERT INTO task_text (rowid, title, description, summary) VALUES (new.rowid, {_TASK_TEXT}); END",
    ],
}


class SQLiteTransaction(Transaction):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        return self._connection.execute(sql, params)

    def text_match(self, words: Sequence[str]) -> tuple[str, list[Any]]:
        query = " AND ".join(f'"{word}"*' for word in words)
        return "rowid IN (SELECT rowid FROM task_text WHERE task_text MATCH ?)", [query]

    def tasks_by(self, index: str | None, alias: str = "") -> str:
        return f"{super().tasks_by(index, alias)} {'NOT INDEXED' if index is None else f'INDEXED BY {index}'}"

    def lock_session(self, session_id: str) -> SessionRow | None:
        """A write transaction already holds SQLite's single write lock: only the session to read."""
        return self.session(session_id)

    def lock_workspace(self, workspace_id: str) -> None:
        """Nothing to do: a write transaction already holds SQLite's single write lock."""


class SQLiteStore(Store):
    """One store file, opened by this process.

    Opened `read_only`, it must exist, is never migrated, and takes no writer's turn:
    commands that only read never create or change what they read. A store whose file
    is deleted or replaced under it (its identity changes) refuses every call from then
    on: whatever it wrote would be lost.
    """

    def __init__(self, path: Path, *, sync: str = "normal", read_only: bool = False) -> None:
        if sync not in SYNC_MODES:
            raise StoreError(f"Unknown durability setting {sync!r}.", hint="Set TASKWEAVE_SYNC to normal or full.")
        self.path = path
        self.url = str(path)
        self.sync = sync
        self.read_only = read_only
        self._lock = threading.Lock()
        refuse_companion(path, "a store")
        if read_only:
            self._require_file()
        else:
            self._refuse_orphaned_log()
        self._refuse_untrusted_file()
        self._connection = self._connect()
        self._identity = self._file_identity()
        self._writers = None if read_only else FileTurn(self._lock_file(".writers"))
        try:
            self.schema_version = self._schema_version()
        except sqlite3.Error as error:
            self.close()
            raise self._unreadable(error) if read_only else store_error(path, error) from error
        if self.schema_version > SCHEMA_VERSION:
            raise newer_schema(self.url, self.schema_version)
        if not read_only:
            self._migrate()

    # -- opening ------------------------------------------------------------

    def _require_file(self) -> None:
        if not self.path.is_file():
            raise StoreError(
                f"There is no store at {self.path}.",
                hint="Give the path of an existing store (--store / TASKWEAVE_STORE); a server creates one when it starts.",
            )
        if self.path.stat().st_size == 0:
            raise StoreError(f"{self.path} is an empty file, not a taskweave store.", hint="Give the path of a store.")

    def _refuse_orphaned_log(self) -> None:
        """Never start a new, empty store where a store's file went missing but its log is still there."""
        if self.path.exists():
            return
        left = [companion for companion in companions(self.path)[:2] if companion.exists()]
        if left:
            raise StoreError(
                f"The store file {self.path} is missing, but {left[0].name} beside it is still there: the store "
                "was deleted or moved while in use. taskweave did not start an empty store over it.",
                hint=f"{RESTORE_HINT} To start afresh on purpose, move {', '.join(p.name for p in left)} away first.",
            )

    def _unreadable(self, error: sqlite3.Error) -> StoreError:
        code = getattr(error, "sqlite_errorcode", -1) & 0xFF
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            return StoreError(
                f"The store {self.path} cannot be read: to read it while others may write, SQLite needs to create "
                f"{self.path.name}-shm beside it, and {self.path.parent} is not writable for this user.",
                hint="Make that directory writable for this user, or check a copy of the store made elsewhere.",
            )
        return store_error(self.path, error)

    def _file_identity(self) -> tuple[int, int]:
        status = self.path.stat()
        return status.st_dev, status.st_ino

    def _check_identity(self) -> None:
        """Refuse to go on when the store's file was deleted or replaced while this process had it open."""
        try:
            current = self._file_identity()
        except FileNotFoundError:
            what = "deleted"
        else:
            if current == self._identity:
                return
            what = "replaced by another file"
        raise StoreError(
            f"The store file {self.path} was {what} while this server was using it; nothing was changed, and "
            "this server refuses every call from now on so that nothing more is written where it would be lost.",
            hint=f"Stop the servers using it (close their client windows). {RESTORE_HINT}",
        )

    def _refuse_untrusted_file(self) -> None:
        """Refuse a file that is not, or no longer, a whole SQLite database, before SQLite touches it."""
        try:
            with open(self.path, "rb") as file:
                header = file.read(100)
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(
                f"The store {self.path} cannot be read: {error.strerror}.",
                hint="Check the file's permissions, or point --store / TASKWEAVE_STORE at another file.",
            ) from error
        if not header:
            return
        if not header.startswith(SQLITE_HEADER):
            raise StoreError(
                f"The store {self.path} is not a usable SQLite database: it is damaged or another kind of file. "
                "taskweave left it untouched.",
                hint=RESTORE_HINT,
            )
        if self._log_has_frames():
            # Pages past the end of the file may still be in the write-ahead log, which SQLite replays
            # on open: a crash in the middle of a checkpoint leaves exactly that. Not a truncation.
            return
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        size = self.path.stat().st_size
        if len(header) < 100 or (pages and size < pages * page_size):
            raise StoreError(
                f"The store {self.path} is truncated: it holds {size:,} bytes of the {pages * page_size:,} "
                "its header announces. taskweave left it untouched.",
                hint=RESTORE_HINT,
            )

    def _log_has_frames(self) -> bool:
        try:
            return self.path.with_name(self.path.name + "-wal").stat().st_size > WAL_HEADER_BYTES
        except OSError:
            return False

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                connection = sqlite3.connect(
                    f"{self.path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None, check_same_thread=False,
                )
                connection.row_factory = _dict_row
                connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                return connection
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
                    hint="Put the store on a local, writable file system, e.g. with --store or TASKWEAVE_STORE.",
                )
            connection.execute(f"PRAGMA synchronous = {SYNC_MODES[self.sync]}")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise store_error(self.path, error) from error
        except OSError as error:
            raise StoreError(
                f"The store {self.path} cannot be created: {error.strerror}.",
                hint="Check that its directory is writable, or point --store / TASKWEAVE_STORE elsewhere.",
            ) from error
        return connection

    def _migrate(self) -> None:
        with self._lock:
            try:
                if self._schema_version() != SCHEMA_VERSION:
                    # Other processes' writers wait on the file lock while the store is copied and migrated.
                    with self._writer_turn(True):
                        self._migrate_locked()
                    self.schema_version = self._schema_version()
            except sqlite3.Error as error:
                raise store_error(self.path, error) from error

    def _schema_version(self) -> int:
        return int(self._connection.execute("PRAGMA user_version").fetchone()["user_version"])

    def _migrate_locked(self) -> None:
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise newer_schema(self.url, version)
        if version > 0:
            # Before the write transaction: SQLite cannot copy a database its own connection is writing.
            self._backup_before_migration(version)
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            if version == 0:
                self._refuse_foreign_database()
            for step in range(version, SCHEMA_VERSION):
                for statement in migration(step, OWN_MIGRATIONS):
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
        log.warning("backed up %s to %s before migrating it to schema version %d", self.path, target, SCHEMA_VERSION)

    # -- transactions -------------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        if write and self.read_only:
            raise StoreError(f"The store {self.path} was opened to be read, not written.", hint="This is a bug.")
        asked = time.perf_counter()
        if not take(self._lock):
            raise busy(self.path)
        try:
            with self._writer_turn(write):
                self._check_identity()
                connection = self._connection
                try:
                    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                except sqlite3.Error as error:
                    raise store_error(self.path, error) from error
                locked = time.perf_counter()
                try:
                    yield SQLiteTransaction(connection)
                    if write:
                        self._check_identity()
                    connection.execute("COMMIT")
                    if write:
                        self.telemetry.write_lock(locked - asked, time.perf_counter() - locked)
                except BaseException as error:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    if isinstance(error, sqlite3.Error):
                        raise store_error(self.path, error) from error
                    raise
        finally:
            self._lock.release()

    @contextmanager
    def _writer_turn(self, write: bool) -> Iterator[None]:
        """Queue writers on a file lock before SQLite's own: a waiting writer sleeps until the lock
        is released instead of polling SQLite's busy handler, which under many writers leaves
        the store idle between polls. The wait is bounded (`taskweave.store.waiting`)."""
        if not write or self._writers is None:
            yield
            return
        if not self._writers.acquire():
            raise busy(self.path)
        try:
            yield
        finally:
            self._writers.release()

    def close(self) -> None:
        with self._lock:
            self._connection.close()
            if self._writers is not None:
                self._writers.close()

    def describe(self) -> StoreDescription:
        return {"kind": "sqlite", "location": str(self.path), "schema_version": self.schema_version, "sync": self.sync}

    def snapshot_policy(self, environ: Mapping[str, str] = os.environ) -> SnapshotPolicy:
        from taskweave.store.snapshots import SnapshotPolicy

        return SnapshotPolicy.from_env(self, environ)

    # -- care ---------------------------------------------------------------

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
            version = self._schema_version()
            if version < SCHEMA_VERSION:
                return problems  # an older store is checked as it is; its upgrade comes with the next server
            if version != SCHEMA_VERSION or tx.meta("schema_version") != str(SCHEMA_VERSION):
                problems.append(f"schema version is {version}, expected {SCHEMA_VERSION}")
            problems += tx.consistency_problems()
        return problems

    def backup(self, target: str | None = None) -> BackupReport:
        """Copy the whole database in one step from a read snapshot: other writers never wait long.

        Without `target` the copy goes into the store's backups folder (`TASKWEAVE_BACKUP_DIR`).
        """
        if target is None:
            from taskweave.store.snapshots import backup_dir, backup_name

            target = str(backup_dir(self) / backup_name(self))
        destination = Path(target).expanduser().resolve()
        if destination == self.path or destination in companions(self.path):
            raise StoreError(
                f"The backup target {destination} is the store itself or one of its files.", hint="Give another file path."
            )
        refuse_companion(destination, "a backup's destination")
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            snapshot = sqlite3.connect(partial)
            try:
                with self._lock:
                    self._connection.backup(snapshot)
                snapshot.execute("PRAGMA journal_mode = DELETE")
                verdict = snapshot.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                snapshot.close()
        except sqlite3.Error as error:
            partial.unlink(missing_ok=True)
            raise store_error(destination, error, changed_nothing=False) from error
        if verdict != "ok":
            partial.unlink(missing_ok=True)
            raise StoreError(f"The snapshot failed its check: {verdict}.", hint="Run `taskweave check` on the store.")
        os.replace(partial, destination)
        return {"path": str(destination), "bytes": destination.stat().st_size, "taken_at": time.time()}

    def restore(self, source: str, *, force: bool = False) -> RestoreReport:
        """Replace the store's content with a verified snapshot, keeping the current content aside."""
        snapshot = Path(source).expanduser().resolve()
        if snapshot == self.path or snapshot in companions(self.path):
            raise StoreError(f"{snapshot} is the store itself or one of its files.", hint="Give a file `taskweave backup` wrote.")
        refuse_companion(snapshot, "restored from")
        version = verify_snapshot(snapshot)
        if not force and self.in_use_by_servers():
            raise StoreError(
                f"A taskweave server is using the store {self.path}.",
                hint="Stop the servers that use it (close the client windows, stop `taskweave serve --http`), "
                "or pass --force to restore under them.",
            )
        saved = self.backup(str(self.path.with_name(f"{self.path.name}.pre-restore-{int(time.time())}.bak")))
        source_connection = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            with self._lock:
                source_connection.backup(self._connection)
        except sqlite3.Error as error:
            raise store_error(self.path, error, changed_nothing=False) from error
        finally:
            source_connection.close()
        self._migrate()
        return {"restored_from": str(snapshot), "schema_version": version, "previous_content_saved_to": saved["path"]}

    # -- servers using the store ------------------------------------------------

    def _lock_file(self, suffix: str) -> IO[str]:
        """A companion file beside the store that processes lock to coordinate."""
        path = self.path.with_name(self.path.name + suffix)
        try:
            return open(path, "a")
        except OSError as error:
            raise StoreError(
                f"The lock file {path} cannot be opened: {error.strerror}.",
                hint="Make the store's directory writable for this user, or use another store.",
            ) from error

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark this process as a server using the store, for as long as it serves."""
        with self._lock_file(".users") as marker:
            fcntl.flock(marker, fcntl.LOCK_SH)
            yield

    def in_use_by_servers(self) -> bool:
        with self._lock_file(".users") as marker:
            try:
                fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(marker, fcntl.LOCK_UN)
        return False


def verify_snapshot(snapshot: Path) -> int:
    """The schema version of a snapshot that can be restored; a clear refusal otherwise."""
    if not snapshot.is_file():
        raise StoreError(f"There is no backup file {snapshot}.", hint="Give the path of a file `taskweave backup` wrote.")
    try:
        with open(snapshot, "rb") as file:
            if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise StoreError(f"{snapshot} is not a SQLite database.", hint="Give a file `taskweave backup` wrote.")
        connection = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise store_error(snapshot, error) from error
    if verdict != "ok":
        raise StoreError(f"The backup {snapshot} is damaged: {verdict}.", hint="Restore another backup.")
    if "store_meta" not in tables or version < 1:
        raise StoreError(f"{snapshot} is not a taskweave store.", hint="Give a file `taskweave backup` wrote.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The backup {snapshot} has schema version {version}, newer than this taskweave understands.",
            hint="Upgrade taskweave (pip install -U taskweave) before restoring it.",
        )
    return version


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("taskweave", appauthor=False) / "taskweave.db"


def open_sqlite(location: str | os.PathLike[str], *, read_only: bool = False) -> SQLiteStore:
    path = Path(location).expanduser()
    if path.is_dir():
        raise StoreError(
            f"The store path {path} is a directory.",
            hint="Give a file path, e.g. --store ~/taskweave.db.",
        )
    sync = os.environ.get("TASKWEAVE_SYNC", "normal").strip().lower()
    return SQLiteStore(path.resolve(), sync=sync, read_only=read_only)
