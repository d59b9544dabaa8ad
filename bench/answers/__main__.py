"""What agents pay in context for taskweave: the size of `tools/list` and of typical answers.

    python -m bench.answers

A server in this process, driven in memory by the official MCP client, in a
temporary git workspace: one agent plans a parent with five subtasks and works
two of them, while others hold claims; the answers are measured at a small
session and again after 1,000 more tasks. Targets: `tools/list` at most 8 KB
for the whole surface; every default answer at most 4 KB at any session size.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import mcp_types
from mcp import Client

from bench.common import make_git_workspace, print_environment
from taskweave.core.orchestrator import Orchestrator
from taskweave.server.mcp_server import TaskweaveServer
from taskweave.store import open_store

TOOLS_LIST_BYTES = 8192
ANSWER_BYTES = 4096


def _bytes(body: Any) -> int:
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    body: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {body}")
    return body


async def _measure(workspace: Path, store: str) -> list[tuple[str, int]]:
    opened = open_store(store)
    app = TaskweaveServer(Orchestrator(opened), transport="stdio")
    rows: list[tuple[str, int]] = []
    identity = mcp_types.Implementation(name="bench-agent", version="1")
    try:
        async with app.background(), Client(app.server, mode="legacy", client_info=identity) as agent:
            listed = await agent.list_tools()
            rows.append(("tools/list", _bytes(listed.model_dump(by_alias=True, mode="json", exclude_none=True))))
            for size in ("small session", "after 1,000 more tasks"):
                if size != "small session":
                    for batch in range(10):
                        subtasks = [{"title": f"batch {batch} step {n} of the larger plan"} for n in range(99)]
                        await _call(agent, "orchestrator_plan_task", title=f"plan {batch}", description="", subtasks=subtasks)
                init = await _call(agent, "orchestrator_initialize_session", working_directory=str(workspace))
                plan = await _call(
                    agent, "orchestrator_plan_task", title="Add search", description="Full-text search over notes.",
                    subtasks=[{"title": title, "dependencies": [n - 1] if n else []} for n, title in
                              enumerate(("Design the index", "Build it", "Test it", "Document it", "Review it"))],
                )
                first = plan["subtasks"][0]["task_id"]
                await _call(agent, "orchestrator_execute_task", task_id=first)
                await _call(agent, "orchestrator_complete_task", task_id=first, summary="An inverted index in SQLite FTS5.",
                            detailed_work="# Design\n" + "details " * 400)
                work = await _call(agent, "orchestrator_execute_task")
                status = await _call(agent, "orchestrator_get_status")
                rows += [
                    (f"initialize_session ({size})", _bytes(init)),
                    (f"execute_task ({size})", _bytes(work)),
                    (f"get_status ({size})", _bytes(status)),
                ]
                await _call(agent, "orchestrator_complete_task", task_id=work["task"]["task_id"], summary="Built.")
    finally:
        opened.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.split("\n")[0]).parse_args(argv)
    print_environment()
    with tempfile.TemporaryDirectory(prefix="taskweave-answers-") as scratch:
        workspace = make_git_workspace(Path(scratch) / "project")
        rows = anyio.run(_measure, workspace, str(Path(scratch) / "store.db"))
    failed = False
    print(f"{'answer':<45} {'bytes':>7}  target")
    for name, size in rows:
        limit = TOOLS_LIST_BYTES if name == "tools/list" else ANSWER_BYTES
        verdict = "PASS" if size <= limit else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{name:<45} {size:>7,}  <= {limit:,} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
