"""The SQLite store: its settings, its schema version, and the files it refuses to touch."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from taskweave.errors import StoreError
from taskweave.store import Transaction, open_store, store_location
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.store.sqlite import SQLiteStore, SQLiteTransaction


def test_new_store_uses_wal_and_records_its_schema(store_path: Path) -> None:
    store = SQLiteStore(store_path)
    try:
        with store.transaction(write=False) as tx:
            assert tx.meta("schema_version") == str(SCHEMA_VERSION)
            assert tx.one("PRAGMA journal_mode")["journal_mode"] == "wal"
            assert tx.one("PRAGMA busy_timeout")["timeout"] >= 5000
            assert tx.one("PRAGMA foreign_keys")["foreign_keys"] == 1
    finally:
        store.close()
    raw = sqlite3.connect(store_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_reopening_keeps_data(store_path: Path) -> None:
    store = SQLiteStore(store_path)
    with store.transaction() as tx:
        tx.set_meta("probe", "kept")
    store.close()
    store = SQLiteStore(store_path)
    with store.transaction(write=False) as tx:
        assert tx.meta("probe") == "kept"
    store.close()


def test_a_failed_transaction_leaves_nothing(store_path: Path) -> None:
    store = SQLiteStore(store_path)
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.set_meta("half", "done")
            raise RuntimeError("boom")
    with store.transaction(write=False) as tx:
        assert tx.meta("half") is None
    store.close()


def test_newer_schema_is_refused(store_path: Path) -> None:
    SQLiteStore(store_path).close()
    raw = sqlite3.connect(store_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer than this taskweave") as refused:
        SQLiteStore(store_path)
    assert "pip install -U taskweave" in refused.value.hint


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE notes (body TEXT)")
    raw.execute("INSERT INTO notes VALUES ('mine')")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="not a taskweave store"):
        SQLiteStore(path)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("notes",)]
    raw.close()


def test_directory_and_location_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        open_store(str(tmp_path))
    monkeypatch.setenv("TASKWEAVE_STORE", str(tmp_path / "env.db"))
    assert store_location(None) == str(tmp_path / "env.db")
    assert store_location("explicit.db") == "explicit.db"
    monkeypatch.delenv("TASKWEAVE_STORE")
    assert store_location(None).endswith("taskweave.db")


@pytest.mark.parametrize(
    ("read", "index"),
    [
        (lambda tx: tx.ready_tasks("s", 5), "tasks_ready"),
        (lambda tx: tx.ready_tasks("s", 5, specialist="tester"), "tasks_ready_by_specialist"),
        (lambda tx: tx.to_synthesize("s", 3), "tasks_to_synthesize"),
        (lambda tx: tx.query_tasks("s", words=["parser"], limit=10, offset=0, count_limit=1001), "INTEGER PRIMARY KEY"),
    ],
    ids=["ready", "ready-by-specialist", "to-synthesize", "text"],
)
def test_searches_read_the_index_made_for_them(
    store_path: Path, read: Callable[[Transaction], object], index: str
) -> None:
    """Without statistics SQLite's planner prefers the broader index by status, which walks every pending task
    (every blocked one, in a session blocked behind a gate) or, for text, every task of the session."""
    store = SQLiteStore(store_path)
    statements: list[tuple[str, Sequence[Any]]] = []
    execute = SQLiteTransaction._execute

    def recording(self: SQLiteTransaction, sql: str, params: Sequence[Any]) -> Any:
        statements.append((sql, params))
        return execute(self, sql, params)

    try:
        with store.transaction(write=False) as tx:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(SQLiteTransaction, "_execute", recording)
                read(tx)
            plans = [
                " ".join(row["detail"] for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", *params))
                for sql, params in statements
            ]
    finally:
        store.close()
    assert plans and all(index in plan for plan in plans), plans
