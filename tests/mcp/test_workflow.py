"""The agent's workflow through the MCP layer: the official client, in memory, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import mcp_types
import pytest

from taskweave.server.tools import TOOLS
from tests.support import call, call_error, connect, serving

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_full_workflow(store: str, in_project: Path, mode: str) -> None:
    project = in_project
    async with serving(store) as app, connect(app, mode=mode) as client:
        tools = await client.list_tools()
        assert len(tools.tools) == len(TOOLS)
        init = await call(client, "orchestrator_initialize_session")
        assert init["attached"] is False and init["workspace"]["root"] == str(project)
        assert init["workspace"]["types"] == ["python"]

        plan = await call(
            client,
            "orchestrator_plan_task",
            title="Ship search",
            description="Full-text search over notes",
            subtasks=[
                {"title": "Design index", "specialist": "architect"},
                {"title": "Implement", "dependencies": [0]},
                {"title": "Test", "specialist": "tester", "dependencies": [1]},
            ],
        )
        ids = [s["task_id"] for s in plan["subtasks"]]
        for index, task_id in enumerate(ids):
            work = await call(client, "orchestrator_execute_task", task_id=task_id)
            assert work["claim"]["client_id"] == init["client_id"]
            if index:
                assert work["dependencies"][0]["summary"] == f"done {index - 1}"
            done = await call(
                client, "orchestrator_complete_task", task_id=task_id, summary=f"done {index}",
                detailed_work=f"## Notes {index}\n" + "details " * 500,
                artifacts=[{"name": f"log-{index}.txt", "content": "ok"}],
            )
            assert len(done["artifacts"]) == 2
        assert done["parent_progress"]["all_finished"] is True

        synthesis = await call(client, "orchestrator_synthesize_results", parent_task_id=plan["task_id"])
        assert "### architect" in synthesis["report"] and "### tester" in synthesis["report"]
        assert synthesis["progress"]["percent_complete"] == 100.0
        artifact = await client.read_resource(synthesis["artifact"]["uri"])
        assert artifact.contents[0].text == synthesis["report"]

        assert synthesis["parent_completed"] is True
        status = await call(client, "orchestrator_get_status", include_completed=True)
        assert status["counts"]["completed"] == 3 and status["counts"]["pending"] == 0
        assert status["progress"]["percent_complete"] == 100.0 and status["tasks"]["to_synthesize"] == []
        prompt = await client.get_prompt("taskweave-workflow")
        assert "orchestrator_plan_task" in prompt.messages[0].content.text


async def test_second_server_attaches_to_the_same_session(store: str, in_project: Path) -> None:
    async with serving(store) as planning, serving(store) as working, connect(
        planning, name="planner"
    ) as planner, connect(working, name="worker") as worker:
        first = await call(planner, "orchestrator_initialize_session")
        second = await call(worker, "orchestrator_initialize_session", working_directory=str(in_project / "src"))
        assert second["session_id"] == first["session_id"] and second["attached"] is True
        plan = await call(planner, "orchestrator_plan_task", title="t", description="d")
        claimed = await call(worker, "orchestrator_execute_task", task_id=plan["task_id"])
        assert claimed["claim"]["client_id"] == second["client_id"]
        error = await call_error(planner, "orchestrator_complete_task", task_id=plan["task_id"], summary="mine")
        assert error["code"] == "conflict" and second["client_id"] in error["message"]
        status = await call(planner, "orchestrator_get_status")
        assert {c["name"] for c in status["clients"]} == {"planner", "worker"}
        assert status["tasks"]["in_progress"][0]["claim"]["client_id"] == second["client_id"]


async def test_restart_reattaches_with_tasks_claims_and_artifacts(store: str, in_project: Path) -> None:
    async with serving(store) as app, connect(app) as client:
        init = await call(client, "orchestrator_initialize_session")
        plan = await call(
            client, "orchestrator_plan_task", title="p", description="d", subtasks=[{"title": "a"}, {"title": "b"}]
        )
        a, b = (s["task_id"] for s in plan["subtasks"])
        await call(client, "orchestrator_execute_task", task_id=a)
        done = await call(client, "orchestrator_complete_task", task_id=a, summary="A done", detailed_work="long A")
        await call(client, "orchestrator_execute_task", task_id=b)
        before = await call(client, "orchestrator_get_status", include_completed=True)

    async with serving(store) as app, connect(app) as client:
        status = await call(client, "orchestrator_get_status", include_completed=True)
        assert status["session_id"] == init["session_id"]
        again = await call(client, "orchestrator_initialize_session", client_id=init["client_id"])
        assert again["attached"] is True and again["client_id"] == init["client_id"]
        assert again["your_claims"] == [b]
        after = await call(client, "orchestrator_get_status", include_completed=True)
        assert after["counts"] == before["counts"]
        assert [t["task_id"] for t in after["tasks"]["in_progress"]] == [b]
        artifact = await client.read_resource(done["artifacts"][0]["uri"])
        assert artifact.contents[0].text == "long A"
        task = json.loads((await client.read_resource(f"taskweave://tasks/{a}")).contents[0].text)
        assert task["summary"] == "A done" and task["status"] == "completed"
        finished = await call(client, "orchestrator_complete_task", task_id=b, summary="B done")
        assert finished["parent_progress"]["all_finished"] is True


async def test_bad_input_gets_clear_errors_and_changes_nothing(store: str, in_project: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    async with serving(store) as app, connect(app, name="a") as client, connect(app, name="b") as other:
        await call(client, "orchestrator_initialize_session")
        await call(other, "orchestrator_initialize_session")
        plan = await call(client, "orchestrator_plan_task", title="p", description="d", subtasks=[{"title": "a"}])
        parent, child = plan["task_id"], plan["subtasks"][0]["task_id"]
        await call(other, "orchestrator_execute_task", task_id=child)
        before = await call(client, "orchestrator_get_status", since=0)

        cases = [
            ("orchestrator_execute_task", {"task_id": "t_unknown"}, "not_found"),
            ("orchestrator_get_status", {"session_id": "s_unknown"}, "not_found"),
            ("orchestrator_get_status", {"client_id": "c_unknown"}, "not_found"),
            ("orchestrator_initialize_session", {"client_id": "c_unknown"}, "not_found"),
            ("orchestrator_plan_task", {"description": "no title"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": 42, "description": "d"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "t", "description": "d", "subtasks": "many"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "t", "description": "d", "colour": "red"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "x" * 201, "description": "d"}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "t", "description": "d" * 20_001}, "invalid_input"),
            ("orchestrator_plan_task", {"title": "t", "description": "d", "priority": "urgent"}, "invalid_input"),
            ("orchestrator_query_tasks", {"limit": "ten"}, "invalid_input"),
            ("orchestrator_query_tasks", {"limit": 10_000}, "invalid_input"),
            ("orchestrator_update_task", {"task_id": parent, "status": "completed"}, "invalid_input"),
            ("orchestrator_update_task", {"task_id": parent, "dependencies": [parent]}, "invalid_input"),
            ("orchestrator_update_task", {"task_id": parent, "parent_task_id": child}, "invalid_input"),
            ("orchestrator_update_task", {"task_id": parent, "title": "t", "expected_version": 99}, "conflict"),
            ("orchestrator_complete_task", {"task_id": child, "summary": "stolen"}, "conflict"),
            ("orchestrator_complete_task", {"task_id": parent, "summary": "unclaimed"}, "conflict"),
            ("orchestrator_execute_task", {"task_id": child}, "conflict"),
            ("orchestrator_execute_task", {"task_id": parent, "lease_seconds": 1}, "invalid_input"),
            ("orchestrator_initialize_session", {"working_directory": str(tmp_path / "missing")}, "invalid_input"),
            ("orchestrator_initialize_session", {"working_directory": str(a_file)}, "invalid_input"),
            ("orchestrator_resume_session", {"session_id": "s_unknown"}, "not_found"),
            ("orchestrator_no_such_tool", {}, "not_found"),
        ]
        for tool, arguments, code in cases:
            error = await call_error(client, tool, **arguments)
            assert error["code"] == code, (tool, arguments, error)

        after = await call(client, "orchestrator_get_status", since=0)
        assert after["last_event_seq"] == before["last_event_seq"]
        assert after["counts"] == before["counts"]


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_subscribers_hear_changes_made_by_another_server(store: str, in_project: Path) -> None:
    updates: list[str] = []
    received = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, mcp_types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            received.set()

    async with serving(store) as watching, serving(store) as writing, connect(
        watching, message_handler=on_message
    ) as watcher, connect(writing, name="writer") as writer:
        init = await call(writer, "orchestrator_initialize_session")
        plan = await call(writer, "orchestrator_plan_task", title="t", description="d")
        await watcher.subscribe_resource(f"taskweave://tasks/{plan['task_id']}")
        await watcher.subscribe_resource(f"taskweave://sessions/{init['session_id']}/status")
        await call(writer, "orchestrator_execute_task", task_id=plan["task_id"])
        with anyio.fail_after(5):
            await received.wait()
        await anyio.sleep(0.5)
        assert f"taskweave://tasks/{plan['task_id']}" in updates
        assert f"taskweave://sessions/{init['session_id']}/status" in updates
        with pytest.raises(Exception, match="No task"):
            await watcher.subscribe_resource("taskweave://tasks/t_unknown")


async def test_a_new_server_finds_the_session_exactly_as_it_was(store: str, in_project: Path) -> None:
    async with serving(store) as app, connect(app) as client:
        init = await call(client, "orchestrator_initialize_session")
        plan = await call(client, "orchestrator_plan_task", title="p", description="",
                          subtasks=[{"title": "a"}, {"title": "b", "dependencies": [0]}])
        await call(client, "orchestrator_execute_task", task_id=plan["subtasks"][0]["task_id"])
        before = await call(client, "orchestrator_get_status", include_completed=True, since=0)
    async with serving(store) as app, connect(app) as client:
        after = await call(client, "orchestrator_get_status", include_completed=True, since=0)
    for volatile in ("clients", "last_activity_at", "last_event_seq", "events"):
        before.pop(volatile), after.pop(volatile)
    assert after == before and after["session_id"] == init["session_id"]
