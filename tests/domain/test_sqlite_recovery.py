"""The SQLite store keeps everything through backups under load, rotating snapshots, crashes mid-checkpoint and upgrades."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import StoreError
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.store.snapshots import SnapshotPolicy
from taskweave.store.sqlite import SQLiteStore, verify_snapshot
from taskweave.workspace import detect_workspace
from tests.support import agent, draft, populate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_backup_under_concurrent_writes_is_consistent(store_path: Path, project: Path, tmp_path: Path) -> None:
    init = populate(store_path, project)
    stop = threading.Event()

    def write() -> None:
        with Orchestrator.open(str(store_path)) as writer:
            while not stop.is_set():
                writer.tasks.plan(init["session_id"], init["client_id"], draft("during backup", ""), subtasks=[draft("a"), draft("b")])

    thread = threading.Thread(target=write)
    thread.start()
    try:
        store = SQLiteStore(store_path)
        sizes = []
        for index in range(5):
            taken = store.backup(str(tmp_path / f"snapshot-{index}.db"))
            assert verify_snapshot(Path(taken["path"])) == SCHEMA_VERSION
            snapshot = SQLiteStore(Path(taken["path"]))
            assert snapshot.check() == []
            with snapshot.transaction(write=False) as tx:
                sizes.append(tx.row_counts()["tasks"])
            snapshot.close()
        store.close()
    finally:
        stop.set()
        thread.join()
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0] >= 20


def test_automatic_snapshots_rotate(store_path: Path, project: Path, tmp_path: Path) -> None:
    populate(store_path, project, tasks=2)
    store = SQLiteStore(store_path)
    policy = SnapshotPolicy(store, interval_seconds=1, keep=3, directory=tmp_path / "auto")
    try:
        assert policy.take_if_due() is not None
        assert policy.take_if_due() is None, "not due yet"
        taken = []
        for index in range(5):
            old = policy.automatic_snapshots()[-1]
            os.utime(old, (old.stat().st_mtime - 10, old.stat().st_mtime - 10))
            with store.transaction() as tx:
                tx.set_meta("tick", str(index))
            taken.append(policy.take_if_due())
        assert all(taken)
        assert len(policy.automatic_snapshots()) == 3
        unchanged = policy.automatic_snapshots()[-1]
        os.utime(unchanged, (unchanged.stat().st_mtime + 1, unchanged.stat().st_mtime + 1))
        os.utime(store_path, (unchanged.stat().st_mtime - 20, unchanged.stat().st_mtime - 20))
        wal = store_path.with_name(store_path.name + "-wal")
        os.utime(wal, (unchanged.stat().st_mtime - 20, unchanged.stat().st_mtime - 20))
        os.utime(unchanged, (unchanged.stat().st_mtime - 10, unchanged.stat().st_mtime - 10))
        assert policy.take_if_due() is None, "nothing changed since the last snapshot"
    finally:
        store.close()
    with pytest.raises(Exception, match="TASKWEAVE_BACKUP_KEEP"):
        SnapshotPolicy.from_env(SQLiteStore(store_path), {"TASKWEAVE_BACKUP_KEEP": "many"})


def test_store_killed_mid_checkpoint_opens_whole(store_path: Path, project: Path, tmp_path: Path) -> None:
    """A crash while SQLite copies the write-ahead log into the file leaves the file shorter than its
    header says, with the missing pages still in the log: that store is whole and must open."""
    SQLiteStore(store_path).close()
    crashed = tmp_path / "crashed.db"
    with Orchestrator.open(str(store_path)) as orchestrator:
        init = orchestrator.sessions.initialize(detect_workspace(str(project)), client=agent("seed"))
        for i in range(30):
            orchestrator.tasks.plan(init["session_id"], init["client_id"], draft(f"task {i}", "x" * 8000))
        # What SIGKILL leaves behind: the file and its log as they are while the store is open.
        shutil.copyfile(store_path, crashed)
        shutil.copyfile(f"{store_path}-wal", f"{crashed}-wal")
    log = Path(f"{crashed}-wal").read_bytes()
    page_size = int.from_bytes(log[8:12], "big")
    frames = [log[offset:offset + 24 + page_size] for offset in range(32, len(log), 24 + page_size)]
    first_page = [frame[24:] for frame in frames if int.from_bytes(frame[:4], "big") == 1][-1]
    with open(crashed, "r+b") as file:  # the checkpoint had written page 1, and no page after it
        file.write(first_page)
    announced = int.from_bytes(first_page[28:32], "big") * page_size
    assert crashed.stat().st_size < announced

    store = SQLiteStore(crashed)
    try:
        assert store.check() == []
        with store.transaction(write=False) as tx:
            assert tx.status_counts(init["session_id"])["pending"] == 30
    finally:
        store.close()


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("store-v*.sql")), ids=lambda p: p.stem)
def test_upgrade_from_every_released_schema(fixture: Path, tmp_path: Path) -> None:
    version = int(fixture.stem.removeprefix("store-v"))
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(fixture.read_text())
    connection.execute(f"PRAGMA user_version = {version}")
    connection.close()
    store = SQLiteStore(path)
    try:
        assert store.check() == []
        with store.transaction(write=False) as tx:
            counts = tx.row_counts()
        assert counts["tasks"] > 0 and counts["events"] > 0 and counts["artifacts"] > 0
    finally:
        store.close()
    backups = list(tmp_path.glob("old.db.schema-v*.bak"))
    assert (len(backups) == 1) == (version < SCHEMA_VERSION)


def test_released_schema_fixture_is_current() -> None:
    """The newest fixture must be of the current schema version: cut a new one when the schema changes."""
    versions = [int(p.stem.removeprefix("store-v")) for p in FIXTURES.glob("store-v*.sql")]
    assert max(versions) == SCHEMA_VERSION


def test_durability_setting(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskweave.store.sqlite import open_sqlite

    monkeypatch.setenv("TASKWEAVE_SYNC", "full")
    store = open_sqlite(store_path)
    with store.transaction(write=False) as tx:
        assert tx.one("PRAGMA synchronous")["synchronous"] == 2
    store.close()
    monkeypatch.setenv("TASKWEAVE_SYNC", "sometimes")
    with pytest.raises(StoreError, match="durability"):
        open_sqlite(store_path)
