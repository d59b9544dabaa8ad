"""The PostgreSQL store's own mechanics on a real server: schema, refusals, locking, wake-ups, recovery.

Each test gets a schema of its own (`pg_url`, see conftest.py: skipped without
a reachable PostgreSQL, failed under `CI=true`). The product behaviour every
store shares runs on PostgreSQL through the `store` fixture instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import StoreError
from taskweave.store import open_store
from taskweave.store.postgres import PostgresStore, to_psycopg
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.workspace import Detection
from tests.postgres import terminate_backends
from tests.support import agent, draft, free_port


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    try:
        yield store
    finally:
        store.close()


def start(orchestrator: Orchestrator, workspace: Detection) -> tuple[str, str]:
    result = orchestrator.sessions.initialize(workspace, client=agent("planner"))
    return result["session_id"], result["client_id"]


# -- the store itself -------------------------------------------------------


def test_placeholders_become_psycopg_ones_and_literals_stay() -> None:
    assert to_psycopg("SELECT * FROM t WHERE a = ? AND b LIKE ?") == "SELECT * FROM t WHERE a = %s AND b LIKE %s"
    assert to_psycopg("SELECT '100%?', 'it''s ?' FROM t WHERE x = ? % 2") == (
        "SELECT '100%%?', 'it''s ?' FROM t WHERE x = %s %% 2"
    )


def test_new_store_records_its_schema_and_reopening_keeps_data(pg_url: str) -> None:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    with store.transaction() as tx:
        assert tx.meta("schema_version") == str(SCHEMA_VERSION)
        tx.set_meta("probe", "kept")
    assert store.check() == []
    store.close()
    store = open_store(pg_url.replace("postgresql://", "postgres://"))
    with store.transaction(write=False) as tx:
        assert tx.meta("probe") == "kept"
    store.close()


def test_a_failed_transaction_leaves_nothing(pg_store: PostgresStore) -> None:
    with pytest.raises(RuntimeError):
        with pg_store.transaction() as tx:
            tx.set_meta("half", "done")
            raise RuntimeError("boom")
    with pytest.raises(StoreError, match="refused a statement"):
        with pg_store.transaction() as tx:
            tx.run("SELECT no_such_column FROM store_meta")
    with pg_store.transaction(write=False) as tx:
        assert tx.meta("half") is None


def test_read_transactions_are_read_only(pg_store: PostgresStore) -> None:
    with pytest.raises(StoreError, match="read-only"):
        with pg_store.transaction(write=False) as tx:
            tx.set_meta("sneaky", "write")


def test_newer_schema_is_refused(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("UPDATE store_meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this taskweave") as refused:
        PostgresStore(pg_url)
    assert "pip install -U taskweave" in refused.value.hint


def test_upgrade_from_schema_v1_counts_every_task(pg_url: str, workspace: Detection) -> None:
    """Schema v1 had no counters: the upgrade counts every task per session, and every subtask and dependency."""
    with Orchestrator.open(pg_url) as orchestrator:
        session_id, client_id = start(orchestrator, workspace)
        for i in range(4):
            orchestrator.tasks.plan(session_id, client_id, draft(f"task {i}", ""))
        claimed = orchestrator.work.execute(session_id, client_id)["task"]["task_id"]
        orchestrator.work.complete(session_id, client_id, task_id=claimed, summary="done")
        orchestrator.work.execute(session_id, client_id)
        plan = orchestrator.tasks.plan(session_id, client_id, draft("parent"), subtasks=[draft("a"), draft("b", dependencies=[0])])
    with psycopg.connect(pg_url, autocommit=True) as connection:  # back to what schema version 1 looked like
        for status in ("pending", "in_progress", "blocked", "completed", "failed", "cancelled"):
            connection.execute(f"ALTER TABLE sessions DROP COLUMN tasks_{status}")
            connection.execute(f"ALTER TABLE sessions DROP COLUMN parents_{status}")
        connection.execute("DROP INDEX tasks_by_status_seq")
        connection.execute("DROP TABLE messages")
        connection.execute("DROP INDEX tasks_claimed")
        connection.execute("DROP INDEX tasks_by_specialist")
        connection.execute("DROP INDEX tasks_by_status_update")
        connection.execute("ALTER TABLE tasks DROP COLUMN text_words")  # with its index
        for column in ("children", "open_children", "waiting_on", "claim_paths", "claim_lost_by"):
            connection.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
        connection.execute("ALTER TABLE sessions DROP COLUMN message_seq")
        connection.execute("ALTER TABLE sessions DROP COLUMN specialist_messages_waiting")
        connection.execute("ALTER TABLE clients DROP COLUMN message_seq")
        connection.execute("ALTER TABLE clients DROP COLUMN principal")
        connection.execute("UPDATE store_meta SET value = '1' WHERE key = 'schema_version'")
    store = PostgresStore(pg_url)
    try:
        assert store.check() == []
        with store.transaction(write=False) as tx:
            assert tx.meta("schema_version") == str(SCHEMA_VERSION)
            assert tx.status_counts(session_id) == {
                "pending": 5, "in_progress": 1, "blocked": 0, "completed": 1, "failed": 0, "cancelled": 0
            }
            assert tx.work_counts(session_id)["pending"] == 4, "the parent is counted apart"
            ready = {t["id"] for t in tx.ready_tasks(session_id, 10)}
            first, second = (s["task_id"] for s in plan["subtasks"])
            assert first in ready and second not in ready and plan["task_id"] not in ready
    finally:
        store.close()


def test_foreign_database_is_refused_and_untouched(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(StoreError, match="not a taskweave store"):
        PostgresStore(pg_url)
    with psycopg.connect(pg_url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == [("notes",)]


def test_check_reports_broken_invariants(pg_store: PostgresStore, workspace: Detection) -> None:
    session_id, _ = start(Orchestrator(pg_store), workspace)
    with pg_store.transaction() as tx:
        tx.run("UPDATE sessions SET last_event_seq = last_event_seq + 5 WHERE id = ?", session_id)
    assert any("event log" in problem for problem in pg_store.check())


def test_describe_and_backup_never_show_the_password(pg_url: str) -> None:
    with_password = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    store = PostgresStore(with_password)
    try:
        assert store.describe()["kind"] == "postgresql"
        assert "s3cret" not in str(store.describe())
        with pytest.raises(StoreError, match="PostgreSQL's own tools") as refused:
            store.backup("taskweave.dump")
        database = urlsplit(pg_url).path.lstrip("/")
        assert "pg_dump -Fc" in refused.value.hint and "pg_restore" in refused.value.hint
        assert database in refused.value.hint and "s3cret" not in refused.value.hint
        with pytest.raises(StoreError, match="restored with PostgreSQL's own tools") as refused:
            store.restore("taskweave.dump")
        assert "pg_restore" in refused.value.hint and "s3cret" not in refused.value.hint
    finally:
        store.close()


@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")) and os.environ.get("CI") != "true",
    reason="needs pg_dump and pg_restore (required under CI=true)",
)
def test_the_documented_dump_and_restore_bring_a_store_back(
    pg_store: PostgresStore, pg_url: str, fresh_database: str, workspace: Detection, tmp_path: Path
) -> None:
    session_id, _ = start(Orchestrator(pg_store), workspace)
    dump = tmp_path / "taskweave.dump"
    subprocess.run(["pg_dump", "-Fc", "-d", pg_store.location.url, "-f", str(dump)], check=True)
    subprocess.run(["pg_restore", "--clean", "--if-exists", "-d", fresh_database, str(dump)], check=True)
    restored = PostgresStore(f"{fresh_database}?{urlsplit(pg_url).query}")
    try:
        assert restored.check() == []
        assert Orchestrator(restored).sessions.status(session_id)["last_event_seq"] == 2
    finally:
        restored.close()


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda url: "postgresql://[broken/db", "malformed"),
        (lambda url: "postgresql://127.0.0.1:port/db", "malformed: the port 'port' is not a number"),
        (lambda url: "postgresql:/127.0.0.1/db", "looks like a URL"),
        (lambda url: url.replace("postgresql://postgres@", "postgresql://no_such_role:pw@"), "refused the login"),
        (lambda url: url.rsplit("/", 1)[0] + "/no_such_database", "'no_such_database' does not exist"),
        (lambda url: f"postgresql://postgres@127.0.0.1:{free_port()}/db", "Cannot connect to PostgreSQL"),
    ],
    ids=["malformed-url", "bad-port", "missing-slash", "unknown-role", "missing-database", "server-down"],
)
def test_bad_locations_get_clear_errors(pg_url: str, make_url: Callable[[str], str], expected: str) -> None:
    with pytest.raises(StoreError, match=expected) as refused:
        open_store(make_url(pg_url))
    assert refused.value.hint
    assert "pw" not in refused.value.message.split("refused the login")[0]


# -- concurrency across instances ---------------------------------------------


def hammer(*calls: Callable[[], object], seconds: float = 3.0) -> list[str]:
    """Run every call over and over, two threads each, for `seconds`; the store errors they met."""
    deadline = time.monotonic() + seconds
    failures: list[str] = []

    def repeat(call: Callable[[], object]) -> None:
        while time.monotonic() < deadline:
            try:
                call()
            except StoreError as error:
                failures.append(error.message)

    with ThreadPoolExecutor(2 * len(calls)) as pool:
        list(pool.map(repeat, calls * 2))
    return failures


def test_a_client_reattaching_while_it_claims_never_deadlocks(pg_url: str, workspace: Detection) -> None:
    first, second = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        attach, claim = Orchestrator(first), Orchestrator(second)
        session_id, client_id = start(attach, workspace)
        task_id = attach.tasks.plan(session_id, client_id, draft("t", ""))["task_id"]
        failures = hammer(
            lambda: attach.sessions.initialize(workspace, client=agent("planner"), client_id=client_id),
            lambda: claim.work.execute(session_id, client_id, task_id),
        )
        assert failures == []
    finally:
        first.close()
        second.close()


def test_clients_initializing_while_others_plan_never_deadlock(pg_url: str, workspace: Detection) -> None:
    """Attaching locks the workspace row; a plan with subtasks updates its session row more than once,
    and from the second update on PostgreSQL checks the session's foreign key to that workspace row."""
    first, second = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        attach, plan = Orchestrator(first), Orchestrator(second)
        session_id, client_id = start(attach, workspace)
        failures = hammer(
            lambda: attach.sessions.initialize(workspace, client=agent("newcomer")),
            lambda: plan.tasks.plan(session_id, client_id, draft("t", ""), subtasks=[draft("s")]),
        )
        assert failures == []
    finally:
        first.close()
        second.close()


