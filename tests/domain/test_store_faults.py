"""Faults from outside the store's own code: stopped lock holders, deleted and replaced files, slips with
paths, commands that must only read, skewed clocks, races between instances."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import Conflict, StoreBusy, StoreError
from taskweave.store import open_store, waiting
from taskweave.store.postgres import PostgresStore
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.store.sqlite import SQLiteStore
from taskweave.store.transfer import copy_location
from taskweave.workspace import Detection
from tests.support import agent, draft

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
def test_a_stopped_lock_holder_makes_writers_wait_a_bounded_time(
    store_path: Path, stopped_writer: subprocess.Popen[str], short_waits: float, workspace: Detection
) -> None:
    store = SQLiteStore(store_path)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="stayed locked by another process for 1 seconds") as refused:
            Orchestrator(store).sessions.initialize(workspace, client=agent("blocked"))
        assert short_waits <= time.monotonic() - started < short_waits + 3
        assert refused.value.code == "store_busy" and "fuser" in refused.value.hint
        with waiting.no_waiting(), pytest.raises(waiting.WouldBlock):
            with store.transaction():
                pass
        with store.transaction(write=False) as tx:
            assert tx.row_counts()["sessions"] == 0, "readers do not wait for writers"
    finally:
        store.close()
    stopped_writer.send_signal(signal.SIGCONT)
    stopped_writer.kill()
    stopped_writer.wait()
    with Orchestrator.open(str(store_path)) as orchestrator:
        assert orchestrator.sessions.initialize(workspace, client=agent("later"))["attached"] is False


def test_a_postgresql_row_held_by_a_stopped_client_is_waited_for_a_bounded_time(
    pg_url: str, short_waits: float, workspace: Detection
) -> None:
    with Orchestrator.open(pg_url) as orchestrator:
        init = orchestrator.sessions.initialize(workspace, client=agent("a"))
    holder = psycopg.connect(pg_url)
    holder.execute("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (init["session_id"],))
    try:
        with Orchestrator.open(pg_url) as orchestrator:
            started = time.monotonic()
            with pytest.raises(StoreBusy, match="locked by another client"):
                orchestrator.tasks.plan(init["session_id"], init["client_id"], draft("waits"))
            assert time.monotonic() - started < short_waits + 3
    finally:
        holder.close()


def test_a_deleted_or_replaced_store_file_stops_the_server_from_acknowledging(
    store_path: Path, workspace: Detection, tmp_path: Path
) -> None:
    with Orchestrator.open(str(store_path)) as orchestrator:
        init = orchestrator.sessions.initialize(workspace, client=agent("a"))
        store_path.unlink()
        with pytest.raises(StoreError, match="was deleted while this server was using it"):
            orchestrator.tasks.plan(init["session_id"], init["client_id"], draft("lost"))
        with pytest.raises(StoreError, match="was deleted"):
            orchestrator.sessions.status(init["session_id"])
    with pytest.raises(StoreError, match="is missing, but taskweave.db-wal beside it is still there") as refused:
        SQLiteStore(store_path)
    assert "move" in refused.value.hint and not store_path.exists()

    other = tmp_path / "other" / "taskweave.db"
    with Orchestrator.open(str(other)) as orchestrator:
        init = orchestrator.sessions.initialize(workspace, client=agent("b"))
        copy = other.with_name("copy.db")
        shutil.copyfile(other, copy)
        os.replace(copy, other)
        with pytest.raises(StoreError, match="was replaced by another file"):
            orchestrator.tasks.plan(init["session_id"], init["client_id"], draft("lost"))


def test_the_stores_own_files_are_never_backup_targets_nor_sources(store_path: Path, tmp_path: Path) -> None:
    SQLiteStore(store_path).close()
    store = SQLiteStore(store_path)
    try:
        log = store_path.with_name(store_path.name + "-wal")
        before = log.read_bytes()
        for companion in ("-wal", "-shm", ".writers", ".users"):
            target = str(store_path) + companion
            with pytest.raises(StoreError, match="the store itself or one of its files"):
                store.backup(target)
            with pytest.raises(StoreError, match="the store itself or one of its files"):
                store.restore(target)
        assert log.read_bytes() == before
    finally:
        store.close()
    with pytest.raises(StoreError, match="is the -wal file of the store"):
        SQLiteStore(Path(str(store_path) + "-wal"))


def test_commands_that_read_never_create_or_change_what_they_read(
    tmp_path: Path, pg_url: str, workspace: Detection
) -> None:
    missing = tmp_path / "nowhere" / "taskweave.db"
    with pytest.raises(StoreError, match="There is no store at"):
        open_store(str(missing), read_only=True)
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="an empty file"):
        copy_location(str(empty), pg_url)
    assert empty.read_bytes() == b""

    older = tmp_path / "older.db"
    connection = sqlite3.connect(older)
    connection.executescript((FIXTURES / "store-v2.sql").read_text())
    connection.execute("PRAGMA user_version = 2")
    connection.close()
    before = hashlib.sha256(older.read_bytes()).hexdigest()
    reader = open_store(str(older), read_only=True)
    try:
        assert reader.schema_version == 2 and reader.check() == []
    finally:
        reader.close()
    report = copy_location(str(older), pg_url)
    assert report.counts["tasks"] > 0
    assert hashlib.sha256(older.read_bytes()).hexdigest() == before, "the source is left as it was"
    copied = open_store(pg_url)
    try:
        assert copied.schema_version == SCHEMA_VERSION and copied.check() == []
    finally:
        copied.close()


def test_postgresql_leases_follow_the_databases_clock(pg_url: str, workspace: Detection) -> None:
    """Two instances, one on a machine whose clock runs 90 s ahead: its claims still see the others' leases."""
    honest = PostgresStore(pg_url)
    ahead = PostgresStore(pg_url, local_clock=lambda: time.time() + 90)
    try:
        assert abs(ahead.now() - honest.now()) < 1.0
        first, second = Orchestrator(honest), Orchestrator(ahead)
        init = first.sessions.initialize(workspace, client=agent("first"))
        other = second.sessions.initialize(workspace, client=agent("second"))
        task_id = first.tasks.plan(init["session_id"], init["client_id"], draft("contested"))["task_id"]
        first.work.execute(init["session_id"], init["client_id"], task_id, lease_seconds=60)
        with pytest.raises(Conflict, match="is claimed by client"):
            second.work.execute(other["session_id"], other["client_id"], task_id)
        skewed = Orchestrator(ahead, clock=lambda: time.time() + 90)
        stolen = skewed.work.execute(other["session_id"], other["client_id"], task_id)
        assert stolen["claim"]["client_id"] == other["client_id"], "what a machine's own clock would have done"
    finally:
        honest.close()
        ahead.close()


