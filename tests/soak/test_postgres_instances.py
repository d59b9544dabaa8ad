"""Three `taskweave serve --http` instances on one PostgreSQL database, one of them killed mid-run.

Nine agents (the official MCP client) spread over the instances run a bounded
mixed workload in one shared session and record every write the server
acknowledged. When the agents on the first instance each hold a claim, that
instance gets SIGKILL while the others keep working; its agents reconnect to a
surviving instance, present their `client_id`, get their claims back and
finish them. The database must then hold exactly what was acknowledged: one
`task.claimed` per acknowledged claim and never two holders at once, every
acknowledged task and completion, `in_progress` exactly for claimed tasks, a
gap-free event log and a clean `check()`.
"""

from __future__ import annotations

import json
import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from taskweave.store import open_store
from tests.support import HttpServer, http_client

pytestmark = [pytest.mark.soak, pytest.mark.anyio]

INSTANCES = 3
AGENTS = 9  # agent n starts on instance n % INSTANCES; instance 0 is the one killed
STEPS = 16  # workload steps per agent, before and after the kill together
STEPS_BEFORE_KILL = 6  # steps the agents on the doomed instance take before they hold a claim and wait
STEPS_AFTER_KILL = 4  # steps every surviving agent takes after the kill, so the kill lands mid-run
MAX_HELD = 2
RELEASES = frozenset({"task.completed", "task.failed", "task.blocked", "task.cancelled", "claim.expired", "claim.released"})


@dataclass
class Acks:
    """What the servers acknowledged, and any failure that was not an expected conflict."""

    planned: set[str] = field(default_factory=set)
    completions: dict[str, str] = field(default_factory=dict)
    claims: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


class Run:
    """The state the agents share: acknowledgements, the kill, and how far the survivors got after it."""

    def __init__(self) -> None:
        self.acks = Acks()
        self.holding = 0
        self.all_doomed_hold = anyio.Event()
        self.killed = anyio.Event()
        self.steps_after_kill: Counter[str] = Counter()


class Agent:
    def __init__(self, index: int, run: Run, project: Path) -> None:
        self.name = f"agent-{index}"
        self.run = run
        self.project = project
        self.random = random.Random(index)
        self.client: Any = None
        self.client_id = ""
        self.session_id = ""
        self.held: list[str] = []
        self.known: list[str] = []
        self.planned = 0
        self.last_conflict: dict[str, Any] | None = None

    async def attach(self, client: Any, client_id: str | None = None) -> dict[str, Any]:
        self.client = client
        arguments = {"working_directory": str(self.project)} | ({"client_id": client_id} if client_id else {})
        init = await self.call("orchestrator_initialize_session", **arguments)
        assert init is not None, f"{self.name} could not initialize: {self.last_conflict}"
        self.client_id, self.session_id = init["client_id"], init["session_id"]
        return init

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any] | None:
        """The tool's answer, or None after a conflict (another agent was faster); anything else is recorded."""
        result = await self.client.call_tool(tool, arguments)
        body = json.loads(result.content[0].text)
        if not result.is_error:
            return body
        if body["error"]["code"] != "conflict":
            self.run.acks.unexpected.append(f"{self.name} {tool}{arguments}: {body['error']}")
        self.last_conflict = body["error"]
        return None

    async def step(self) -> None:
        action = self.random.choices(["plan", "claim", "complete", "status"], weights=[3, 4, 4, 2])[0]
        if action == "plan":
            await self.plan()
        elif action == "claim" and len(self.held) < MAX_HELD:
            await self.claim(specific=self.random.random() < 1 / 3)
        elif self.held:
            await self.complete(self.held[0])
        else:
            await self.status()

    async def plan(self) -> None:
        self.planned += 1
        subtasks = [{"title": f"{self.name} part {n}"} for n in range(self.random.randrange(3))]
        if len(subtasks) == 2 and self.random.random() < 0.5:
            subtasks[1]["dependencies"] = [0]
        arguments: dict[str, Any] = {"title": f"{self.name} task {self.planned}", "description": "load"}
        answer = await self.call("orchestrator_plan_task", **arguments, **({"subtasks": subtasks} if subtasks else {}))
        if answer is not None:
            created = [answer["task_id"], *(s["task_id"] for s in answer["subtasks"])]
            self.run.acks.planned.update(created)
            self.known += created

    async def claim(self, *, specific: bool) -> str | None:
        candidates = [t for t in self.known if t not in self.held]
        arguments = {"task_id": self.random.choice(candidates)} if specific and candidates else {}
        work = await self.call("orchestrator_execute_task", **arguments)
        if work is None:
            return None
        task_id = work["task"]["task_id"]
        assert work["claim"]["client_id"] == self.client_id, work["claim"]
        self.run.acks.claims.append((task_id, self.client_id))
        self.held.append(task_id)
        return task_id

    async def complete(self, task_id: str) -> None:
        summary = f"{task_id} done by {self.client_id}"
        if await self.call("orchestrator_complete_task", task_id=task_id, summary=summary) is not None:
            self.run.acks.completions[task_id] = summary
        self.held.remove(task_id)

    async def status(self) -> None:
        status = await self.call("orchestrator_get_status")
        if status is not None:
            self.known += [t["task_id"] for t in status["tasks"]["ready"] if t["task_id"] not in self.known]

    async def finish(self) -> None:
        for task_id in list(self.held):
            await self.complete(task_id)


