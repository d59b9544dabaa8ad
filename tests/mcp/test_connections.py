"""Connections to servers sharing one store: disconnects, reconnects, retries after a restart, change streams.

Each `serving(store)` is one server process as far as the store can tell (its
own connection to it); the official client talks to it in memory.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from tests.support import call, call_error, connect, serving

pytestmark = pytest.mark.anyio


async def test_a_closed_connection_marks_its_client_disconnected(store: str, in_project: Path) -> None:
    async with serving(store) as watching, serving(store) as visited, connect(watching, name="watcher") as watcher:
        await call(watcher, "orchestrator_initialize_session")
        async with connect(visited, name="visitor") as visitor:
            visiting = await call(visitor, "orchestrator_initialize_session")
        status = await call(watcher, "orchestrator_get_status", detail="full")
        states = {c["client_id"]: c["state"] for c in status["clients"]}
        assert states[visiting["client_id"]] == "disconnected"

        async with connect(visited, name="visitor") as visitor:
            back = await call(visitor, "orchestrator_initialize_session", client_id=visiting["client_id"])
            assert back["client_id"] == visiting["client_id"]
        status = await call(watcher, "orchestrator_get_status", since=0)
        kinds = [e["kind"] for e in status["events"] if e.get("actor") == visiting["client_id"]]
        assert kinds[:3] == ["client.registered", "client.disconnected", "client.reconnected"]


async def test_idempotent_retries_survive_a_restart(store: str, in_project: Path) -> None:
    arguments = {"title": "once", "description": "only once", "subtasks": [{"title": "a"}], "idempotency_key": "plan-1"}
    async with serving(store) as app, connect(app) as client:
        await call(client, "orchestrator_initialize_session")
        first = await call(client, "orchestrator_plan_task", **arguments)
    async with serving(store) as app, connect(app) as client:
        retry = await call(client, "orchestrator_plan_task", **arguments)
        assert retry["task_id"] == first["task_id"] and retry["replayed"] is True
        assert retry["subtasks"] == first["subtasks"]
        error = await call_error(client, "orchestrator_plan_task", **(arguments | {"title": "twice"}))
        assert error["code"] == "conflict" and "idempotency_key" in error["message"]
        assert (await call(client, "orchestrator_query_tasks"))["total"] == 2


async def test_listen_streams_hear_changes_from_another_server(store: str, in_project: Path) -> None:
    async with serving(store) as listening, serving(store) as writing, connect(
        listening, mode="auto"
    ) as listener, connect(writing, name="writer") as writer:
        await call(writer, "orchestrator_initialize_session")
        task_id = (await call(writer, "orchestrator_plan_task", title="t", description=""))["task_id"]
        uri = f"taskweave://tasks/{task_id}"
        async with listener.listen(resource_subscriptions=[uri]) as subscription:
            await call(writer, "orchestrator_execute_task", task_id=task_id)
            committed = time.monotonic()
            with anyio.fail_after(5):
                async for event in subscription:
                    assert event.uri == uri
                    break
            assert time.monotonic() - committed < 1.0, "subscribers hear a change within a second"
