"""SQLite failures are told apart by SQLite's own result codes, not by the words of their messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from taskweave.store.sqlite import store_error


def _error(action: object) -> sqlite3.Error:
    try:
        action()  # type: ignore[operator]
    except sqlite3.Error as error:
        return error
    raise AssertionError("no error")


def test_read_only_damaged_and_locked_stores_are_named(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()

    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert "is read-only" in store_error(path, _error(lambda: read_only.execute("INSERT INTO t VALUES (1)"))).message

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    assert "stayed locked" in store_error(path, _error(lambda: waiter.execute("BEGIN IMMEDIATE"))).message
    holder.execute("ROLLBACK")

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 200)
    broken = sqlite3.connect(garbage)
    damaged = store_error(garbage, _error(lambda: broken.execute("SELECT * FROM sqlite_master")))
    assert "is damaged" in damaged.message and "taskweave restore" in damaged.hint


def test_an_error_without_a_code_is_reported_as_it_is(tmp_path: Path) -> None:
    error = store_error(tmp_path / "x.db", sqlite3.ProgrammingError("Cannot operate on a closed database."))
    assert "failed: Cannot operate on a closed database." in error.message and error.hint
