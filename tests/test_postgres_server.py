"""Real `taskweave serve` processes where PostgreSQL differs: LISTEN wake-ups, lost connections, bad URLs.

The workflows every store shares run on PostgreSQL through the `store` fixture
(test_stdio.py, test_http.py, ...).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import anyio
import mcp_types
import pytest

from .conftest import SERVE, HttpServer, call, free_port, http_client, server_env, stdio_client
from .test_postgres import terminate_backends

pytestmark = pytest.mark.anyio


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_a_subscriber_hears_a_change_made_through_another_instance_within_a_second(
    pg_url: str, project: Path
) -> None:
    heard = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, mcp_types.ResourceUpdatedNotification):
            heard.set()

    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=SERVE[0], args=[*SERVE[1:], "--store", pg_url], cwd=str(project), env=server_env()
    )
    daemon = HttpServer(pg_url, project)
    try:
        async with Client(params, mode="legacy", message_handler=on_message) as watcher, http_client(
            daemon.url, name="writer"
        ) as writer:
            init = await call(writer, "orchestrator_initialize_session", working_directory=str(project))
            task = await call(writer, "orchestrator_plan_task", title="t", description="d")
            await watcher.subscribe_resource(f"taskweave://tasks/{task['task_id']}")
            await anyio.sleep(0.5)
            await call(writer, "orchestrator_execute_task", task_id=task["task_id"], session_id=init["session_id"])
            changed_at = time.monotonic()
            with anyio.fail_after(5):
                await heard.wait()
            assert time.monotonic() - changed_at < 1.0
    finally:
        daemon.stop()


async def test_tools_work_again_after_the_connections_were_terminated(pg_url: str, project: Path) -> None:
    async with stdio_client(pg_url, project) as client:
        await call(client, "orchestrator_initialize_session")
        assert terminate_backends(pg_url) >= 1
        await call(client, "orchestrator_plan_task", title="after the restart", description="d")
        status = await call(client, "orchestrator_get_status")
        assert status["counts"]["pending"] == 1


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
    pg_url: str, project: Path, make_url, expected: str
) -> None:
    completed = subprocess.run(
        [*SERVE, "--store", make_url(pg_url)], input="", capture_output=True, text=True, cwd=project,
        env=server_env(), timeout=60,
    )
    assert completed.returncode == 1
    assert expected in completed.stderr and "hint:" in completed.stderr
    assert "Traceback" not in completed.stderr and completed.stdout == ""
