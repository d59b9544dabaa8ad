"""Nothing lost, with real processes: backups and restores from the CLI, damaged stores, full disks, restarts."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.store.sqlite import SQLiteStore
from tests.support import SERVE, call, populate, server_env

IS_ROOT = os.geteuid() == 0


def taskweave(*args: str, store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskweave", *args, "--store", str(store)], capture_output=True, text=True,
        cwd=cwd, env=server_env(), timeout=120,
    )




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
        assert error is not None and "cannot be written" in error["message"], error
        assert "disk is full" in error["message"] and "size limit" in error["message"]
        assert "Nothing was changed" in error["hint"]
        counted = (await call(client, "orchestrator_query_tasks"))["total"]
        assert counted == accepted + 2

        server_pid = int(pid_file.read_text())
        resource.prlimit(server_pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        await call(client, "orchestrator_plan_task", title="after space returned", description="")
        assert (await call(client, "orchestrator_query_tasks"))["total"] == counted + 1
    assert SQLiteStore(store_path).check() == []
