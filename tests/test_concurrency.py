"""Many clients on one session: races, crashes, reconnections, retries and notifications."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from taskweave.core.service import Orchestrator
from taskweave.errors import Conflict
from taskweave.store import open_store
from taskweave.workspace import detect_workspace

from .conftest import SERVE, agent, call, call_error, in_processes, server_env, stdio_client

RACERS = 8


class RawServer:
    """A `taskweave serve` process spoken to in raw JSON-RPC, so the test can SIGKILL it."""

    def __init__(self, store: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*SERVE, "--store", store], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, cwd=cwd, env=server_env(),
        )
        self._next_id = 0
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "doomed", "version": "1"}})
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        while True:
            message = json.loads(self.process.stdout.readline())
            if message.get("id") == self._next_id:
                return message["result"]

    def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        return json.loads(self.request("tools/call", {"name": name, "arguments": arguments})["content"][0]["text"])

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def test_threads_racing_for_one_task_have_one_winner(store: str, project: Path) -> None:
    workspace = detect_workspace(str(project))
    stores = [open_store(store) for _ in range(RACERS)]
    orchestrators = [Orchestrator(opened) for opened in stores]
    try:
        clients = [o.initialize_session(workspace, client=agent(f"racer-{i}")) for i, o in enumerate(orchestrators)]
        session_id = clients[0]["session_id"]
        task_id = orchestrators[0].plan_task(session_id, None, title="contested", description="")["task_id"]
        barrier = threading.Barrier(RACERS)
        outcomes: list[str] = []

        def race(index: int) -> None:
            barrier.wait()
            try:
                orchestrators[index].execute_task(session_id, clients[index]["client_id"], task_id)
                outcomes.append("won")
            except Conflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused"] * (RACERS - 1) + ["won"]
        events = orchestrators[0].get_status(session_id, since=0)["events"]
        assert [e["kind"] for e in events].count("task.claimed") == 1
    finally:
        for opened in stores:
            opened.close()


@pytest.mark.anyio
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


@pytest.mark.anyio
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


def _plan(orchestrator: Orchestrator, barrier: Any, session_id: str, count: int) -> None:
    writer = orchestrator.register_client(session_id, agent("writer"))
    barrier.wait()
    for n in range(count):
        orchestrator.plan_task(session_id, writer, title=f"task {n}", description="", subtasks=[{"title": "sub"}])


def test_events_stay_gap_free_under_writers_in_several_processes(store: str, project: Path) -> None:
    opened = open_store(store)
    try:
        session_id = Orchestrator(opened).initialize_session(detect_workspace(str(project)), client=agent("p"))["session_id"]
        in_processes(_plan, 4, store, session_id, 10)
        with opened.transaction(write=False) as tx:
            events = tx.events_since(session_id, 0, 10_000)
            last = tx.session(session_id)["last_event_seq"]
            task_seqs = [row["seq"] for row in tx.all("SELECT seq FROM tasks WHERE session_id = ? ORDER BY seq", session_id)]
        # 2 events at start, then per process 1 registration and 10 plans of 2 tasks each.
        assert [e["seq"] for e in events] == list(range(1, last + 1))
        assert last == 2 + 4 * (1 + 10 * 2)
        assert task_seqs == list(range(1, 4 * 10 * 2 + 1))
        assert opened.check() == []
    finally:
        opened.close()


@pytest.mark.anyio
async def test_a_killed_clients_claim_lapses_and_another_takes_the_task(store: str, project: Path) -> None:
    doomed = RawServer(store, project)
    init = doomed.tool("orchestrator_initialize_session")
    task_id = doomed.tool("orchestrator_plan_task", title="fragile", description="")["task_id"]
    claim = doomed.tool("orchestrator_execute_task", task_id=task_id, lease_seconds=10)
    assert claim["claim"]["client_id"] == init["client_id"]
    doomed.kill()

    async with stdio_client(store, project, name="survivor") as survivor:
        await call(survivor, "orchestrator_initialize_session")
        refused = await call_error(survivor, "orchestrator_execute_task", task_id=task_id)
        assert refused["claimed_by"] == init["client_id"]
        with anyio.fail_after(30):
            while True:
                status = await call(survivor, "orchestrator_get_status", since=0)
                if any(e["kind"] == "claim.expired" for e in status["events"]):
                    break
                await anyio.sleep(0.5)
        expired = next(e for e in status["events"] if e["kind"] == "claim.expired")
        assert expired["task_id"] == task_id and expired["data"]["client_id"] == init["client_id"]
        assert task_id in [t["task_id"] for t in status["tasks"]["ready"]]
        taken = await call(survivor, "orchestrator_execute_task", task_id=task_id)
        assert taken["claim"]["client_id"] != init["client_id"]


@pytest.mark.anyio
async def test_a_closed_connection_marks_its_client_disconnected(store: str, project: Path) -> None:
    async with stdio_client(store, project, name="watcher") as watcher:
        await call(watcher, "orchestrator_initialize_session")
        async with stdio_client(store, project, name="visitor") as visitor:
            visiting = await call(visitor, "orchestrator_initialize_session")
        with anyio.fail_after(10):
            while True:
                status = await call(watcher, "orchestrator_get_status")
                states = {c["client_id"]: c["state"] for c in status["clients"]}
                if states[visiting["client_id"]] == "disconnected":
                    break
                await anyio.sleep(0.2)

        async with stdio_client(store, project, name="visitor") as visitor:
            back = await call(visitor, "orchestrator_initialize_session", client_id=visiting["client_id"])
            assert back["client_id"] == visiting["client_id"]
        status = await call(watcher, "orchestrator_get_status", since=0)
        kinds = [e["kind"] for e in status["events"] if e.get("actor") == visiting["client_id"]]
        assert kinds[:3] == ["client.registered", "client.disconnected", "client.reconnected"]


@pytest.mark.anyio
async def test_idempotent_retries_survive_a_restart(store: str, project: Path) -> None:
    arguments = {"title": "once", "description": "only once", "subtasks": [{"title": "a"}], "idempotency_key": "plan-1"}
    async with stdio_client(store, project) as client:
        await call(client, "orchestrator_initialize_session")
        first = await call(client, "orchestrator_plan_task", **arguments)
    async with stdio_client(store, project) as client:
        retry = await call(client, "orchestrator_plan_task", **arguments)
        assert retry["task_id"] == first["task_id"] and retry["replayed"] is True
        assert retry["subtasks"] == first["subtasks"]
        error = await call_error(client, "orchestrator_plan_task", **(arguments | {"title": "twice"}))
        assert error["code"] == "conflict" and "idempotency_key" in error["message"]
        assert (await call(client, "orchestrator_query_tasks"))["total"] == 2


@pytest.mark.anyio
async def test_listen_streams_hear_changes_from_another_process(store: str, project: Path) -> None:
    async with stdio_client(store, project, mode="auto") as listener, stdio_client(
        store, project, name="writer"
    ) as writer:
        init = await call(writer, "orchestrator_initialize_session")
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
        assert init["session_id"]
