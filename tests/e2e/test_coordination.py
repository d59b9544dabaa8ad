"""Coordination beyond claims, between real `taskweave serve` processes: path reservations and messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support import RawServer, call, call_error, stdio_client

pytestmark = pytest.mark.anyio

SHORT_LEASE = {"TASKWEAVE_LEASE_SECONDS": "2"}
FREQUENT_SWEEP = {"TASKWEAVE_SWEEP_SECONDS": "0.2"}


def messages(answer: dict[str, Any]) -> list[str]:
    return [m["text"] for m in answer.get("messages", [])]


async def test_reservations_refuse_overlaps_and_end_with_the_claim(process_store: str, project: Path) -> None:
    async with stdio_client(process_store, project, name="alice") as alice, stdio_client(
        process_store, project, name="bob", **FREQUENT_SWEEP
    ) as bob:
        await call(alice, "orchestrator_initialize_session")
        bob_id = (await call(bob, "orchestrator_initialize_session"))["client_id"]
        first, second, third = [
            (await call(alice, "orchestrator_plan_task", title=title, description=""))["task_id"]
            for title in ("api", "docs", "api tests")
        ]
        held = await call(alice, "orchestrator_execute_task", task_id=first, paths=["src/api/**"])
        assert held["task"]["claim"]["paths"] == ["src/api/**"]
        refused = await call_error(bob, "orchestrator_execute_task", task_id=third, paths=["src/api/routes.py"])
        assert refused["code"] == "conflict" and refused["task_id"] == first
        assert refused["overlapping"] == [["src/api/routes.py", "src/api/**"]]
        assert "src/api/routes.py overlaps src/api/**" in refused["message"]
        await call(bob, "orchestrator_execute_task", task_id=second, paths=["docs/**", "README.md"])
        status = await call(bob, "orchestrator_get_status")
        reserved = {t["task_id"]: t["claim"].get("paths") for t in status["tasks"]["in_progress"]}
        assert reserved == {first: ["src/api/**"], second: ["docs/**", "README.md"]}

        await call(alice, "orchestrator_complete_task", task_id=first, summary="done")
        await call(bob, "orchestrator_execute_task", task_id=third, paths=["src/api/routes.py"])
        for bad, message in ((["/etc"], "absolute"), (["../x"], "leaves the workspace"), (["src/[x"], "well-formed")):
            error = await call_error(alice, "orchestrator_execute_task", paths=bad)
            assert error["code"] == "invalid_input" and message in error["message"]
        after = await call(alice, "orchestrator_get_status")
        assert {t["task_id"] for t in after["tasks"]["in_progress"]} == {second, third}
        assert bob_id


async def test_a_killed_clients_reservation_lapses_with_its_claim(process_store: str, project: Path) -> None:
    async with stdio_client(process_store, project, name="survivor", **FREQUENT_SWEEP) as survivor:
        await call(survivor, "orchestrator_initialize_session")
        doomed = RawServer(process_store, project, **SHORT_LEASE)
        doomed.tool("orchestrator_initialize_session")
        task_id = doomed.tool("orchestrator_plan_task", title="fragile", description="")["task_id"]
        doomed.tool("orchestrator_execute_task", task_id=task_id, paths=["src/**"])
        other = (await call(survivor, "orchestrator_plan_task", title="other", description=""))["task_id"]
        refused = await call_error(survivor, "orchestrator_execute_task", task_id=other, paths=["src/main.py"])
        assert refused["task_id"] == task_id
        doomed.kill()
        with anyio.fail_after(20):
            while True:
                result = await survivor.call_tool("orchestrator_execute_task", {"task_id": other, "paths": ["src/main.py"]})
                if not result.is_error:
                    break
                await anyio.sleep(0.2)


async def test_messages_reach_a_client_a_specialist_and_everyone_once_across_restarts(process_store: str, project: Path) -> None:
    async with stdio_client(process_store, project, name="lead") as lead:
        await call(lead, "orchestrator_initialize_session")
        async with stdio_client(process_store, project, name="worker") as worker:
            worker_id = (await call(worker, "orchestrator_initialize_session"))["client_id"]
            sent = await call(lead, "orchestrator_send_message", to=worker_id, text="Take the parser, please.")
            assert sent["to"] == worker_id
            answer = await call(worker, "orchestrator_get_status")
            assert messages(answer) == ["Take the parser, please."]
            assert messages(await call(worker, "orchestrator_get_status")) == [], "delivered once"

        await call(lead, "orchestrator_send_message", to=worker_id, text="Sent while you were away.")
        await call(lead, "orchestrator_send_message", to="all", text="Freeze at five.")
        async with stdio_client(process_store, project, name="worker") as back:
            again = await call(back, "orchestrator_initialize_session", client_id=worker_id)
            assert messages(again) == ["Sent while you were away.", "Freeze at five."], "after reconnect and restart"
        assert messages(await call(lead, "orchestrator_get_status")) == [], "a broadcast skips its sender"

        plan = await call(lead, "orchestrator_plan_task", title="p", description="",
                          subtasks=[{"title": "write tests", "specialist": "tester"}])
        await call(lead, "orchestrator_send_message", to="tester", text="Mind the flaky fixture.",
                   task_id=plan["subtasks"][0]["task_id"])
        async with stdio_client(process_store, project, name="tester-agent") as tester:
            await call(tester, "orchestrator_initialize_session")
            work = await call(tester, "orchestrator_execute_task", specialist="tester")
            assert messages(work) == ["Mind the flaky fixture."]
            assert work["messages"][0]["task_id"] == plan["subtasks"][0]["task_id"]
        async with stdio_client(process_store, project, name="another") as another:
            await call(another, "orchestrator_initialize_session")
            assert messages(await call(another, "orchestrator_get_status")) == [], "a specialist's message goes once"

        for bad, code in (({"to": "c_nobody", "text": "hi"}, "not_found"), ({"to": "wizard", "text": "hi"}, "invalid_input"),
                          ({"to": "all", "text": "x" * 4_001}, "invalid_input"), ({"to": "all", "text": " "}, "invalid_input")):
            error = await call_error(lead, "orchestrator_send_message", **bad)
            assert error["code"] == code, (bad, error)
        events = (await call(lead, "orchestrator_get_status", since=0, detail="full"))["events"]
        assert [e["kind"] for e in events].count("message.sent") == 4


async def test_a_flood_of_messages_never_makes_one_answer_large(process_store: str, project: Path) -> None:
    async with stdio_client(process_store, project, name="lead") as lead, stdio_client(process_store, project, name="worker") as worker:
        await call(lead, "orchestrator_initialize_session")
        worker_id = (await call(worker, "orchestrator_initialize_session"))["client_id"]
        for n in range(12):
            await call(lead, "orchestrator_send_message", to=worker_id, text=f"{n:02d} " + "long " * 700)
        seen: list[str] = []
        while batch := (await call(worker, "orchestrator_get_status")).get("messages", []):
            assert len(batch) <= 3 and all(len(m["text"]) < 500 for m in batch)
            seen += [m["text"][:2] for m in batch]
            whole = await call(worker, "orchestrator_read_artifact", uri=batch[0]["uri"], max_chars=10_000)
            assert whole["text"].endswith("long")
        assert seen == [f"{n:02d}" for n in range(12)]
