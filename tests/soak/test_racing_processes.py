"""Many real `taskweave serve` processes racing over one store: one claim winner, one session."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from taskweave.store import open_store
from tests.support import call, stdio_client

pytestmark = [pytest.mark.soak, pytest.mark.anyio]

RACERS = 8


async def test_processes_racing_for_one_task_have_one_winner(store: str, project: Path) -> None:
    async with stdio_client(store, project, name="planner") as planner:
        init = await call(planner, "orchestrator_initialize_session")
        task_id = (await call(planner, "orchestrator_plan_task", title="contested", description=""))["task_id"]
        outcomes: list[bool] = []
        ready = anyio.Event()
        arrived = 0

        async def racer(index: int) -> None:
            nonlocal arrived
            async with stdio_client(store, project, name=f"racer-{index}") as client:
                await call(client, "orchestrator_initialize_session")
                arrived += 1
                if arrived == RACERS:
                    ready.set()
                await ready.wait()
                result = await client.call_tool("orchestrator_execute_task", {"task_id": task_id})
                outcomes.append(not result.is_error)

        async with anyio.create_task_group() as group:
            for index in range(RACERS):
                group.start_soon(racer, index)
        assert outcomes.count(True) == 1 and len(outcomes) == RACERS
        status = await call(planner, "orchestrator_get_status", since=0)
        assert [e["kind"] for e in status["events"]].count("task.claimed") == 1
        assert status["session_id"] == init["session_id"]


async def test_simultaneous_first_initializations_make_one_session(store: str, project: Path) -> None:
    sessions: list[str] = []

    async def initialize(index: int) -> None:
        async with stdio_client(store, project, name=f"agent-{index}") as client:
            sessions.append((await call(client, "orchestrator_initialize_session"))["session_id"])

    async with anyio.create_task_group() as group:
        for index in range(6):
            group.start_soon(initialize, index)
    assert len(sessions) == 6 and len(set(sessions)) == 1
    opened = open_store(store)
    try:
        with opened.transaction(write=False) as tx:
            counts = tx.row_counts()
    finally:
        opened.close()
    assert counts["sessions"] == 1 and counts["workspaces"] == 1
