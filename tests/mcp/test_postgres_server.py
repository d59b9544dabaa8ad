"""Servers where PostgreSQL differs: LISTEN wake-ups across instances, connections lost under a server.

The workflows every store shares run on PostgreSQL through the `store` fixture
(test_workflow.py, test_http.py, ...).
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import mcp_types
import pytest

from tests.postgres import terminate_backends
from tests.support import call, connect, http_client, http_daemon, serving

pytestmark = pytest.mark.anyio


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_a_subscriber_hears_a_change_made_through_another_instance_within_a_second(
    pg_url: str, in_project: Path
) -> None:
    heard = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, mcp_types.ResourceUpdatedNotification):
            heard.set()

    async with serving(pg_url) as watching, http_daemon(pg_url) as url, connect(
        watching, message_handler=on_message
    ) as watcher, http_client(url, name="writer") as writer:
        init = await call(writer, "orchestrator_initialize_session", working_directory=str(in_project))
        task = await call(writer, "orchestrator_plan_task", title="t", description="d")
        await watcher.subscribe_resource(f"taskweave://tasks/{task['task_id']}")
        await anyio.sleep(0.5)
        await call(writer, "orchestrator_execute_task", task_id=task["task_id"], session_id=init["session_id"])
        changed_at = time.monotonic()
        with anyio.fail_after(5):
            await heard.wait()
        assert time.monotonic() - changed_at < 1.0


async def test_tools_work_again_after_the_connections_were_terminated(pg_url: str, in_project: Path) -> None:
    async with serving(pg_url) as app, connect(app) as client:
        await call(client, "orchestrator_initialize_session")
        assert terminate_backends(pg_url) >= 1
        await call(client, "orchestrator_plan_task", title="after the restart", description="d")
        status = await call(client, "orchestrator_get_status")
        assert status["counts"]["pending"] == 1
