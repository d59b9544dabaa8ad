"""Nothing lost: crashes, backups, restores, damaged stores, full disks, upgrades and reconnections."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from taskweave.core.service import Orchestrator
from taskweave.errors import StoreError
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.store.snapshots import SnapshotPolicy
from taskweave.store.sqlite import SQLiteStore, verify_snapshot
from taskweave.workspace import detect_workspace

from .conftest import SERVE, HttpServer, agent, call, http_client, server_env, stdio_client

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IS_ROOT = os.geteuid() == 0


def taskweave(*args: str, store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskweave", *args, "--store", str(store)], capture_output=True, text=True,
        cwd=cwd, env=server_env(), timeout=120,
    )


def populate(store_path: Path, project: Path, tasks: int = 20) -> dict:
    """Plan `tasks` tasks, in parents of up to 100 subtasks."""
    with Orchestrator.open(str(store_path)) as orchestrator:
        init = orchestrator.initialize_session(detect_workspace(str(project)), client=agent("seed"))
        while tasks > 0:
            batch = min(tasks, 101)
            orchestrator.plan_task(
                init["session_id"], init["client_id"], title="seed", description="",
                subtasks=[{"title": f"task {i}"} for i in range(batch - 1)],
            )
            tasks -= batch
    return init


def test_crash_cycles_lose_nothing(tmp_path: Path) -> None:
    """Servers killed with SIGKILL at random moments, 50 times over: every acknowledged write survives."""
    result_file = tmp_path / "crash.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_crash.py"), "--cycles", "50", "--writers", "2",
         "--json", str(result_file)],
        capture_output=True, text=True, env=server_env(), timeout=1200,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(result_file.read_text())
    assert result["cycles"] == 50 and result["acknowledged_tasks"] > 50 and result["acknowledged_completions"] > 10
    assert result["lost_tasks"] == 0 and result["lost_completions"] == 0
    assert result["store_problems"] == [] and result["taskweave_check_exit"] == 0


def test_backup_under_concurrent_writes_is_consistent(store_path: Path, project: Path, tmp_path: Path) -> None:
    init = populate(store_path, project)
    stop = threading.Event()

    def write() -> None:
        with Orchestrator.open(str(store_path)) as writer:
            while not stop.is_set():
                writer.plan_task(init["session_id"], init["client_id"], title="during backup", description="",
                                 subtasks=[{"title": "a"}, {"title": "b"}])

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


def test_backup_and_restore_through_the_cli(store_path: Path, project: Path, tmp_path: Path) -> None:
    populate(store_path, project, tasks=5)
    snapshot = tmp_path / "before.db"
    backed_up = taskweave("backup", str(snapshot), store=store_path, cwd=project)
    assert backed_up.returncode == 0 and "Backed up" in backed_up.stdout
    populate(store_path, project, tasks=7)

    with Orchestrator.open(str(store_path)) as orchestrator, orchestrator.store.serving():
        refused = taskweave("restore", str(snapshot), store=store_path, cwd=project)
    assert refused.returncode == 1 and "server is using the store" in refused.stderr and "--force" in refused.stderr

    restored = taskweave("restore", str(snapshot), store=store_path, cwd=project)
    assert restored.returncode == 0, restored.stderr
    check = taskweave("check", "--json", store=store_path, cwd=project)
    report = json.loads(check.stdout)
    assert report["ok"] and report["counts"]["tasks"] == 5
    saved = restored.stdout.split("saved in ")[1].strip().rstrip(".")
    assert SQLiteStore(Path(saved)).check() == []

    default = taskweave("backup", store=store_path, cwd=project)
    assert default.returncode == 0 and str(store_path.parent / "backups") in default.stdout


def test_restoring_a_damaged_or_foreign_file_is_refused(store_path: Path, project: Path, tmp_path: Path) -> None:
    populate(store_path, project, tasks=3)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE notes (body TEXT)").connection.commit()
    missing = taskweave("restore", str(tmp_path / "missing.db"), store=store_path, cwd=project)
    assert missing.returncode == 1 and "no backup file" in missing.stderr
    wrong = taskweave("restore", str(foreign), store=store_path, cwd=project)
    assert wrong.returncode == 1 and "not a taskweave store" in wrong.stderr
    assert json.loads(taskweave("check", "--json", store=store_path, cwd=project).stdout)["counts"]["tasks"] == 3


def test_automatic_snapshots_rotate(store_path: Path, project: Path, tmp_path: Path) -> None:
    populate(store_path, project, tasks=2)
    store = SQLiteStore(store_path)
    policy = SnapshotPolicy(interval_seconds=1, keep=3, directory=tmp_path / "auto")
    try:
        assert policy.take_if_due(store) is not None
        assert policy.take_if_due(store) is None, "not due yet"
        taken = []
        for index in range(5):
            old = policy.automatic_snapshots(store)[-1]
            os.utime(old, (old.stat().st_mtime - 10, old.stat().st_mtime - 10))
            with store.transaction() as tx:
                tx.set_meta("tick", str(index))
            taken.append(policy.take_if_due(store))
        assert all(taken)
        assert len(policy.automatic_snapshots(store)) == 3
        unchanged = policy.automatic_snapshots(store)[-1]
        os.utime(unchanged, (unchanged.stat().st_mtime + 1, unchanged.stat().st_mtime + 1))
        os.utime(store_path, (unchanged.stat().st_mtime - 20, unchanged.stat().st_mtime - 20))
        wal = store_path.with_name(store_path.name + "-wal")
        os.utime(wal, (unchanged.stat().st_mtime - 20, unchanged.stat().st_mtime - 20))
        os.utime(unchanged, (unchanged.stat().st_mtime - 10, unchanged.stat().st_mtime - 10))
        assert policy.take_if_due(store) is None, "nothing changed since the last snapshot"
    finally:
        store.close()
    with pytest.raises(Exception, match="TASKWEAVE_BACKUP_KEEP"):
        SnapshotPolicy.from_env(SQLiteStore(store_path), {"TASKWEAVE_BACKUP_KEEP": "many"})


def server_start(store: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVE, "--store", str(store)], input="", capture_output=True, text=True, cwd=cwd,
        env=server_env(**env), timeout=60,
    )


def test_truncated_store_is_refused_and_untouched(store_path: Path, project: Path) -> None:
    populate(store_path, project, tasks=200)
    SQLiteStore(store_path).close()
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 2])
    completed = server_start(store_path, project)
    assert completed.returncode == 1 and "truncated" in completed.stderr and "taskweave restore" in completed.stderr
    assert store_path.read_bytes() == data[: len(data) // 2]


def test_store_killed_mid_checkpoint_opens_whole(store_path: Path, project: Path, tmp_path: Path) -> None:
    """A crash while SQLite copies the write-ahead log into the file leaves the file shorter than its
    header says, with the missing pages still in the log: that store is whole and must open."""
    SQLiteStore(store_path).close()
    crashed = tmp_path / "crashed.db"
    with Orchestrator.open(str(store_path)) as orchestrator:
        init = orchestrator.initialize_session(detect_workspace(str(project)), client=agent("seed"))
        for i in range(60):
            orchestrator.plan_task(init["session_id"], init["client_id"], title=f"task {i}", description="x" * 2000)
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
            assert tx.status_counts(init["session_id"])["pending"] == 60
    finally:
        store.close()


def test_corrupted_store_refuses_or_fails_writes_clearly(store_path: Path, project: Path) -> None:
    populate(store_path, project, tasks=300)
    SQLiteStore(store_path).close()
    with open(store_path, "r+b") as file:
        file.seek(4096 + 100)
        file.write(os.urandom(4096 * 6))
    completed = server_start(store_path, project)
    check = taskweave("check", store=store_path, cwd=project)
    assert check.returncode == 1
    assert "damaged" in (completed.stderr + check.stdout + check.stderr) or "problem" in check.stdout
    assert "Traceback" not in completed.stderr + check.stderr


def run_without_override(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run with file permissions enforced: root's override of them is dropped for the child."""
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if IS_ROOT else []
    return subprocess.run([*prefix, *args], input="", capture_output=True, text=True, cwd=cwd, env=server_env(),
                          timeout=60)


