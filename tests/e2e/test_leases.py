"""A crashed agent never blocks a task for good: its claim lapses and another agent takes the task.

The crashed server hands out short leases (`TASKWEAVE_LEASE_SECONDS`) and the
survivor sweeps often (`TASKWEAVE_SWEEP_SECONDS`), so the lapse takes seconds, not minutes.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support import RawServer, call, call_error, stdio_client

pytestmark = pytest.mark.anyio

SHORT_LEASE = {"TASKWEAVE_LEASE_SECONDS": "2"}
FREQUENT_SWEEP = {"TASKWEAVE_SWEEP_SECONDS": "0.2"}


async def test_a_killed_clients_claim_lapses_and_another_takes_the_task(process_store: str, project: Path) -> None:
    async with stdio_client(process_store, project, name="survivor", **FREQUENT_SWEEP) as survivor:
        await call(survivor, "orchestrator_initialize_session")
        doomed = RawServer(process_store, project, **SHORT_LEASE)
        init = doomed.tool("orchestrator_initialize_session")
        task_id = doomed.tool("orchestrator_plan_task", title="fragile", description="")["task_id"]
        claim = doomed.tool("orchestrator_execute_task", task_id=task_id)
        assert claim["claim"]["client_id"] == init["client_id"]
        refused = await call_error(survivor, "orchestrator_execute_task", task_id=task_id)
        assert refused["claimed_by"] == init["client_id"]
        doomed.kill()

        with anyio.fail_after(20):
            while True:
                status = await call(survivor, "orchestrator_get_status", since=0)
                if any(e["kind"] == "claim.expired" for e in status["events"]):
                    break
                await anyio.sleep(0.1)
        expired = next(e for e in status["events"] if e["kind"] == "claim.expired")
        assert expired["task_id"] == task_id and expired["data"]["client_id"] == init["client_id"]
        assert task_id in [t["task_id"] for t in status["tasks"]["ready"]]
        taken = await call(survivor, "orchestrator_execute_task", task_id=task_id)
        assert taken["claim"]["client_id"] != init["client_id"]
