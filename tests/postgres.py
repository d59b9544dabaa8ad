"""PostgreSQL for the tests: the admin connection, and a test's way to act on the server directly."""

from __future__ import annotations

import functools
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ADMIN_URL = os.environ.get("TASKWEAVE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@functools.cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None; asked once per run."""
    try:
        psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        return f"PostgreSQL is not reachable at {ADMIN_URL} ({' '.join(str(error).split())})"
    return None


def require_postgres() -> None:
    if reason := _postgres_unreachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


def admin_execute(sql: str, *, database: str | None = None) -> None:
    with psycopg.connect(database_url(database) if database else ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(sql)  # type: ignore[arg-type]


def admin_query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]


def terminate_backends(url: str) -> int:
    """Kill every connection to the test database, as a PostgreSQL restart would."""
    database = urlsplit(url).path.lstrip("/")
    rows = admin_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        database,
    )
    return len(rows)
