"""A server that must not start says why and stops: a store it cannot open, a network bind without a token."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import SERVE, free_port, server_env


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda url: "postgresql://[broken", "malformed"),
        (lambda url: url.rsplit("/", 1)[0] + "/no_such_database", "does not exist"),
        (lambda url: f"postgresql://postgres@127.0.0.1:{free_port()}/db", "Cannot connect to PostgreSQL"),
    ],
    ids=["malformed-url", "missing-database", "server-down"],
)
def test_a_store_that_cannot_be_opened_stops_the_server_with_a_clear_message(
    pg_url: str, project: Path, make_url: Callable[[str], str], expected: str
) -> None:
    completed = subprocess.run(
        [*SERVE, "--store", make_url(pg_url)], input="", capture_output=True, text=True, cwd=project,
        env=server_env(), timeout=60,
    )
    assert completed.returncode == 1
    assert expected in completed.stderr and "hint:" in completed.stderr
    assert "Traceback" not in completed.stderr and completed.stdout == ""


def test_non_loopback_bind_without_token_is_refused(store_path: Path, project: Path) -> None:
    completed = subprocess.run(
        [*SERVE, "--store", str(store_path), "--http", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True, text=True, cwd=project, env=server_env(), timeout=60,
    )
    assert completed.returncode == 1
    assert "TASKWEAVE_TOKEN" in completed.stderr and "Traceback" not in completed.stderr
