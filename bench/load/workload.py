"""One simulated agent: a mixed plan / claim / complete / read workload, every call timed and classified.

Agents claim work the two ways real agents do: most often they ask for the
next ready task and the server picks it; otherwise they pick a task they
learned about from tool answers (their own plans, `get_status` ready lists,
`query_tasks`), so several agents regularly go for the same one: the loser's
clean `conflict` answer is counted apart from errors. What the server acknowledged is kept in `Acks`, so
the store can be checked for it afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import TransportError
from bench.load.transport import Connection

CALL_TIMEOUT_SECONDS = 60.0
MUTATING = frozenset(
    {
        "orchestrator_plan_task",
        "orchestrator_execute_task",
        "orchestrator_complete_task",
        "orchestrator_update_task",
        "orchestrator_cancel_task",
    }
)
OK, CONFLICT, ERROR = "ok", "conflict", "error"
# What an agent with no claim does next, by weight.
IDLE_ACTIONS = ("claim", "plan", "status", "query", "cancel")
IDLE_WEIGHTS = (45, 18, 15, 15, 2)
PICK_OWN_FRACTION = 1 / 3  # claims of a task the agent chose; the rest ask for the next ready task
RELEASE_FRACTION = 0.1  # claims given back with update_task(status=pending) instead of completed
SUBTASK_FRACTION = 0.4  # plans that carry subtasks
CANDIDATES_KEPT = 20


@dataclass
class Sample:
    tool: str
    seconds: float
    outcome: str


@dataclass
class Acks:
    """Writes the server acknowledged, to be found in the store afterwards."""

    planned: set[str] = field(default_factory=set)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (task_id, client_id)
    completions: dict[str, str] = field(default_factory=dict)  # task_id -> summary


@dataclass
class Recorder:
    """Everything the agents of one configuration measured."""

    samples: list[Sample] = field(default_factory=list)
    acks: Acks = field(default_factory=Acks)
    error_messages: dict[str, int] = field(default_factory=dict)

    def error(self, tool: str, message: str) -> None:
        key = f"{tool}: {message[:160]}"
        self.error_messages[key] = self.error_messages.get(key, 0) + 1


class Agent:
    """One agent on one connection, in the workspace's shared session."""

    _summaries = itertools.count(1)

    def __init__(self, name: str, connection: Connection, recorder: Recorder, seed: int) -> None:
        self.name = name
        self.connection = connection
        self.recorder = recorder
        self.random = random.Random(seed)
        self.client_id = ""
        self.session_id = ""
        self.candidates: list[str] = []
        self.held: str | None = None
        self.planned: list[str] = []

    async def initialize(self, working_directory: str) -> None:
        """Attach to the workspace session; a failure here stops the configuration (nothing to measure)."""
        outcome, body = await self._call("orchestrator_initialize_session", {"working_directory": working_directory}, record=False)
        if outcome != OK:
            raise TransportError(f"{self.name} could not initialize: {body}")
        self.client_id, self.session_id = body["client_id"], body["session_id"]

    async def run(self, deadline: float) -> None:
        """Loop the workload until the deadline; the call in flight at the deadline is still counted."""
        while time.monotonic() < deadline:
            if self.held is not None:
                await self._finish_held()
                continue
            action = self.random.choices(IDLE_ACTIONS, IDLE_WEIGHTS)[0]
            await getattr(self, f"_{action}")()

    # -- actions ----------------------------------------------------------

    async def _plan(self) -> None:
        arguments: dict[str, Any] = {"title": f"{self.name} task", "description": "load benchmark work item"}
        if self.random.random() < SUBTASK_FRACTION:
            chained = self.random.random() < 0.5
            arguments["subtasks"] = [
                {"title": f"step {i}", **({"dependencies": [i - 1]} if chained and i else {})} for i in range(3)
            ]
        outcome, body = await self._call("orchestrator_plan_task", arguments)
        if outcome == OK:
            ids = [body["task_id"], *(s["task_id"] for s in body["subtasks"])]
            self.recorder.acks.planned.update(ids)
            self.planned = (self.planned + [body["task_id"]])[-CANDIDATES_KEPT:]
            self._learn(body["ready"])

    async def _claim(self) -> None:
        """Take the next ready task (the server picks), or, a third of the time, one this agent chose itself."""
        arguments: dict[str, Any] = {}
        if self.random.random() < PICK_OWN_FRACTION:
            if not self.candidates:
                await self._status()
            if not self.candidates:
                return
            arguments["task_id"] = self.candidates.pop(self.random.randrange(len(self.candidates)))
        outcome, body = await self._call("orchestrator_execute_task", arguments)
        if outcome == OK:
            self.held = body["task"]["task_id"]
            self.recorder.acks.claims.append((self.held, self.client_id))

    async def _finish_held(self) -> None:
        task_id, self.held = self.held, None
        assert task_id is not None
        if self.random.random() < RELEASE_FRACTION:
            await self._call("orchestrator_update_task", {"task_id": task_id, "status": "pending"})
            return
        summary = f"done by {self.name} #{next(self._summaries)}"
        outcome, _ = await self._call("orchestrator_complete_task", {"task_id": task_id, "summary": summary})
        if outcome == OK:
            self.recorder.acks.completions[task_id] = summary

    async def _status(self) -> None:
        outcome, body = await self._call("orchestrator_get_status", {})
        if outcome == OK:
            self._learn([t["task_id"] for t in body["tasks"]["ready"]])

    async def _query(self) -> None:
        arguments = {"status": "pending", "limit": 10, "offset": self.random.randrange(20)}
        outcome, body = await self._call("orchestrator_query_tasks", arguments)
        if outcome == OK:
            self._learn([t["task_id"] for t in body["tasks"]])

    async def _cancel(self) -> None:
        if self.planned:
            task_id = self.planned.pop(self.random.randrange(len(self.planned)))
            await self._call("orchestrator_cancel_task", {"task_id": task_id, "reason": "load bench", "cascade": True})

    def _learn(self, task_ids: list[str]) -> None:
        known = set(self.candidates)
        self.candidates = (self.candidates + [t for t in task_ids if t not in known])[-CANDIDATES_KEPT:]

    # -- one call ---------------------------------------------------------

    async def _call(self, tool: str, arguments: dict[str, Any], *, record: bool = True) -> tuple[str, dict[str, Any]]:
        """Call a tool and classify the answer: ok, a clean conflict, or an error of any other kind."""
        start = time.perf_counter()
        try:
            message = await asyncio.wait_for(
                self.connection.request("tools/call", {"name": tool, "arguments": arguments}), CALL_TIMEOUT_SECONDS
            )
            outcome, body = _classify(message)
        except (TransportError, asyncio.TimeoutError, OSError, ValueError) as error:
            outcome, body = ERROR, {"error": {"code": "transport", "message": f"{type(error).__name__}: {error}"}}
        if record:
            self.recorder.samples.append(Sample(tool, time.perf_counter() - start, outcome))
            if outcome == ERROR:
                failure = body.get("error", {})
                self.recorder.error(tool, f"{failure.get('code')}: {failure.get('message')}")
        return outcome, body


def _classify(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "error" in message:
        return ERROR, {"error": {"code": f"jsonrpc {message['error'].get('code')}", "message": message["error"].get("message")}}
    result = message["result"]
    body = result.get("structuredContent") or json.loads(result["content"][0]["text"])
    if not result.get("isError"):
        return OK, body
    return (CONFLICT if body.get("error", {}).get("code") == "conflict" else ERROR), body
