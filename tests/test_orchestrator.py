"""The domain layer on a real store (SQLite and PostgreSQL), without any transport."""

from __future__ import annotations

import json

import pytest

from taskweave.core.service import Orchestrator
from taskweave.errors import Conflict, InvalidInput, NotFound
from taskweave.workspace import Detection

from .conftest import Clock, agent


def start(orchestrator: Orchestrator, workspace: Detection, name: str = "planner", **kwargs) -> tuple[str, str]:
    result = orchestrator.initialize_session(workspace, client=agent(name), **kwargs)
    return result["session_id"], result["client_id"]


def test_initialize_attaches_instead_of_forking(orchestrator: Orchestrator, workspace: Detection) -> None:
    first = orchestrator.initialize_session(workspace, client=agent("a"))
    second = orchestrator.initialize_session(workspace, client=agent("b"))
    assert first["attached"] is False and second["attached"] is True
    assert first["session_id"] == second["session_id"]
    assert first["client_id"] != second["client_id"]
    assert first["workspace"]["root"] == workspace.root

    other = orchestrator.initialize_session(workspace, client=agent("c"), new_session=True)
    assert other["session_id"] != first["session_id"] and other["attached"] is False
    named = orchestrator.initialize_session(workspace, client=agent("d"), session_name=other["session_name"])
    assert named["session_id"] == other["session_id"]
    with pytest.raises(Conflict, match="already exists"):
        orchestrator.initialize_session(workspace, client=agent("e"), session_name="main", new_session=True)


