"""The Streamable HTTP daemon: many clients, one store, the transport's safety rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx2 as httpx
import pytest

from .conftest import SERVE, HttpServer, call, call_error, free_port, http_client, server_env

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


async def test_workflow_and_shared_session_over_one_daemon(http_server: HttpServer, project: Path) -> None:
    async with http_client(http_server.url, name="planner") as planner, http_client(
        http_server.url, name="worker"
    ) as worker:
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
        status = await call(worker, "orchestrator_get_status")
        assert {c["transport"] for c in status["clients"]} == {"http"}


async def test_two_daemons_serve_one_store(store: str, project: Path) -> None:
    first, second = HttpServer(store, project), HttpServer(store, project)
    try:
        async with http_client(first.url, name="planner") as planner, http_client(second.url, name="worker") as worker:
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
            assert status["claims"][0]["client_id"] == joined["client_id"]
    finally:
        first.stop()
        second.stop()


async def test_stateless_revision_works_with_explicit_ids(http_server: HttpServer, project: Path) -> None:
    async with http_client(http_server.url, mode="auto") as client:
        assert client.protocol_version == "2026-07-28"
        init = await call(client, "orchestrator_initialize_session", working_directory=str(project))
        ids = {"session_id": init["session_id"], "client_id": init["client_id"]}
        plan = await call(client, "orchestrator_plan_task", title="t", description="d", **ids)
        await call(client, "orchestrator_execute_task", task_id=plan["task_id"], **ids)
        done = await call(client, "orchestrator_complete_task", task_id=plan["task_id"], summary="ok", **ids)
        assert done["status"] == "completed"


async def test_unknown_mcp_session_id_gets_404(http_server: HttpServer) -> None:
    async with httpx.AsyncClient() as raw:
        response = await raw.post(
            http_server.url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**HEADERS, "mcp-session-id": "no-such-session", "mcp-protocol-version": "2025-11-25"},
        )
        assert response.status_code == 404


async def test_foreign_origin_is_refused(http_server: HttpServer) -> None:
    async with httpx.AsyncClient() as raw:
        response = await raw.post(http_server.url, json=INITIALIZE, headers={**HEADERS, "origin": "http://evil.example"})
        assert response.status_code == 403


async def test_token_is_required_when_configured(store: str, project: Path) -> None:
    server = HttpServer(store, project, env={"TASKWEAVE_TOKEN": "s3cret"})
    try:
        async with httpx.AsyncClient() as raw:
            refused = await raw.post(server.url, json=INITIALIZE, headers=HEADERS)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
            accepted = await raw.post(server.url, json=INITIALIZE, headers={**HEADERS, "authorization": "Bearer s3cret"})
            assert accepted.status_code == 200
    finally:
        server.stop()


def test_non_loopback_bind_without_token_is_refused(store: str, project: Path) -> None:
    completed = subprocess.run(
        [*SERVE, "--store", store, "--http", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True, text=True, cwd=project, env=server_env(), timeout=60,
    )
    assert completed.returncode == 1
    assert "TASKWEAVE_TOKEN" in completed.stderr and "Traceback" not in completed.stderr
