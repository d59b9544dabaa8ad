"""A server that must not start says why and stops: a store it cannot open, a network bind without a token."""

from __future__ import annotations

import json
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


def test_a_stdio_server_imports_neither_the_daemon_nor_another_store(
    store_path: Path, project: Path, tmp_path: Path
) -> None:
    """What every client window pays at start: no metrics library, no dashboard, no PostgreSQL driver."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "orchestrator_initialize_session", "arguments": {}}},
    ]
    log = tmp_path / "imports.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [SERVE[0], "-X", "importtime", *SERVE[1:], "--store", str(store_path)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=project, env=server_env(),
        )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("".join(json.dumps(message) + "\n" for message in messages))
    server.stdin.flush()
    answers = [json.loads(server.stdout.readline()) for _ in range(2)]
    server.stdin.close()
    server.wait(timeout=60)
    assert answers[1]["id"] == 2 and not answers[1]["result"]["isError"], answers
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in log.read_text().splitlines() if "|" in line}
    assert "mcp" in imported and "sqlite3" in imported, "the probe sees the imports"
    assert imported.isdisjoint({"prometheus_client", "psycopg", "psycopg_pool", "jinja2"}), imported
