"""Taskweave instances in fresh interpreters, for the races between processes.

A spawned interpreter imports the module of the job it runs: the jobs live here,
beside `in_processes`, and this module imports only taskweave's domain and
store (no MCP, no test client), so that each instance starts in a moment.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

from taskweave.core.clients import ClientInfo
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskDraft
from taskweave.errors import Conflict
from taskweave.store import open_store
from taskweave.workspace import detect_workspace


def _instance(location: str, job: Callable[..., Any], args: tuple[Any, ...], barrier: Any, results: Any) -> None:
    opened = open_store(location)
    try:
        results.put(job(Orchestrator(opened), barrier, *args))
    finally:
        opened.close()


def in_processes(job: Callable[..., Any], count: int, location: str, *args: Any) -> list[Any]:
    """`job(orchestrator, barrier, *args)` in `count` fresh interpreters, each its own taskweave instance."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [context.Process(target=_instance, args=(location, job, args, barrier, results)) for _ in range(count)]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return collected


def share_a_store(orchestrator: Orchestrator, barrier: Any, project: str, plans: int) -> dict[str, Any]:
    """Initialize all at once, plan one contested task under one idempotency key, race for it, then plan more."""
    workspace = detect_workspace(project)
    barrier.wait()
    init = orchestrator.sessions.initialize(workspace, client=ClientInfo(name="racer", version="1.0", transport="test"))
    session_id, client_id = init["session_id"], init["client_id"]
    task_id = orchestrator.tasks.plan(
        session_id, client_id, TaskDraft(title="contested"), idempotency_key="contested"
    )["task_id"]
    barrier.wait()
    try:
        orchestrator.work.execute(session_id, client_id, task_id)
        won = True
    except Conflict:
        won = False
    for n in range(plans):
        orchestrator.tasks.plan(session_id, client_id, TaskDraft(title=f"task {n}"), subtasks=[TaskDraft(title="sub")])
    return {"session_id": session_id, "task_id": task_id, "won": won}
