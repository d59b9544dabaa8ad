"""The Streamable HTTP daemon's app on a real port, in this process: many clients, one store, its safety rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2 as httpx
import pytest

from tests.support import DaemonTask, call, call_error, free_port, http_client, http_daemon

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture
async def daemon(store: str) -> AsyncIterator[str]:
    async with http_daemon(store) as url:
        yield url


async def test_workflow_and_shared_session_over_one_daemon(daemon: str, project: Path) -> None:
    async with http_client(daemon, name="planner") as planner, http_client(daemon, name="worker") as worker:
        first = await call(planner, "orchestrator_initialize_session", working_directory=str(project))
        second = await call(worker, "orchestrator_initialize_session", working_directory=str(project))
        assert second["session_id"] == first["session_id"] and second["attached"] is True
        assert first["client_id"] != second["client_id"]

        plan = await call(
            planner, "orchestrator_plan_task", title="p", description="d",
            subtasks=[{"title": "a", "specialist": "researcher"}, {"title": "b", "dependencies": [0]}],
        )
        a, b = (s["task_id"] for s in plan["subtasks"])
        await call(worker, "orchestrator_execute_task", task_id=a)
        error = await call_error(planner, "orchestrator_execute_task", task_id=a)
        assert error["code"] == "conflict" and error["claimed_by"] == second["client_id"]
        await call(worker, "orchestrator_complete_task", task_id=a, summary="found it")
        work = await call(planner, "orchestrator_execute_task", task_id=b)
        assert work["dependencies"][0]["summary"] == "found it"
        await call(planner, "orchestrator_complete_task", task_id=b, summary="built it")
        report = await call(worker, "orchestrator_synthesize_results", parent_task_id=plan["task_id"])
        assert "### researcher" in report["report"] and "built it" in report["report"]
        status = await call(worker, "orchestrator_get_status", detail="full")
        assert {c["transport"] for c in status["clients"]} == {"http"}


async def test_two_daemons_serve_one_store(store: str, project: Path) -> None:
    async with http_daemon(store) as first, http_daemon(store) as second:
        async with http_client(first, name="planner") as planner, http_client(second, name="worker") as worker:
            init = await call(planner, "orchestrator_initialize_session", working_directory=str(project))
            joined = await call(worker, "orchestrator_initialize_session", working_directory=str(project))
            assert joined["session_id"] == init["session_id"]
            task = await call(planner, "orchestrator_plan_task", title="t", description="d")
            await call(worker, "orchestrator_execute_task", task_id=task["task_id"])
            error = await call_error(planner, "orchestrator_execute_task", task_id=task["task_id"])
            assert error["code"] == "conflict"
            stale = await call_error(
                planner, "orchestrator_update_task", task_id=task["task_id"], priority="high", expected_version=1
            )
            assert stale["code"] == "conflict" and stale["current_version"] == 2
            status = await call(planner, "orchestrator_get_status")
            assert status["tasks"]["in_progress"][0]["claim"]["client_id"] == joined["client_id"]


async def test_stateless_revision_works_with_explicit_ids(daemon: str, project: Path) -> None:
    async with http_client(daemon, mode="auto") as client:
        assert client.protocol_version == "2026-07-28"
        init = await call(client, "orchestrator_initialize_session", working_directory=str(project))
        ids = {"session_id": init["session_id"], "client_id": init["client_id"]}
        plan = await call(client, "orchestrator_plan_task", title="t", description="d", **ids)
        await call(client, "orchestrator_execute_task", task_id=plan["task_id"], **ids)
        done = await call(client, "orchestrator_complete_task", task_id=plan["task_id"], summary="ok", **ids)
        assert done["status"] == "completed"


async def test_unknown_mcp_session_id_gets_404(daemon: str) -> None:
    async with httpx.AsyncClient() as raw:
        response = await raw.post(
            daemon,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**HEADERS, "mcp-session-id": "no-such-session", "mcp-protocol-version": "2025-11-25"},
        )
        assert response.status_code == 404


async def test_foreign_origin_is_refused(daemon: str) -> None:
    async with httpx.AsyncClient() as raw:
        response = await raw.post(daemon, json=INITIALIZE, headers={**HEADERS, "origin": "http://evil.example"})
        assert response.status_code == 403


async def test_token_is_required_when_configured(store: str) -> None:
    async with http_daemon(store, token="s3cret") as url, httpx.AsyncClient() as raw:
        refused = await raw.post(url, json=INITIALIZE, headers=HEADERS)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        accepted = await raw.post(url, json=INITIALIZE, headers={**HEADERS, "authorization": "Bearer s3cret"})
        assert accepted.status_code == 200


async def test_a_restarted_daemon_gives_404_and_the_client_reattaches_with_its_claims(store: str, project: Path) -> None:
    port = free_port()
    first, second = DaemonTask(store, port), DaemonTask(store, port)
    async with anyio.create_task_group() as group:
        url = await group.start(first.run)
        async with http_client(url) as client:
            init = await call(client, "orchestrator_initialize_session", working_directory=str(project))
            task_id = (await call(client, "orchestrator_plan_task", title="t", description=""))["task_id"]
            await call(client, "orchestrator_execute_task", task_id=task_id)
            await first.stop()
            await group.start(second.run)
            with pytest.raises(Exception) as lost:
                await client.call_tool("orchestrator_get_status", {})
            assert "404" in str(lost.value) or "ession" in str(lost.value)
        async with http_client(url) as client:
            again = await call(client, "orchestrator_initialize_session", working_directory=str(project),
                               client_id=init["client_id"])
            assert again["session_id"] == init["session_id"] and again["your_claims"] == [task_id]
            done = await call(client, "orchestrator_complete_task", task_id=task_id, summary="finished after restart")
            assert done["status"] == "completed"
        await second.stop()
