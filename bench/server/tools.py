"""Per-tool latency: every taskweave tool in one long-lived stdio session, against the baseline's no-op tool.

Each taskweave call is followed by one no-op call on the baseline server, so
both see the same machine noise. The workload follows an agent's life: plan,
claim, complete, update, read the status, re-attach, cancel, synthesize, end
and resume. Reads come after the plan is built, so they run on a session of
about 7 x iterations tasks rather than on an empty one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp import Client

from bench.common import Row, Section, call, connect, taskweave_params, timed_call
from bench.server.baseline import NOOP_TOOL, baseline_params

TARGET = 2.0
WARMUP = 5
SUBTASKS = [
    {"title": "Design the interface", "description": "Sketch the public API.", "specialist": "architect"},
    {"title": "Implement it", "description": "Write the code.", "specialist": "implementer", "dependencies": [0]},
    {"title": "Test it", "description": "Unit and integration tests.", "specialist": "tester", "dependencies": [1]},
    {"title": "Review it", "description": "Read the diff.", "specialist": "reviewer", "dependencies": [1]},
    {"title": "Document it", "description": "Update the README.", "specialist": "documenter", "dependencies": [0]},
]


class ToolBench:
    """Runs the workload and keeps the samples: per taskweave tool, and for the interleaved no-op calls."""

    def __init__(self, taskweave: Client, baseline: Client, workspace: Path, iterations: int) -> None:
        self.taskweave = taskweave
        self.baseline = baseline
        self.workspace = str(workspace)
        self.iterations = iterations
        self.samples: dict[str, list[float]] = {}
        self.noop_by_label: dict[str, list[float]] = {}
        self.session_id = ""
        self.client_id = ""

    @property
    def runs(self) -> range:
        """Warm-up calls first, then the timed ones."""
        return range(WARMUP + self.iterations)

    async def measure_one(self, label: str, tool: str, arguments: dict[str, Any], *, timed: bool) -> dict[str, Any]:
        seconds, body = await timed_call(self.taskweave, tool, arguments)
        noop_seconds, _ = await timed_call(self.baseline, NOOP_TOOL)
        if timed:
            self.samples.setdefault(label, []).append(seconds)
            self.noop_by_label.setdefault(label, []).append(noop_seconds)
        return body

    async def measure(self, label: str, tool: str, arguments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Call `tool` once per argument set; the first WARMUP calls are not timed."""
        return [
            await self.measure_one(label, tool, args, timed=index >= WARMUP) for index, args in enumerate(arguments)
        ]

    async def attach(self) -> None:
        body = await call(self.taskweave, "orchestrator_initialize_session", {"working_directory": self.workspace})
        self.session_id, self.client_id = body["session_id"], body["client_id"]

    async def plan(self) -> tuple[list[str], list[dict[str, Any]]]:
        single = await self.measure(
            "orchestrator_plan_task",
            "orchestrator_plan_task",
            [
                {
                    "title": f"Fix bug #{i}",
                    "description": f"The parser drops the last line of input file {i}; make it keep it.",
                    "specialist": "debugger",
                    "priority": "high",
                }
                for i in self.runs
            ],
        )
        parents = await self.measure(
            "orchestrator_plan_task (+5 subtasks)",
            "orchestrator_plan_task",
            [
                {"title": f"Feature {i}", "description": f"Add export format {i} to the report command.", "subtasks": SUBTASKS}
                for i in self.runs
            ],
        )
        return [body["task_id"] for body in single], parents

    async def execute_and_complete(self, task_ids: list[str]) -> None:
        await self.measure("orchestrator_execute_task", "orchestrator_execute_task", [{"task_id": t} for t in task_ids])
        await self.measure(
            "orchestrator_complete_task",
            "orchestrator_complete_task",
            [{"task_id": t, "summary": "Kept the trailing line; added a regression test."} for t in task_ids],
        )

    async def update(self, parents: list[dict[str, Any]]) -> None:
        await self.measure(
            "orchestrator_update_task",
            "orchestrator_update_task",
            [
                {
                    "task_id": parent["subtasks"][4]["task_id"],
                    "expected_version": 1,
                    "priority": "low",
                    "description": "Update the README and the changelog.",
                }
                for parent in parents
            ],
        )

    async def read(self) -> None:
        n = len(self.runs)
        await self.measure("orchestrator_get_status", "orchestrator_get_status", [{}] * n)
        await self.measure(
            "orchestrator_query_tasks", "orchestrator_query_tasks", [{"status": "pending", "limit": 20}] * n
        )
        await self.measure(
            "orchestrator_list_sessions", "orchestrator_list_sessions", [{"working_directory": self.workspace}] * n
        )
        await self.measure(
            "orchestrator_initialize_session (re-attach)",
            "orchestrator_initialize_session",
            [{"working_directory": self.workspace, "client_id": self.client_id}] * n,
        )
        await self.measure(
            "orchestrator_detect_workspace",
            "orchestrator_detect_workspace",
            [{"working_directory": self.workspace}] * n,
        )

    async def cancel(self, parents: list[dict[str, Any]]) -> None:
        await self.measure(
            "orchestrator_cancel_task (cascade)",
            "orchestrator_cancel_task",
            [{"task_id": p["task_id"], "reason": "Dropped from the release.", "cascade": True} for p in parents],
        )

    async def synthesize(self) -> None:
        """Synthesize one parent whose five subtasks are done, the way a planner wraps up a feature."""
        parent = await call(
            self.taskweave,
            "orchestrator_plan_task",
            {"title": "Release 1.0", "description": "Ship it.", "subtasks": SUBTASKS},
        )
        for subtask in parent["subtasks"]:
            await call(self.taskweave, "orchestrator_execute_task", {"task_id": subtask["task_id"]})
            await call(
                self.taskweave,
                "orchestrator_complete_task",
                {
                    "task_id": subtask["task_id"],
                    "summary": f"{subtask['title']}: done.",
                    "detailed_work": "Changed files: src/app.py, tests/test_app.py.\n" * 20,
                },
            )
        await self.measure(
            "orchestrator_synthesize_results",
            "orchestrator_synthesize_results",
            [{"parent_task_id": parent["task_id"]}] * len(self.runs),
        )

    async def end_and_resume(self) -> None:
        for index in self.runs:
            timed = index >= WARMUP
            await self.measure_one("orchestrator_end_session", "orchestrator_end_session", {}, timed=timed)
            await self.measure_one(
                "orchestrator_resume_session",
                "orchestrator_resume_session",
                {"session_id": self.session_id},
                timed=timed,
            )

    async def run_all(self) -> None:
        await self.attach()
        plain, parents = await self.plan()
        await self.execute_and_complete(plain)
        await self.update(parents)
        await self.read()
        await self.cancel(parents)
        await self.synthesize()
        await self.end_and_resume()


async def run(tmp: Path, workspace: Path, iterations: int) -> Section:
    async with connect(taskweave_params(tmp / "tools.db", cwd=workspace)) as taskweave, connect(baseline_params()) as baseline:
        bench = ToolBench(taskweave, baseline, workspace, iterations)
        await bench.run_all()
    noop = [s for samples in bench.noop_by_label.values() for s in samples]
    rows = [Row(f"baseline {NOOP_TOOL} (all interleaved calls)", noop)] + [
        Row(label, samples, reference=statistics.median(bench.noop_by_label[label]), target=TARGET)
        for label, samples in bench.samples.items()
    ]
    return Section(
        "2. Per-tool round trip, one long-lived stdio session per server",
        "no-op",
        rows,
        notes=[
            "ratio = tool median / median of the baseline no-op calls interleaved with that tool's calls "
            f"(same time window, same noise); {iterations} timed calls per tool after {WARMUP} warm-up calls"
        ],
    )
