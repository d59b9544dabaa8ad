"""What an adversarial run found, through the official client: every bad call a clear refusal that changes
nothing, the daemon answering while the store waits, HTTP bodies and sessions bounded."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from tests.support import call, call_error, connect, http_client, http_daemon, serving

pytestmark = pytest.mark.anyio

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


async def test_a_stopped_writer_never_stalls_the_daemon(
    store_path: Path, stopped_writer: subprocess.Popen[str], short_waits: float, project: Path
) -> None:
    async with http_daemon(str(store_path)) as url:
        async with http_client(url, name="blocked") as blocked, anyio.create_task_group() as group:
            outcome: dict[str, Any] = {}

            async def write() -> None:
                outcome["error"] = await call_error(
                    blocked, "orchestrator_initialize_session", working_directory=str(project)
                )

            group.start_soon(write)
            await anyio.sleep(0.2)
            started = time.monotonic()
            async with http_client(url, name="newcomer") as newcomer:
                tools = await newcomer.list_tools()
                detected = await call(newcomer, "orchestrator_detect_workspace", working_directory=str(project))
            assert time.monotonic() - started < short_waits, "a new client is answered while a write waits"
            assert tools.tools and detected["root"] == str(project)
        assert outcome["error"]["code"] == "store_busy" and "locked by another process" in outcome["error"]["message"]


async def test_bad_values_get_specific_errors_and_change_nothing(store: str, in_project: Path) -> None:
    async with serving(store) as app, connect(app) as client:
        init = await call(client, "orchestrator_initialize_session")
        task = await call(client, "orchestrator_plan_task", title="t", description="d")
        before = await call(client, "orchestrator_get_status", since=0)
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("orchestrator_query_tasks", {"limit": None, "offset": None}, ""),
            ("orchestrator_update_task", {"task_id": task["task_id"], "dependencies": None, "status": "pending"}, ""),
            ("orchestrator_get_status", {"since": 2**64}, "invalid_input"),
            ("orchestrator_get_status", {"since": -1}, "invalid_input"),
            ("orchestrator_detect_workspace", {"working_directory": "/tmp/a\x00b"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "nul\x00", "description": ""}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "t", "description": "half \ud800 pair"}, "invalid_input"),
            ("orchestrator_execute_task", {"task_id": task["task_id"], "lease_seconds": 0}, "invalid_input"),
            ("orchestrator_execute_task", {"task_id": "t_" + "x" * 100_000}, "not_found"),
            ("orchestrator_plan_task", {"title": "t", "description": "", "priority": "p" * 100_000}, "invalid_input"),
            ("orchestrator_detect_workspace", {"working_directory": "/no/such/" + "d" * 100_000}, "invalid_input"),
        ]
        for tool, arguments, code in cases:
            result = await client.call_tool(tool, arguments)
            body = json.loads(result.content[0].text)  # type: ignore[union-attr]
            if code:
                assert result.is_error and body["error"]["code"] == code, (tool, body)
                assert len(body["error"]["message"]) < 300 and "None" not in body["error"]["message"], body
                assert len(result.content[0].text) < 1_000, (tool, body)  # type: ignore[union-attr]
            else:
                assert not result.is_error, (tool, body)
        after = await call(client, "orchestrator_get_status", since=0)
        assert after["last_event_seq"] == before["last_event_seq"], "no refused call and no no-op wrote an event"
        twice = await call(client, "orchestrator_plan_task", title="p", description="",
                           dependencies=[task["task_id"], task["task_id"]])
        detail = json.loads((await call(client, "orchestrator_read_artifact", uri=twice["uri"]))["text"])
        assert detail["dependencies"] == [task["task_id"]], "a repeated dependency is one dependency"
        assert init["session_id"]


async def test_http_bodies_up_to_the_tools_limits_are_taken_and_beyond_refused_in_json(store: str, project: Path) -> None:
    async with http_daemon(store) as url, http_client(url) as client:
        await call(client, "orchestrator_initialize_session", working_directory=str(project))
        task = await call(client, "orchestrator_plan_task", title="big", description="")
        await call(client, "orchestrator_execute_task", task_id=task["task_id"])
        files = [{"name": f"part-{n}.txt", "content": "é" * 790_000} for n in range(5)]
        done = await call(client, "orchestrator_complete_task", task_id=task["task_id"], summary="s", artifacts=files)
        assert len(done["artifacts"]) == 5, "a body of 7.9 MB (over the SDK default of 4 MiB) is taken"
        async with httpx.AsyncClient() as raw:
            response = await raw.post(url, content=b"x" * (64 * 1024 * 1024 + 10), headers=HEADERS)
        assert response.status_code == 413 and "at most 67,108,864 bytes" in response.json()["error"]["message"]


async def test_idle_http_sessions_end_after_a_lease_and_new_agents_always_get_in(store: str, project: Path) -> None:
    async with http_daemon(store, lease_seconds=1) as url, httpx.AsyncClient() as raw:
        session_ids = []
        for n in range(30):
            response = await raw.post(url, headers=HEADERS, json={
                "jsonrpc": "2.0", "id": n, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}},
            })
            session_ids.append(response.headers["mcp-session-id"])
        await anyio.sleep(2.5)
        gone = await raw.post(url, json={"jsonrpc": "2.0", "id": 99, "method": "tools/list"},
                              headers={**HEADERS, "mcp-session-id": session_ids[0], "mcp-protocol-version": "2025-11-25"})
        assert gone.status_code == 404, "an idle session ended after the lease"
        async with http_client(url) as newcomer:
            assert (await call(newcomer, "orchestrator_detect_workspace", working_directory=str(project)))["root"]
