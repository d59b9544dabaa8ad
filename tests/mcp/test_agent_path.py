"""The path an agent walks, through the official client: parents, stateless calls, roots, reading, sizes.

Each test runs on both stores, in memory (a stdio-like connection) or against the
daemon's HTTP app on a real port in this process, whose own directory (this
process's) is not the project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import Client

from taskweave.server.tools import BY_NAME, TOOLS
from tests.support import call, call_error, connect, http_client, http_daemon, serving

pytestmark = pytest.mark.anyio

ANSWER_BYTES = 4096


def size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, separators=(",", ":")))


async def test_a_parent_is_a_container_from_plan_to_synthesis(store: str, in_project: Path) -> None:
    async with serving(store) as app, connect(app) as client:
        await call(client, "orchestrator_initialize_session")
        plan = await call(
            client, "orchestrator_plan_task", title="Ship", description="d",
            subtasks=[{"title": "build"}, {"title": "test", "dependencies": [0]}],
        )
        parent, (build, test) = plan["task_id"], [s["task_id"] for s in plan["subtasks"]]
        status = await call(client, "orchestrator_get_status")
        assert [t["task_id"] for t in status["tasks"]["ready"]] == [build]
        assert status["progress"]["total"] == 2, "progress counts the work, not the parent"

        refused = await call_error(client, "orchestrator_execute_task", task_id=parent)
        assert refused["code"] == "conflict" and "orchestrator_synthesize_results" in refused["hint"]
        first = await call(client, "orchestrator_execute_task")
        assert first["task"]["task_id"] == build
        await call(client, "orchestrator_complete_task", task_id=build, summary="built")
        second = await call(client, "orchestrator_execute_task")
        assert second["task"]["task_id"] == test
        done = await call(client, "orchestrator_complete_task", task_id=test, summary="tested")
        assert done["parent_progress"]["percent_complete"] == 100.0 and done["parent_progress"]["all_finished"]
        assert done["next_recommended_task"] is None and parent in done["next_step"]
        assert "orchestrator_synthesize_results" in done["next_step"]

        status = await call(client, "orchestrator_get_status")
        assert status["progress"]["percent_complete"] == 100.0
        assert [t["task_id"] for t in status["tasks"]["to_synthesize"]] == [parent]
        nothing = await call_error(client, "orchestrator_execute_task")
        assert parent in nothing["hint"], "with nothing to claim, the hint points at the synthesis"
        attached = await call(client, "orchestrator_initialize_session")
        assert any("orchestrator_synthesize_results" in step and parent in step for step in attached["next_steps"])
        assert not any("Claim the next ready task" in step for step in attached["next_steps"])

        synthesis = await call(client, "orchestrator_synthesize_results", parent_task_id=parent)
        assert synthesis["parent_completed"] is True and synthesis["progress"]["percent_complete"] == 100.0
        status = await call(client, "orchestrator_get_status", include_completed=True)
        assert status["tasks"]["to_synthesize"] == [] and status["progress"]["percent_complete"] == 100.0
        again = await call(client, "orchestrator_plan_task", title="one more", description="", parent_task_id=parent)
        reopened = await call(client, "orchestrator_read_artifact", uri=f"taskweave://tasks/{parent}")
        assert json.loads(reopened["text"])["status"] == "pending", "new work under a finished parent reopens it"
        assert again["task_id"]


async def test_a_daemon_asks_the_client_for_its_roots_and_never_uses_its_own_directory(
    store: str, project: Path
) -> None:
    async def list_roots(_context: Any) -> mcp_types.ListRootsResult:
        return mcp_types.ListRootsResult(roots=[mcp_types.Root(uri=project.as_uri())])  # type: ignore[arg-type]

    async with http_daemon(store) as url:
        async with Client(url, mode="legacy", list_roots_callback=list_roots) as with_roots:  # type: ignore[arg-type]
            init = await call(with_roots, "orchestrator_initialize_session")
            assert init["workspace"]["root"] == str(project)
        async with http_client(url) as without_roots:
            refused = await call_error(without_roots, "orchestrator_initialize_session")
            assert refused["code"] == "invalid_input" and "working_directory" in refused["hint"]
            detected = await call_error(without_roots, "orchestrator_detect_workspace")
            assert detected["code"] == "invalid_input"
            init = await call(without_roots, "orchestrator_initialize_session", working_directory=str(project))
            assert init["workspace"]["root"] == str(project)


async def test_a_stateless_client_names_its_session_and_keeps_one_identity(store: str, project: Path) -> None:
    async with http_daemon(store) as url, http_client(url, mode="2026-07-28") as client:
        init = await call(client, "orchestrator_initialize_session", working_directory=str(project))
        ids = {"session_id": init["session_id"], "client_id": init["client_id"]}
        lost = await call_error(client, "orchestrator_plan_task", title="t", description="d")
        assert lost["code"] == "invalid_input" and "session_id" in lost["hint"]
        plan = await call(client, "orchestrator_plan_task", title="t", description="d", session_id=init["session_id"])
        anonymous = await call_error(
            client, "orchestrator_execute_task", task_id=plan["task_id"], session_id=init["session_id"]
        )
        assert anonymous["code"] == "invalid_input" and "client_id" in anonymous["hint"]
        work = await call(client, "orchestrator_execute_task", task_id=plan["task_id"], **ids)
        assert work["claim"]["client_id"] == init["client_id"]
        done = await call(client, "orchestrator_complete_task", task_id=plan["task_id"], summary="ok", **ids)
        assert done["status"] == "completed"
        status = await call(client, "orchestrator_get_status", session_id=init["session_id"], detail="full")
        assert [c["client_id"] for c in status["clients"]] == [init["client_id"]], "no client per request"


async def test_the_filesystem_root_and_home_are_refused_and_a_markerless_root_is_flagged(
    store: str, in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    loose = tmp_path / "loose" / "notes"
    home.mkdir()
    loose.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    async with serving(store) as app, connect(app) as client:
        for wide in ("/", str(home)):
            refused = await call_error(client, "orchestrator_initialize_session", working_directory=wide)
            assert refused["code"] == "invalid_input" and "working_directory" in refused["hint"], wide
        listing = await call(client, "orchestrator_list_sessions", all=True)
        assert listing["sessions"] == [], "nothing was created"
        init = await call(client, "orchestrator_initialize_session", working_directory=str(loose))
        assert init["next_steps"][0].startswith("Check the workspace") and str(loose) in init["next_steps"][0]


async def test_long_artifacts_and_tasks_are_read_through_a_tool_page_by_page(store: str, in_project: Path) -> None:
    long_text = "\n".join(f"line {n:05d}" for n in range(1_000)) + " end"
    async with serving(store) as app, connect(app) as client:
        await call(client, "orchestrator_initialize_session")
        task = await call(client, "orchestrator_plan_task", title="t", description="d")
        await call(client, "orchestrator_execute_task", task_id=task["task_id"])
        done = await call(client, "orchestrator_complete_task", task_id=task["task_id"], summary="s", detailed_work=long_text)
        artifact = done["artifacts"][0]
        pages, offset = [], 0
        while offset is not None:
            page = await call(client, "orchestrator_read_artifact", artifact_id=artifact["artifact_id"], offset=offset)
            assert page["total_chars"] == len(long_text) and len(page["text"]) <= 3_000 and size(page) <= ANSWER_BYTES
            pages.append(page["text"])
            offset = page["next_offset"]
        assert "".join(pages) == long_text and len(pages) == 4
        whole = await call(client, "orchestrator_read_artifact", uri=artifact["uri"], max_chars=100_000)
        assert whole["text"] == long_text and whole["media_type"] == "text/markdown" and whole["next_offset"] is None
        detail = json.loads((await call(client, "orchestrator_read_artifact", uri=task["uri"], max_chars=20_000))["text"])
        assert detail["summary"] == "s" and detail["artifacts"][0]["artifact_id"] == artifact["artifact_id"]
        for bad in ({}, {"uri": "taskweave://nothing/x"}, {"uri": artifact["uri"], "artifact_id": "a_1"},
                    {"uri": artifact["uri"], "max_chars": 0}):
            error = await call_error(client, "orchestrator_read_artifact", **bad)
            assert error["code"] in ("invalid_input", "not_found"), bad


def _example(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "boolean": False, "array": []}.get(kind or "string", "x")


async def test_null_means_absent_in_every_optional_field_of_every_tool(store: str, in_project: Path) -> None:
    async with serving(store) as app, connect(app) as client:
        init = await call(client, "orchestrator_initialize_session")
        task = await call(client, "orchestrator_plan_task", title="keep me", description="kept", specialist="tester",
                          priority="high")
        for tool in [t for t in TOOLS if t.name != "orchestrator_end_session"] + [BY_NAME["orchestrator_end_session"]]:
            properties = tool.schema["properties"]
            required = set(tool.schema.get("required", ()))
            arguments = {name: None for name in properties if name not in required}
            for name in required:
                arguments[name] = {"task_id": task["task_id"], "session_id": init["session_id"]}.get(
                    name, _example(properties[name])
                )
            result = await client.call_tool(tool.name, arguments)
            if result.is_error:
                error = json.loads(result.content[0].text)["error"]  # type: ignore[union-attr]
                assert error["code"] != "internal" and "None" not in error["message"], (tool.name, error)
        await call(client, "orchestrator_resume_session", session_id=init["session_id"])
        updated = await call(client, "orchestrator_update_task", task_id=task["task_id"], description=None,
                             specialist=None, priority=None, title="renamed")
        assert (updated["description"], updated["specialist"], updated["priority"]) == ("kept", "tester", "high")


async def test_default_answers_stay_small_at_any_session_size(store: str, in_project: Path) -> None:
    async with serving(store) as app:
        async with connect(app, name="planner") as planner:
            init = await call(planner, "orchestrator_initialize_session")
            summaries = "s" * 5_000
            deps = []
            for n in range(5):
                dep = await call(planner, "orchestrator_plan_task", title=f"dependency {n}", description="d")
                await call(planner, "orchestrator_execute_task", task_id=dep["task_id"])
                await call(planner, "orchestrator_complete_task", task_id=dep["task_id"], summary=summaries,
                           artifacts=[{"name": f"f{i}.txt", "content": "x"} for i in range(8)])
                deps.append(dep["task_id"])
            await call(planner, "orchestrator_plan_task", title="big", description="d",
                       subtasks=[{"title": f"subtask {n:03d} with a longish title"} for n in range(100)])
            target = await call(planner, "orchestrator_plan_task", title="uses all", description="d", dependencies=deps)
            for n in range(30):
                await call(planner, "orchestrator_initialize_session", new_session=True, session_name=f"side {n:02d}")
            await call(planner, "orchestrator_resume_session", session_id=init["session_id"])
        for n in range(12):
            async with connect(app, name=f"agent-{n}") as agent:
                await call(agent, "orchestrator_initialize_session")
                await call(agent, "orchestrator_execute_task")
        async with connect(app, name="worker") as worker:
            answers = {
                "initialize": await call(worker, "orchestrator_initialize_session"),
                "get_status": await call(worker, "orchestrator_get_status"),
                "get_status since 0": await call(worker, "orchestrator_get_status", since=0),
                "query_tasks": await call(worker, "orchestrator_query_tasks"),
                "execute_task": await call(worker, "orchestrator_execute_task", task_id=target["task_id"]),
                "complete_task": await call(worker, "orchestrator_complete_task", task_id=target["task_id"], summary="ok"),
                "list_sessions": await call(worker, "orchestrator_list_sessions"),
                "synthesize_results": await call(worker, "orchestrator_synthesize_results"),
            }
            tools = await worker.list_tools()
        for name, answer in answers.items():
            assert size(answer) <= ANSWER_BYTES, (name, size(answer), answer)
        assert answers["get_status since 0"]["events_truncated"] is True
        assert answers["list_sessions"]["cut"]["sessions"] > 0
        report = answers["synthesize_results"]["report"]
        assert report.endswith("read it with orchestrator_read_artifact]\n") and report.startswith("# Results")
        listed = json.dumps(tools.model_dump(by_alias=True, mode="json", exclude_none=True), separators=(",", ":"))
        assert len(listed) <= 8192
        assert init["session_id"]