def test_racing_initializes_and_resumes_of_one_name_never_fail_initialize(pg_url: str, workspace: Detection) -> None:
    stores = [PostgresStore(pg_url) for _ in range(4)]
    try:
        setup = Orchestrator(stores[0])
        first = setup.sessions.initialize(workspace, client=agent("setup"))
        setup.sessions.end(first["session_id"], None)
        deadline = time.monotonic() + 3
        failures: list[str] = []

        def initialize(orchestrator: Orchestrator) -> None:
            while time.monotonic() < deadline:
                try:
                    result = orchestrator.sessions.initialize(workspace, client=agent("racer"))
                    orchestrator.sessions.end(result["session_id"], None)
                except Conflict:
                    pass
                except StoreError as error:
                    failures.append(error.message)

        def resume(orchestrator: Orchestrator) -> None:
            while time.monotonic() < deadline:
                try:
                    orchestrator.sessions.resume(first["session_id"], None)
                    orchestrator.sessions.end(first["session_id"], None)
                except Conflict:
                    pass
                except StoreError as error:
                    failures.append(error.message)

        threads = [threading.Thread(target=job, args=(Orchestrator(store),))
                   for job, store in zip((initialize, initialize, resume, resume), stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert stores[0].check() == []
    finally:
        for store in stores:
            store.close()
