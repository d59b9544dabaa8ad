"""The real `taskweave serve` process over stdio: the workflow end to end, a clean wire, a refused store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from taskweave.server.tools import TOOLS
from tests.support import SERVE, call, server_env, stdio_client


@pytest.mark.anyio
async def test_a_real_process_serves_the_whole_workflow(store: str, project: Path) -> None:
    async with stdio_client(store, project) as client:
        assert len((await client.list_tools()).tools) == len(TOOLS)
        init = await call(client, "orchestrator_initialize_session")
        assert init["workspace"]["root"] == str(project) and init["workspace"]["types"] == ["python"]
        plan = await call(client, "orchestrator_plan_task", title="p", description="d",
                          subtasks=[{"title": "a"}, {"title": "b", "dependencies": [0]}])
        for subtask in plan["subtasks"]:
            await call(client, "orchestrator_execute_task", task_id=subtask["task_id"])
            done = await call(client, "orchestrator_complete_task", task_id=subtask["task_id"], summary="ok",
                              detailed_work="long " * 100)
        assert done["parent_progress"]["all_finished"] is True
        report = await call(client, "orchestrator_synthesize_results", parent_task_id=plan["task_id"])
        artifact = await client.read_resource(report["artifact"]["uri"])
        assert artifact.contents[0].text == report["report"]  # type: ignore[union-attr]


def test_stdout_carries_only_json_rpc(store: str, project: Path) -> None:
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "orchestrator_initialize_session", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "orchestrator_plan_task", "arguments": {"title": 1}}},
    ]
    process = subprocess.Popen(
        [*SERVE, "--store", store], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=project, env=server_env(TASKWEAVE_LOG_LEVEL="DEBUG"),
    )
    try:
        for message in messages:
            process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        responses = []
        while {r.get("id") for r in responses} < {1, 2, 3}:
            line = process.stdout.readline()
            assert line, "the server closed stdout early"
            responses.append(json.loads(line))
    finally:
        process.stdin.close()
        stdout, stderr = process.stdout.read(), process.stderr.read()
        process.wait(timeout=30)
    responses += [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert all(r["jsonrpc"] == "2.0" for r in responses)
    assert json.loads(next(r for r in responses if r.get("id") == 3)["result"]["content"][0]["text"])["error"]
    assert "DEBUG" in stderr, "logs go to stderr"


def test_a_store_that_cannot_be_trusted_stops_the_server_with_a_clear_message(tmp_path: Path, project: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    before = broken.read_bytes()
    completed = subprocess.run(
        [*SERVE, "--store", str(broken)], input="", capture_output=True, text=True, cwd=project,
        env=server_env(), timeout=60,
    )
    assert completed.returncode == 1
    assert "not a usable SQLite database" in completed.stderr and "hint:" in completed.stderr
    assert "Traceback" not in completed.stderr and completed.stdout == ""
    assert broken.read_bytes() == before
    assert not os.path.exists(str(broken) + "-wal") or os.path.getsize(str(broken) + "-wal") == 0