@pytest.mark.skipif(IS_ROOT and not shutil.which("setpriv"), reason="root needs setpriv to have permissions enforced")
def test_unreadable_and_read_only_stores(store_path: Path, project: Path) -> None:
    populate(store_path, project, tasks=3)
    SQLiteStore(store_path).close()
    store_path.chmod(0o000)
    try:
        unreadable = run_without_override([*SERVE, "--store", str(store_path)], cwd=project)
    finally:
        store_path.chmod(0o644)
    assert unreadable.returncode == 1 and "cannot be read" in unreadable.stderr, unreadable.stderr

    store_path.chmod(0o444)
    store_path.parent.chmod(0o555)
    try:
        read_only = run_without_override([*SERVE, "--store", str(store_path)], cwd=project)
        check = run_without_override([sys.executable, "-m", "taskweave", "check", "--store", str(store_path)], cwd=project)
    finally:
        store_path.parent.chmod(0o755)
        store_path.chmod(0o644)
    assert read_only.returncode == 1 and "read-only" in read_only.stderr, read_only.stderr
    assert "Traceback" not in read_only.stderr + check.stderr
    assert SQLiteStore(store_path).check() == []


@pytest.mark.anyio
async def test_a_full_disk_fails_writes_cleanly_and_recovers_without_restart(
    store_path: Path, project: Path, tmp_path: Path
) -> None:
    """The file-size limit the test sets on the server process stands in for a full disk."""
    populate(store_path, project, tasks=2)
    SQLiteStore(store_path).close()
    limit = store_path.stat().st_size + 64 * 1024
    pid_file = tmp_path / "server.pid"

    import mcp_types
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    wrapper = (
        "import os, resource, runpy, sys\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))\n"
        "sys.argv = ['taskweave', *sys.argv[1:]]\n"
        "runpy.run_module('taskweave', run_name='__main__')\n"
    )
    params = StdioServerParameters(
        command=sys.executable, args=["-c", wrapper, "serve", "--store", str(store_path)], cwd=str(project),
        env=server_env(TASKWEAVE_BACKUP_INTERVAL="0"),
    )
    async with Client(params, mode="legacy", client_info=mcp_types.Implementation(name="filler", version="1")) as client:
        await call(client, "orchestrator_initialize_session")
        accepted = 0
        error = None
        for _ in range(500):
            result = await client.call_tool("orchestrator_plan_task", {"title": "fill", "description": "x" * 10_000})
            if result.is_error:
                error = json.loads(result.content[0].text)["error"]
                break
            accepted += 1
        assert error is not None and "disk is full" in error["message"], error
        assert "Nothing was changed" in error["hint"]
        counted = (await call(client, "orchestrator_query_tasks"))["total"]
        assert counted == accepted + 2

        server_pid = int(pid_file.read_text())
        resource.prlimit(server_pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        await call(client, "orchestrator_plan_task", title="after space returned", description="")
        assert (await call(client, "orchestrator_query_tasks"))["total"] == counted + 1
    assert SQLiteStore(store_path).check() == []


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


@pytest.mark.anyio
async def test_http_daemon_restart_gives_404_and_reattaches_with_claims(store: str, project: Path) -> None:
    server = HttpServer(store, project)
    port = server.port
    try:
        async with http_client(server.url) as client:
            init = await call(client, "orchestrator_initialize_session", working_directory=str(project))
            task_id = (await call(client, "orchestrator_plan_task", title="t", description=""))["task_id"]
            await call(client, "orchestrator_execute_task", task_id=task_id)
            server.stop()
            server = HttpServer(store, project, port=port)
            with pytest.raises(Exception) as lost:
                await client.call_tool("orchestrator_get_status", {})
            assert "404" in str(lost.value) or "ession" in str(lost.value)
        async with http_client(server.url) as client:
            again = await call(client, "orchestrator_initialize_session", working_directory=str(project),
                               client_id=init["client_id"])
            assert again["session_id"] == init["session_id"] and again["your_claims"] == [task_id]
            done = await call(client, "orchestrator_complete_task", task_id=task_id, summary="finished after restart")
            assert done["status"] == "completed"
    finally:
        server.stop()


@pytest.mark.anyio
async def test_stdio_respawn_finds_the_session_exactly_as_it_was(store: str, project: Path) -> None:
    async with stdio_client(store, project) as client:
        init = await call(client, "orchestrator_initialize_session")
        plan = await call(client, "orchestrator_plan_task", title="p", description="",
                          subtasks=[{"title": "a"}, {"title": "b", "dependencies": [0]}])
        await call(client, "orchestrator_execute_task", task_id=plan["subtasks"][0]["task_id"])
        before = await call(client, "orchestrator_get_status", include_completed=True, since=0)
    async with stdio_client(store, project) as client:
        after = await call(client, "orchestrator_get_status", include_completed=True, since=0)
    for volatile in ("clients", "last_activity_at", "last_event_seq", "events"):
        before.pop(volatile), after.pop(volatile)
    assert after == before and after["session_id"] == init["session_id"]