def test_client_id_gets_identity_and_claims_back(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.plan_task(session_id, client_id, title="t", description="d")["task_id"]
    orchestrator.execute_task(session_id, client_id, task_id)
    again = orchestrator.initialize_session(workspace, client=agent("planner"), client_id=client_id)
    assert again["client_id"] == client_id
    assert again["your_claims"] == [task_id]
    with pytest.raises(NotFound, match="Unknown client_id"):
        orchestrator.initialize_session(workspace, client=agent("x"), client_id="c_missing")


def test_plan_execute_complete_synthesize(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.plan_task(
        session_id,
        client_id,
        title="Add login",
        description="Users log in with email",
        subtasks=[
            {"title": "Design", "specialist": "architect"},
            {"title": "Build", "dependencies": [0], "priority": "high"},
            {"title": "Test", "specialist": "tester", "dependencies": [1]},
        ],
    )
    design, build, test = (s["task_id"] for s in plan["subtasks"])
    assert plan["ready"] == [design]

    with pytest.raises(Conflict, match="unfinished dependenc"):
        orchestrator.execute_task(session_id, client_id, build)

    work = orchestrator.execute_task(session_id, client_id, design)
    assert work["specialist"]["name"] == "architect" and "Design" in work["specialist"]["instructions"]
    assert work["claim"]["client_id"] == client_id
    done = orchestrator.complete_task(
        session_id, client_id, design, summary="Session tokens", detailed_work="# Design\n" + "x" * 5000
    )
    assert done["artifacts"][0]["kind"] == "detailed_work"
    assert "x" * 100 not in json.dumps(done)
    assert done["parent_progress"]["counts"]["completed"] == 1
    assert done["next_recommended_task"]["task_id"] == build

    work = orchestrator.execute_task(session_id, client_id, build)
    assert work["dependencies"][0]["summary"] == "Session tokens"
    assert work["dependencies"][0]["artifacts"][0]["uri"].startswith("taskweave://artifacts/")
    orchestrator.complete_task(session_id, client_id, build, summary="Built", status="failed")
    orchestrator.cancel_task(session_id, client_id, test, reason="build failed")

    synthesis = orchestrator.synthesize_results(session_id, client_id, parent_task_id=plan["task_id"])
    report = synthesis["report"]
    assert "### architect" in report and "Session tokens" in report
    assert "## Failed" in report and "Built" in report
    assert synthesis["progress"]["counts"] == {
        "pending": 0, "in_progress": 0, "blocked": 0, "completed": 1, "failed": 1, "cancelled": 1,
    }
    stored = orchestrator.read_artifact(synthesis["artifact"]["artifact_id"])
    assert stored["content"] == report and stored["task_id"] == plan["task_id"]

    whole = orchestrator.synthesize_results(session_id, client_id)
    assert "Add login" in whole["report"]


def test_claims_are_exclusive_and_lapse(orchestrator: Orchestrator, workspace: Detection, clock: Clock) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, bob = start(orchestrator, workspace, "bob")
    task_id = orchestrator.plan_task(session_id, alice, title="t", description="")["task_id"]
    orchestrator.execute_task(session_id, alice, task_id, lease_seconds=60)
    with pytest.raises(Conflict, match="claimed by client"):
        orchestrator.execute_task(session_id, bob, task_id)
    with pytest.raises(Conflict, match="not by you"):
        orchestrator.complete_task(session_id, bob, task_id, summary="mine")

    clock.advance(61)
    taken = orchestrator.execute_task(session_id, bob, task_id)
    assert taken["claim"]["client_id"] == bob
    with pytest.raises(Conflict, match="not by you"):
        orchestrator.complete_task(session_id, alice, task_id, summary="late")
    events = orchestrator.get_status(session_id, since=0)["events"]
    assert [e["kind"] for e in events if e.get("task_id") == task_id][-2:] == ["claim.expired", "task.claimed"]


def test_events_are_gap_free_and_cover_every_change(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.plan_task(session_id, client_id, title="t", description="d")["task_id"]
    orchestrator.update_task(session_id, client_id, task_id, {"priority": "high"})
    orchestrator.execute_task(session_id, client_id, task_id)
    orchestrator.complete_task(session_id, client_id, task_id, summary="ok")
    status = orchestrator.get_status(session_id, since=0)
    seqs = [e["seq"] for e in status["events"]]
    assert seqs == list(range(1, status["last_event_seq"] + 1))
    kinds = [e["kind"] for e in status["events"]]
    assert kinds == ["session.created", "client.registered", "task.created", "task.updated", "task.claimed", "task.completed"]
    assert all(e["actor"] == client_id for e in status["events"][2:])
    later = orchestrator.get_status(session_id, since=seqs[-2])["events"]
    assert [e["kind"] for e in later] == ["task.completed"]


def test_dependency_cycles_and_parent_loops_are_refused(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    a = orchestrator.plan_task(session_id, client_id, title="a", description="")["task_id"]
    b = orchestrator.plan_task(session_id, client_id, title="b", description="", dependencies=[a])["task_id"]
    c = orchestrator.plan_task(session_id, client_id, title="c", description="", dependencies=[b], parent_task_id=a)["task_id"]
    before = orchestrator.get_status(session_id)["last_event_seq"]
    with pytest.raises(InvalidInput, match="cycle"):
        orchestrator.update_task(session_id, client_id, a, {"dependencies": [c]})
    with pytest.raises(InvalidInput, match="cycle"):
        orchestrator.update_task(session_id, client_id, a, {"dependencies": [a]})
    with pytest.raises(InvalidInput, match="cannot be its parent"):
        orchestrator.update_task(session_id, client_id, a, {"parent_task_id": c})
    assert orchestrator.get_status(session_id)["last_event_seq"] == before
    assert orchestrator.read_task(a)["dependencies"] == []


def test_expected_version_rejects_stale_writes(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.plan_task(session_id, client_id, title="t", description="")["task_id"]
    updated = orchestrator.update_task(session_id, client_id, task_id, {"title": "t2"}, expected_version=1)
    assert updated["version"] == 2 and updated["title"] == "t2"
    with pytest.raises(Conflict) as stale:
        orchestrator.update_task(session_id, client_id, task_id, {"title": "t3"}, expected_version=1)
    assert stale.value.details["current_version"] == 2
    assert orchestrator.read_task(task_id)["title"] == "t2"


def test_status_transitions(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.plan_task(session_id, client_id, title="t", description="")["task_id"]
    with pytest.raises(Conflict, match="cannot go from pending to completed") as refused:
        orchestrator.update_task(session_id, client_id, task_id, {"status": "completed"})
    assert "orchestrator_complete_task" in refused.value.hint
    with pytest.raises(Conflict, match="not claimed"):
        orchestrator.complete_task(session_id, client_id, task_id, summary="x")
    orchestrator.execute_task(session_id, client_id, task_id)
    orchestrator.complete_task(session_id, client_id, task_id, summary="x")
    with pytest.raises(Conflict, match="completed"):
        orchestrator.execute_task(session_id, client_id, task_id)
    with pytest.raises(Conflict, match="cannot go from completed"):
        orchestrator.update_task(session_id, client_id, task_id, {"status": "pending"})


def test_idempotency_keys(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    first = orchestrator.plan_task(session_id, client_id, title="t", description="d", idempotency_key="k1")
    again = orchestrator.plan_task(session_id, client_id, title="t", description="d", idempotency_key="k1")
    assert again["task_id"] == first["task_id"] and again["replayed"] is True
    with pytest.raises(Conflict, match="different request"):
        orchestrator.plan_task(session_id, client_id, title="other", description="d", idempotency_key="k1")
    assert orchestrator.query_tasks(session_id)["total"] == 1

    claimed = orchestrator.execute_task(session_id, client_id, idempotency_key="claim-1")
    retried = orchestrator.execute_task(session_id, client_id, idempotency_key="claim-1")
    assert retried["task"]["task_id"] == claimed["task"]["task_id"] and retried["replayed"] is True
    orchestrator.complete_task(session_id, client_id, first["task_id"], summary="done")
    report = orchestrator.synthesize_results(session_id, client_id, idempotency_key="report-1")
    again = orchestrator.synthesize_results(session_id, client_id, idempotency_key="report-1")
    assert again["artifact"] == report["artifact"] and again["replayed"] is True
    with pytest.raises(Conflict, match="different request"):
        orchestrator.synthesize_results(session_id, client_id, parent_task_id=first["task_id"], idempotency_key="report-1")


def test_query_filters_and_pages(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    parent = orchestrator.plan_task(
        session_id, client_id, title="parent", description="",
        subtasks=[{"title": f"sub {i}", "specialist": "tester" if i % 2 else "implementer"} for i in range(7)],
    )
    assert orchestrator.query_tasks(session_id)["total"] == 8
    testers = orchestrator.query_tasks(session_id, specialist="tester")
    assert testers["total"] == 3 and {t["specialist"] for t in testers["tasks"]} == {"tester"}
    page = orchestrator.query_tasks(session_id, parent_task_id=parent["task_id"], limit=5, offset=5)
    assert page["total"] == 7 and len(page["tasks"]) == 2 and page["has_more"] is False
    assert orchestrator.query_tasks(session_id, text="SUB 3")["total"] == 1
    assert orchestrator.query_tasks(session_id, text="100%")["total"] == 0
    assert orchestrator.query_tasks(session_id, status=["in_progress"])["total"] == 0


def test_specialists_come_from_workspace_config(orchestrator: Orchestrator, project, tmp_path) -> None:
    from taskweave.workspace import detect_workspace

    (project / ".taskweave.toml").write_text(
        '[specialists.tester]\ninstructions = "Use hypothesis."\n[specialists.security]\ninstructions = "Threat model first."\n'
    )
    workspace = detect_workspace(str(project))
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.plan_task(
        session_id, client_id, title="p", description="",
        subtasks=[{"title": "a", "specialist": "tester"}, {"title": "b", "specialist": "Security"}],
    )
    tester, security = (s["task_id"] for s in plan["subtasks"])
    assert orchestrator.execute_task(session_id, client_id, tester)["specialist"]["instructions"] == "Use hypothesis."
    assert orchestrator.execute_task(session_id, client_id, security)["specialist"]["name"] == "security"
    with pytest.raises(InvalidInput, match="Unknown specialist"):
        orchestrator.plan_task(session_id, client_id, title="x", description="", specialist="wizard")


def test_bad_input_changes_nothing(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    before = orchestrator.get_status(session_id)["last_event_seq"]
    cases = [
        (InvalidInput, lambda: orchestrator.plan_task(session_id, client_id, title="  ", description="")),
        (InvalidInput, lambda: orchestrator.plan_task(session_id, client_id, title="x" * 201, description="")),
        (InvalidInput, lambda: orchestrator.plan_task(session_id, client_id, title="p", description="",
                                                      subtasks=[{"title": "a"}, {"title": "b", "dependencies": [1]}])),
        (InvalidInput, lambda: orchestrator.plan_task(session_id, client_id, title="p", description="",
                                                      subtasks=[{"title": "a"}, {"title": ""}])),
        (NotFound, lambda: orchestrator.plan_task(session_id, client_id, title="p", description="", dependencies=["t_nope"])),
        (NotFound, lambda: orchestrator.execute_task(session_id, client_id, "t_nope")),
        (NotFound, lambda: orchestrator.get_status("s_nope")),
        (InvalidInput, lambda: orchestrator.update_task(session_id, client_id, "t_nope", {})),
        (InvalidInput, lambda: orchestrator.query_tasks(session_id, limit=0)),
        (InvalidInput, lambda: orchestrator.plan_task(session_id, client_id, title="p", description="", priority="urgent")),
    ]
    for error, action in cases:
        with pytest.raises(error):
            action()
    assert orchestrator.get_status(session_id)["last_event_seq"] == before
    assert orchestrator.query_tasks(session_id)["total"] == 0


def test_ended_session_refuses_writes_until_resumed(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    orchestrator.end_session(session_id, client_id)
    with pytest.raises(Conflict, match="has ended"):
        orchestrator.plan_task(session_id, client_id, title="t", description="")
    fresh = orchestrator.initialize_session(workspace, client=agent("x"))
    assert fresh["session_id"] != session_id
    with pytest.raises(Conflict, match="already named"):
        orchestrator.resume_session(session_id, client_id)
    orchestrator.end_session(fresh["session_id"], None)
    assert orchestrator.resume_session(session_id, client_id)["session_status"] == "active"
    listing = orchestrator.list_sessions(workspace)["sessions"]
    assert {s["session_id"]: s["status"] for s in listing} == {session_id: "active", fresh["session_id"]: "ended"}


def test_status_is_bounded(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    for batch in range(3):
        orchestrator.plan_task(
            session_id, client_id, title=f"batch {batch}", description="",
            subtasks=[{"title": f"t{batch}-{i}"} for i in range(100)],
        )
    status = orchestrator.get_status(session_id, include_completed=True)
    assert status["counts"]["pending"] == 303
    assert len(status["tasks"]["ready"]) == 10 and len(status["tasks"]["recently_updated"]) == 20


def test_claiming_the_next_ready_task_never_races(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, bob = start(orchestrator, workspace, "bob")
    plan = orchestrator.plan_task(
        session_id, alice, title="p", description="",
        subtasks=[
            {"title": "low", "priority": "low"},
            {"title": "urgent", "priority": "critical"},
            {"title": "tests", "specialist": "tester"},
            {"title": "after urgent", "dependencies": [1], "priority": "critical"},
        ],
    )
    low, urgent, tests, after = (s["task_id"] for s in plan["subtasks"])
    assert orchestrator.execute_task(session_id, alice)["task"]["task_id"] == urgent
    assert orchestrator.execute_task(session_id, bob, specialist="tester")["task"]["task_id"] == tests
    taken = orchestrator.execute_task(session_id, bob)["task"]["task_id"]
    assert taken in (low, plan["task_id"]) and taken != after
    with pytest.raises(Conflict, match="No tester task is ready"):
        orchestrator.execute_task(session_id, alice, specialist="tester")
    orchestrator.complete_task(session_id, alice, urgent, summary="done")
    assert orchestrator.execute_task(session_id, alice)["task"]["task_id"] == after
