"""Crash safety: kill servers with SIGKILL while clients write, then prove nothing acknowledged was lost.

Each cycle starts several `taskweave serve` processes on one store, lets a
client write through each of them (plan tasks, claim and complete them), and
kills every server with SIGKILL at a random moment. A write counts as
acknowledged only when its answer arrived. After the last cycle the store is
opened again and every acknowledged write is looked up, and `taskweave check`
must find the store sound.

    python -m bench.crash                 # 500 cycles, 3 writers
    python -m bench.crash --cycles 50 --json result.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import StdioConnection, TransportError, make_git_repository, open_store, taskweave_command


@dataclass
class Acknowledged:
    """Writes whose answers arrived: these must all be in the store afterwards."""

    tasks: set[str] = field(default_factory=set)
    completions: dict[str, str] = field(default_factory=dict)


async def start_writer(store: Path, workspace: Path) -> StdioConnection:
    """A server process of its own for one client; what it says on stderr is dropped."""
    return await StdioConnection.start(str(store), workspace, Path(os.devnull), "crash-writer")


async def tool(writer: StdioConnection, name: str, **arguments: Any) -> tuple[bool, dict[str, Any]]:
    """Call a tool: whether it succeeded, and its JSON body."""
    result = (await writer.request("tools/call", {"name": name, "arguments": arguments}))["result"]
    body: dict[str, Any] = json.loads(result["content"][0]["text"])
    return not result.get("isError"), body


def kill(writer: StdioConnection) -> None:
    if writer.process.returncode is None:
        writer.process.kill()


async def write_until_killed(writer: StdioConnection, acknowledged: Acknowledged, rng: random.Random) -> None:
    try:
        await tool(writer, "orchestrator_initialize_session")
        while True:
            ok, planned = await tool(
                writer, "orchestrator_plan_task", title=f"task {rng.random():.6f}", description="crash test",
                subtasks=[{"title": "step"}] if rng.random() < 0.3 else [],
            )
            if ok:
                acknowledged.tasks.add(planned["task_id"])
                acknowledged.tasks.update(s["task_id"] for s in planned["subtasks"])
                task_id = planned["task_id"]
                claimed, _ = await tool(writer, "orchestrator_execute_task", task_id=task_id)
                if claimed and rng.random() < 0.7:
                    summary = f"done {rng.random():.6f}"
                    completed, _ = await tool(writer, "orchestrator_complete_task", task_id=task_id, summary=summary)
                    if completed:
                        acknowledged.completions[task_id] = summary
    except (TransportError, ConnectionError, json.JSONDecodeError):
        return


async def cycle(store: Path, workspace: Path, writers: int, acknowledged: Acknowledged, rng: random.Random) -> None:
    started = await asyncio.gather(*(start_writer(store, workspace) for _ in range(writers)))
    tasks = [asyncio.create_task(write_until_killed(w, acknowledged, rng)) for w in started]
    for writer in rng.sample(started, len(started)):
        await asyncio.sleep(rng.uniform(0.0, 0.25))
        kill(writer)
    await asyncio.gather(*tasks)
    await asyncio.gather(*(w.process.wait() for w in started))


def verify(store_location: str, acknowledged: Acknowledged) -> dict[str, Any]:
    started = time.perf_counter()
    with open_store(store_location) as store:
        reopen_seconds = time.perf_counter() - started
        with store.transaction(write=False) as tx:
            found = {row["id"] for row in tx.tasks_by_ids(sorted(acknowledged.tasks))}
            finished = {row["id"]: row for row in tx.tasks_by_ids(sorted(acknowledged.completions))}
        problems = store.check()
    lost_completions = [
        task_id for task_id, summary in acknowledged.completions.items()
        if task_id not in finished or finished[task_id]["status"] != "completed" or finished[task_id]["summary"] != summary
    ]
    check = subprocess.run(taskweave_command("check", "--store", store_location), capture_output=True, text=True)
    return {
        "acknowledged_tasks": len(acknowledged.tasks),
        "acknowledged_completions": len(acknowledged.completions),
        "lost_tasks": len(acknowledged.tasks - found),
        "lost_completions": len(lost_completions),
        "store_problems": problems,
        "taskweave_check_exit": check.returncode,
        "taskweave_check_output": check.stdout.strip() or check.stderr.strip(),
        "reopen_seconds": reopen_seconds,
    }


async def run(cycles: int, writers: int, seed: int, workdir: Path) -> dict[str, Any]:
    workspace = make_git_repository(workdir / "project")
    store = workdir / "store.db"
    rng = random.Random(seed)
    acknowledged = Acknowledged()
    started = time.perf_counter()
    for _ in range(cycles):
        await cycle(store, workspace, writers, acknowledged, rng)
    elapsed = time.perf_counter() - started
    return {"cycles": cycles, "writers": writers, "seed": seed, "seconds": elapsed} | verify(str(store), acknowledged)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--writers", type=int, default=3, help="server processes (one client each) per cycle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taskweave-crash-") as workdir:
        result = asyncio.run(run(args.cycles, args.writers, args.seed, Path(workdir)))
    sound = not result["lost_tasks"] and not result["lost_completions"] and not result["store_problems"]
    sound = sound and result["taskweave_check_exit"] == 0
    result["verdict"] = "PASS" if sound else "FAIL"
    print(f"{'cycles':<28}{result['cycles']} ({result['writers']} writers killed with SIGKILL in each)")
    print(f"{'time':<28}{result['seconds']:.1f} s ({result['seconds'] / result['cycles'] * 1000:.0f} ms per cycle)")
    print(f"{'acknowledged tasks':<28}{result['acknowledged_tasks']}, lost {result['lost_tasks']}")
    print(f"{'acknowledged completions':<28}{result['acknowledged_completions']}, lost {result['lost_completions']}")
    print(f"{'store problems':<28}{result['store_problems'] or 'none'}")
    print(f"{'taskweave check':<28}{result['taskweave_check_output']}")
    print(f"{'reopen after last crash':<28}{result['reopen_seconds'] * 1000:.1f} ms")
    print(f"verdict: {result['verdict']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if sound else 1


if __name__ == "__main__":
    raise SystemExit(main())
