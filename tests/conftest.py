"""Shared fixtures: real stores (SQLite files and PostgreSQL), a hand-moved clock, a project to work in.

Tests about product behaviour take the `store` fixture, which runs them once on
a SQLite file and once on PostgreSQL. PostgreSQL tests share one database per
run (created at the first use, dropped at the end), and each test gets a
schema of its own in it: the store URL carries `search_path`, so a test sees
only its own tables. Without a reachable PostgreSQL the PostgreSQL half skips
and says why, except under `CI=true`, where it fails: CI must not pass by
skipping it. `TASKWEAVE_TEST_POSTGRES` names the admin URL (`tests/postgres.py`).

Tiers (see the README): `tests/unit`, `tests/domain` and `tests/mcp` run in
this process; `tests/e2e` starts a handful of real processes; `tests/dashboard`
drives the dashboard's processes with a real Chromium; `tests/soak`
(marked `soak`, not run by default) holds the long ones.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.store import open_store, waiting
from taskweave.store.sqlite import SQLiteStore
from taskweave.workspace import Detection, detect_workspace
from tests.postgres import admin_execute, database_url, require_postgres
from tests.support import Clock

STORES = ["sqlite", "postgres"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small git repository to work in."""
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (root / "src").mkdir()
    return root


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`project`, made this process's working directory: an in-process server's own directory."""
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A SQLite store file, for the tests about SQLite's own mechanics."""
    return tmp_path / "store" / "taskweave.db"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """This run's PostgreSQL database (its name); dropped at the end of the run."""
    require_postgres()
    name = f"taskweave_test_{secrets.token_hex(6)}"
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A store URL on an empty schema of its own, for the tests about PostgreSQL's own mechanics."""
    schema = f"t_{secrets.token_hex(6)}"
    admin_execute(f"CREATE SCHEMA {schema}", database=pg_database)
    try:
        yield database_url(pg_database) + "?options=" + quote(f"-csearch_path={schema}")
    finally:
        admin_execute(f"SET lock_timeout = '10s'; DROP SCHEMA {schema} CASCADE", database=pg_database)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A whole new database, for the few tests that work on a database as such (dump and restore)."""
    require_postgres()
    name = f"taskweave_test_{secrets.token_hex(6)}"
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store" / "taskweave.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store location, once a SQLite file path and once a PostgreSQL URL on a schema of its own."""
    return _store(request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.soak)])
def process_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """`store` for tests of many real processes: SQLite in the fast tiers, PostgreSQL too in the soak tier."""
    return _store(request, tmp_path)


@pytest.fixture
def workspace(project: Path) -> Detection:
    return detect_workspace(str(project))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def orchestrator(store: str, clock: Clock) -> Iterator[Orchestrator]:
    opened = open_store(store)
    try:
        yield Orchestrator(opened, clock=clock)
    finally:
        opened.close()


HOLD_WRITE_LOCK = """
import fcntl, sqlite3, sys, time
writers = open(sys.argv[1] + ".writers", "a")
fcntl.flock(writers, fcntl.LOCK_EX)
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(600)
"""


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> float:
    """Lock waits bounded at one second instead of the default, so the tests of the bound are quick."""
    monkeypatch.setattr(waiting, "LOCK_WAIT_SECONDS", 1.0)
    return 1.0


@pytest.fixture
def stopped_writer(store_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that took the SQLite store's write lock and was then stopped (SIGSTOP)."""
    SQLiteStore(store_path).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(store_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    holder.send_signal(signal.SIGSTOP)
    try:
        yield holder
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.kill()
        holder.wait()
