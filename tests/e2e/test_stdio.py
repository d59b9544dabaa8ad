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


def test_every_line_gets_an_answer_and_the_server_lives_on(store_path: Path, project: Path) -> None:
    """Too long, not valid JSON or Unicode, nested too deep: each gets a JSON-RPC error with its id."""
    process = subprocess.Popen(
        [*SERVE, "--store", str(store_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, cwd=project, env=server_env(),
    )
    assert process.stdin is not None and process.stdout is not None

    def send(raw: bytes) -> None:
        assert process.stdin is not None
        process.stdin.write(raw + b"\n")
        process.stdin.flush()

    def answer() -> dict:
        assert process.stdout is not None
        return json.loads(process.stdout.readline())

    try:
        send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}).encode())
        assert answer()["id"] == 1
        send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        call = b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"orchestrator_detect_workspace","arguments":%s}}'
        send(call % (2, b'{"working_directory":"' + b"x" * (65 * 1024 * 1024) + b'"}'))
        send(call % (3, b'{"working_directory":"\\ud800"}'))
        send(call % (4, b'{"x":' + b"[" * 5_000 + b"]" * 5_000 + b"}"))
        send(call % (5, b'{"working_directory":"\xff\xfe"}'))
        send(b'{"jsonrpc":"2.0","id":6,"method":"ping"}')
        answers = {a["id"]: a for a in (answer() for _ in range(5))}
        assert "taskweave takes requests of at most 67,108,864 bytes" in answers[2]["error"]["message"]
        for request_id in (3, 4, 5):
            assert answers[request_id]["error"]["code"] == -32700, answers[request_id]
        assert answers[6]["result"] == {}
    finally:
        process.kill()
        process.wait()