def test_a_waiter_hears_a_change_made_through_another_instance(pg_url: str, workspace: Detection) -> None:
    waiter, writer = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        started = time.monotonic()
        waiter.wait_for_change(0.3)
        assert time.monotonic() - started >= 0.25, "without a change the wait lasts its timeout"
        timer = threading.Timer(0.3, lambda: Orchestrator(writer).sessions.initialize(workspace, client=agent("w")))
        timer.start()
        started = time.monotonic()
        waiter.wait_for_change(10)
        assert time.monotonic() - started < 0.3 + 1.0, "woken within a second of the change"
        timer.join()
    finally:
        waiter.close()
        writer.close()


def test_every_waiter_of_one_store_hears_a_change(pg_url: str, workspace: Detection) -> None:
    """In the daemon the MCP notifier and the dashboard wait at once: one notification wakes both."""
    waiter, writer = PostgresStore(pg_url), PostgresStore(pg_url)
    woken: list[float] = []
    try:
        waiter.wait_for_change(0.01)  # the listening connection is open before the change
        threads = [threading.Thread(target=lambda: (waiter.wait_for_change(10), woken.append(time.monotonic())))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        changed = time.monotonic()
        Orchestrator(writer).sessions.initialize(workspace, client=agent("w"))
        for thread in threads:
            thread.join(15)
        assert len(woken) == 3 and max(woken) - changed < 1.0, [round(t - changed, 2) for t in woken]
    finally:
        waiter.close()
        writer.close()


# -- connection loss ------------------------------------------------------------


def test_calls_work_again_after_every_connection_was_terminated(pg_store: PostgresStore, workspace: Detection) -> None:
    orchestrator = Orchestrator(pg_store)
    session_id, client_id = start(orchestrator, workspace)
    pg_store.wait_for_change(0.01)
    assert terminate_backends(pg_store.location.url) >= 2
    task_id = orchestrator.tasks.plan(session_id, client_id, draft("after the restart", ""))["task_id"]
    assert orchestrator.sessions.status(session_id)["tasks"]["ready"][0]["task_id"] == task_id
    pg_store.wait_for_change(0.01)
    assert terminate_backends(pg_store.location.url) >= 1
    pg_store.wait_for_change(0.01)
    pg_store.wait_for_change(0.01)
    assert pg_store.check() == []


class Relay:
    """A TCP relay in front of PostgreSQL that a test can cut and restore, like a server going down and up."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self.start()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._sockets = [listener]
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [downstream, upstream]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_calls_fail_cleanly_while_postgresql_is_down_and_work_when_it_is_back(pg_url: str, workspace: Detection) -> None:
    parts = urlsplit(pg_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    store = PostgresStore(pg_url.replace(f":{parts.port}/", f":{relay.port}/"), pool_timeout=2)
    try:
        orchestrator = Orchestrator(store)
        session_id, client_id = start(orchestrator, workspace)
        relay.stop()
        for _ in range(3):
            with pytest.raises(StoreError) as failure:
                orchestrator.tasks.plan(session_id, client_id, draft("while down", ""))
            assert "PostgreSQL" in failure.value.message and failure.value.hint
        relay.start()
        orchestrator.tasks.plan(session_id, client_id, draft("back", ""))
        assert orchestrator.sessions.status(session_id)["counts"]["pending"] == 1
    finally:
        store.close()
        relay.stop()


def test_the_durability_setting_is_synchronous_commit(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskweave.store.postgres import open_postgres

    for setting, expected in [("normal", "off"), ("full", "on"), ("", "on")]:
        monkeypatch.setenv("TASKWEAVE_SYNC", setting)
        store = open_postgres(pg_url)
        try:
            with store.transaction() as tx:
                assert tx.one("SHOW synchronous_commit")["synchronous_commit"] == expected, setting
            assert store.describe().get("sync") == (setting or None)
        finally:
            store.close()
    monkeypatch.setenv("TASKWEAVE_SYNC", "sometimes")
    with pytest.raises(StoreError, match="durability"):
        open_postgres(pg_url)