async def survive(agent: Agent, url: str) -> None:
    """A whole workload on a surviving instance, lasting until a few steps after the kill."""
    run = agent.run
    async with http_client(url, name=agent.name) as client:
        await agent.attach(client)
        steps = 0
        while steps < STEPS or run.steps_after_kill[agent.name] < STEPS_AFTER_KILL:
            if steps >= STEPS:
                await run.killed.wait()  # done early: wait for the kill, then take the steps after it
            after_kill = run.killed.is_set()
            await agent.step()
            steps += 1
            run.steps_after_kill[agent.name] += int(after_kill)
        await agent.finish()


async def doomed(agent: Agent, url: str, fallback_url: str, reattached: dict[str, dict[str, Any]]) -> None:
    """Work on the instance that will be killed, hold a claim when it dies, then carry on elsewhere."""
    run = agent.run
    try:
        async with http_client(url, name=agent.name) as client:
            await agent.attach(client)
            for _ in range(STEPS_BEFORE_KILL):
                await agent.step()
            while not agent.held:
                if await agent.claim(specific=False) is None:
                    await agent.plan()
            run.holding += 1
            if run.holding == AGENTS // INSTANCES:
                run.all_doomed_hold.set()
            while True:  # busy until the kill cuts a call short
                await agent.plan()
                await agent.status()
    except* httpx.TransportError:
        assert run.killed.is_set(), f"{agent.name} lost its instance before the kill"
    expected_claims = sorted(agent.held)
    first_id = agent.client_id
    async with http_client(fallback_url, name=agent.name) as client:
        init = await agent.attach(client, client_id=first_id)
        reattached[agent.name] = {"client_id": init["client_id"], "claims": sorted(init["your_claims"])}
        assert init["client_id"] == first_id and sorted(init["your_claims"]) == expected_claims
        await agent.finish()
        for _ in range(STEPS - STEPS_BEFORE_KILL):
            await agent.step()
        await agent.finish()


async def test_three_instances_one_killed_lose_nothing_and_claims_move(pg_url: str, project: Path) -> None:
    servers = [HttpServer(pg_url, project) for _ in range(INSTANCES)]
    run = Run()
    agents = [Agent(index, run, project) for index in range(AGENTS)]
    reattached: dict[str, dict[str, Any]] = {}
    try:
        with anyio.fail_after(45):
            async with anyio.create_task_group() as group:
                for index, agent in enumerate(agents):
                    instance = index % INSTANCES
                    if instance == 0:
                        fallback = servers[1 + (index // INSTANCES) % (INSTANCES - 1)]
                        group.start_soon(doomed, agent, servers[0].url, fallback.url, reattached)
                    else:
                        group.start_soon(survive, agent, servers[instance].url)
                await run.all_doomed_hold.wait()
                servers[0].process.send_signal(signal.SIGKILL)
                servers[0].process.wait(timeout=10)
                run.killed.set()
    finally:
        for server in servers:
            server.stop()

    acks = run.acks
    assert acks.unexpected == []
    assert servers[0].process.returncode == -signal.SIGKILL
    assert len({agent.session_id for agent in agents}) == 1, "every agent works in one session"
    session_id = agents[0].session_id
    doomed_agents = {agent.name for index, agent in enumerate(agents) if index % INSTANCES == 0}
    assert set(reattached) == doomed_agents and all(r["claims"] for r in reattached.values())
    assert all(run.steps_after_kill[a.name] >= STEPS_AFTER_KILL for a in agents if a.name not in doomed_agents)
    assert len(acks.planned) >= AGENTS and len(acks.completions) >= AGENTS and len(acks.claims) >= AGENTS

    store = open_store(pg_url)
    try:
        assert store.check() == []
        with store.transaction(write=False) as tx:
            tasks = {r["id"]: r for r in tx.all("SELECT * FROM tasks WHERE session_id = ?", session_id)}
            events = tx.all("SELECT * FROM events WHERE session_id = ? ORDER BY seq", session_id)
            last_event_seq = tx.one("SELECT last_event_seq FROM sessions WHERE id = ?", session_id)["last_event_seq"]
    finally:
        store.close()

    assert [e["seq"] for e in events] == list(range(1, last_event_seq + 1)), "the event log has a gap"
    assert acks.planned <= tasks.keys(), f"acknowledged tasks missing: {acks.planned - tasks.keys()}"
    for task_id, summary in acks.completions.items():
        assert (tasks[task_id]["status"], tasks[task_id]["summary"]) == ("completed", summary), task_id
    for task in tasks.values():
        assert (task["status"] == "in_progress") == (task["claimed_by"] is not None), task
        assert (task["claimed_by"] is None) == (task["claim_expires_at"] is None), task
    assert [t for t in tasks.values() if t["status"] == "in_progress"] == [], "every claim was finished"

    holders: dict[str, str | None] = {}
    claimed: Counter[tuple[str, str]] = Counter()
    for event in events:
        task_id, kind = event["task_id"], event["kind"]
        if kind == "task.claimed":
            assert holders.get(task_id) is None, f"{task_id} claimed at seq {event['seq']} while {holders[task_id]} held it"
            holders[task_id] = event["actor"]
            claimed[(task_id, event["actor"])] += 1
        elif kind in RELEASES or (kind == "task.updated" and "status" in json.loads(event["data"]).get("fields", [])):
            holders[task_id] = None
    assert claimed == Counter(acks.claims), "one task.claimed event per acknowledged claim"
    assert not any(e["kind"] == "claim.expired" for e in events), "no claim lapsed: the reattached agents kept theirs"
