"""`taskweave migrate-store`: a whole store copied SQLite -> PostgreSQL -> SQLite, verified, never over data."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from taskweave.cli import main
from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import StoreError
from taskweave.store import Store, open_store, transfer
from taskweave.store.schema import TABLES
from taskweave.store.sqlite import SQLiteStore
from taskweave.workspace import Detection
from tests.support import agent, draft


def fill(store: Store, workspace: Detection) -> None:
    """A store with every kind of row: subtasks, dependencies, claims, artifacts, events, idempotency keys."""
    orchestrator = Orchestrator(store)
    init = orchestrator.sessions.initialize(workspace, client=agent("planner"))
    session_id, client_id = init["session_id"], init["client_id"]
    plan = orchestrator.tasks.plan(session_id, client_id, draft("parent", "100% done?"), subtasks=[draft(f"step {n}", dependencies=[n - 1] if n else []) for n in range(20)], idempotency_key="plan")
    first = plan["subtasks"][0]["task_id"]
    orchestrator.work.execute(session_id, client_id, first)
    orchestrator.work.complete(session_id, client_id, first, summary="ok", detailed_work="# long\n" * 100)
    orchestrator.work.execute(session_id, client_id, plan["subtasks"][1]["task_id"])
    orchestrator.reports.synthesize(session_id, client_id, parent_task_id=plan["task_id"])
    orchestrator.sessions.initialize(workspace, client=agent("second"), new_session=True)


def shared(row: dict[str, Any], own: frozenset[str] | tuple[()]) -> tuple[tuple[str, Any], ...]:
    """The row's columns that every store has, in order."""
    return tuple(sorted((column, value) for column, value in row.items() if column not in own))


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.transaction(write=False) as tx:
        return {
            table: sorted((shared(row, tx.own_columns.get(table, ())) for row in tx.all(f"SELECT * FROM {table}")), key=repr)
            for table in TABLES
            if table != "store_meta"
        }


def test_sqlite_to_postgresql_and_back_keeps_every_row(
    store_path: Path,
    tmp_path: Path,
    pg_url: str,
    workspace: Detection,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transfer, "BATCH_ROWS", 7)
    with closing(SQLiteStore(store_path)) as original:
        fill(original, workspace)
        rows = dump(original)

    assert main(["migrate-store", str(store_path), pg_url]) == 0
    summary = capsys.readouterr().out
    assert "row counts verified" in summary
    for table, content in rows.items():
        assert f"{table:<18} {len(content):>10,}" in summary
    with closing(open_store(pg_url)) as copied:
        assert dump(copied) == rows
        assert copied.check() == []

    back = tmp_path / "back" / "taskweave.db"
    assert main(["migrate-store", pg_url, str(back)]) == 0
    with closing(open_store(str(back))) as returned:
        assert dump(returned) == rows
        assert returned.check() == []
        again = Orchestrator(returned).sessions.initialize(workspace, client=agent("after the trip"))
        assert again["attached"] is True


def test_a_non_empty_destination_is_refused_unless_forced(
    store_path: Path, pg_url: str, workspace: Detection, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closing(SQLiteStore(store_path)) as source:
        fill(source, workspace)
        rows = dump(source)
    with closing(open_store(pg_url)) as destination:
        Orchestrator(destination).sessions.initialize(workspace, client=agent("already here"))
        before = dump(destination)

    assert main(["migrate-store", str(store_path), pg_url]) == 1
    assert "is not empty" in capsys.readouterr().err
    with closing(open_store(pg_url)) as destination:
        assert dump(destination) == before

    assert main(["migrate-store", str(store_path), pg_url, "--force"]) == 0
    with closing(open_store(pg_url)) as destination:
        assert dump(destination) == rows


def test_a_missing_source_or_the_same_store_twice_is_refused(store_path: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="There is no store at"):
        transfer.copy_location(str(missing), str(store_path))
    assert not missing.exists() and not store_path.exists()
    SQLiteStore(store_path).close()
    with pytest.raises(StoreError, match="are both"):
        transfer.copy_location(str(store_path), str(store_path))
