"""The domain layer on a real store (SQLite and PostgreSQL), without any transport."""

from __future__ import annotations

import json

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskChanges
from taskweave.errors import Conflict, InvalidInput, NotFound
from taskweave.workspace import Detection
from tests.support import Clock, agent, draft


def start(orchestrator: Orchestrator, workspace: Detection, name: str = "planner", **kwargs) -> tuple[str, str]:
    result = orchestrator.sessions.initialize(workspace, client=agent(name), **kwargs)
    return result["session_id"], result["client_id"]


def test_initialize_attaches_instead_of_forking(orchestrator: Orchestrator, workspace: Detection) -> None:
    first = orchestrator.sessions.initialize(workspace, client=agent("a"))
    second = orchestrator.sessions.initialize(workspace, client=agent("b"))
    assert first["attached"] is False and second["attached"] is True
    assert first["session_id"] == second["session_id"]
    assert first["client_id"] != second["client_id"]
    assert first["workspace"]["root"] == workspace.root

    other = orchestrator.sessions.initialize(workspace, client=agent("c"), new_session=True)
    assert other["session_id"] != first["session_id"] and other["attached"] is False
    named = orchestrator.sessions.initialize(workspace, client=agent("d"), session_name=other["session_name"])
    assert named["session_id"] == other["session_id"]
    with pytest.raises(Conflict, match="already exists"):
        orchestrator.sessions.initialize(workspace, client=agent("e"), session_name="main", new_session=True)


def test_client_id_gets_identity_and_claims_back(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.tasks.plan(session_id, client_id, draft("t", "d"))["task_id"]
    orchestrator.work.execute(session_id, client_id, task_id)
    again = orchestrator.sessions.initialize(workspace, client=agent("planner"), client_id=client_id)
    assert again["client_id"] == client_id
    assert again["your_claims"] == [task_id]
    with pytest.raises(NotFound, match="Unknown client_id"):
        orchestrator.sessions.initialize(workspace, client=agent("x"), client_id="c_missing")


def test_plan_execute_complete_synthesize(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.tasks.plan(session_id, client_id, draft("Add login", "Users log in with email"), subtasks=[draft("Design", specialist="architect"), draft("Build", dependencies=[0], priority="high"), draft("Test", specialist="tester", dependencies=[1])])
    design, build, test = (s["task_id"] for s in plan["subtasks"])
    assert plan["ready"] == [design]

    with pytest.raises(Conflict, match="unfinished dependenc"):
        orchestrator.work.execute(session_id, client_id, build)

    work = orchestrator.work.execute(session_id, client_id, design)
    assert work["specialist"]["name"] == "architect" and "Design" in work["specialist"]["instructions"]
    assert work["claim"]["client_id"] == client_id
    done = orchestrator.work.complete(
        session_id, client_id, design, summary="Session tokens", detailed_work="# Design\n" + "x" * 5000
    )
    assert done["artifacts"][0]["kind"] == "detailed_work"
    assert "x" * 100 not in json.dumps(done)
    assert done["parent_progress"]["counts"]["completed"] == 1
    assert done["next_recommended_task"]["task_id"] == build

    work = orchestrator.work.execute(session_id, client_id, build)
    assert work["dependencies"][0]["summary"] == "Session tokens"
    assert work["dependencies"][0]["artifacts"][0]["uri"].startswith("taskweave://artifacts/")
    orchestrator.work.complete(session_id, client_id, build, summary="Built", status="failed")
    orchestrator.tasks.cancel(session_id, client_id, test, reason="build failed")

    synthesis = orchestrator.reports.synthesize(session_id, client_id, parent_task_id=plan["task_id"])
    report = synthesis["report"]
    assert "### architect" in report and "Session tokens" in report
    assert "## Failed" in report and "Built" in report
    assert synthesis["progress"]["counts"] == {
        "pending": 0, "in_progress": 0, "blocked": 0, "completed": 1, "failed": 1, "cancelled": 1,
    }
    stored = orchestrator.reports.artifact(synthesis["artifact"]["artifact_id"])
    assert stored["content"] == report and stored["task_id"] == plan["task_id"]

    whole = orchestrator.reports.synthesize(session_id, client_id)
    assert "Add login" in whole["report"]


def test_claims_are_exclusive_and_lapse(orchestrator: Orchestrator, workspace: Detection, clock: Clock) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, bob = start(orchestrator, workspace, "bob")
    task_id = orchestrator.tasks.plan(session_id, alice, draft("t", ""))["task_id"]
    orchestrator.work.execute(session_id, alice, task_id, lease_seconds=60)
    with pytest.raises(Conflict, match="claimed by client"):
        orchestrator.work.execute(session_id, bob, task_id)
    with pytest.raises(Conflict, match="not by you"):
        orchestrator.work.complete(session_id, bob, task_id, summary="mine")

    clock.advance(61)
    taken = orchestrator.work.execute(session_id, bob, task_id)
    assert taken["claim"]["client_id"] == bob
    with pytest.raises(Conflict, match="not by you"):
        orchestrator.work.complete(session_id, alice, task_id, summary="late")
    events = orchestrator.sessions.status(session_id, since=0)["events"]
    assert [e["kind"] for e in events if e.get("task_id") == task_id][-2:] == ["claim.expired", "task.claimed"]


def test_events_are_gap_free_and_cover_every_change(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.tasks.plan(session_id, client_id, draft("t", "d"))["task_id"]
    orchestrator.tasks.update(session_id, client_id, task_id, TaskChanges(priority="high"))
    orchestrator.work.execute(session_id, client_id, task_id)
    orchestrator.work.complete(session_id, client_id, task_id, summary="ok")
    status = orchestrator.sessions.status(session_id, since=0)
    seqs = [e["seq"] for e in status["events"]]
    assert seqs == list(range(1, status["last_event_seq"] + 1))
    kinds = [e["kind"] for e in status["events"]]
    assert kinds == ["session.created", "client.registered", "task.created", "task.updated", "task.claimed", "task.completed"]
    assert all(e["actor"] == client_id for e in status["events"][2:])
    later = orchestrator.sessions.status(session_id, since=seqs[-2])["events"]
    assert [e["kind"] for e in later] == ["task.completed"]


def test_dependency_cycles_and_parent_loops_are_refused(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    a = orchestrator.tasks.plan(session_id, client_id, draft("a", ""))["task_id"]
    b = orchestrator.tasks.plan(session_id, client_id, draft("b", "", dependencies=[a]))["task_id"]
    c = orchestrator.tasks.plan(session_id, client_id, draft("c", "", dependencies=[b]), parent_task_id=a)["task_id"]
    before = orchestrator.sessions.status(session_id)["last_event_seq"]
    with pytest.raises(InvalidInput, match="cycle"):
        orchestrator.tasks.update(session_id, client_id, a, TaskChanges(dependencies=[c]))
    with pytest.raises(InvalidInput, match="cycle"):
        orchestrator.tasks.update(session_id, client_id, a, TaskChanges(dependencies=[a]))
    with pytest.raises(InvalidInput, match="cannot be its parent"):
        orchestrator.tasks.update(session_id, client_id, a, TaskChanges(parent_task_id=c))
    assert orchestrator.sessions.status(session_id)["last_event_seq"] == before
    assert orchestrator.tasks.detail(a)["dependencies"] == []


def test_expected_version_rejects_stale_writes(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.tasks.plan(session_id, client_id, draft("t", ""))["task_id"]
    updated = orchestrator.tasks.update(session_id, client_id, task_id, TaskChanges(title="t2"), expected_version=1)
    assert updated["version"] == 2 and updated["title"] == "t2"
    with pytest.raises(Conflict) as stale:
        orchestrator.tasks.update(session_id, client_id, task_id, TaskChanges(title="t3"), expected_version=1)
    assert stale.value.details["current_version"] == 2
    assert orchestrator.tasks.detail(task_id)["title"] == "t2"


def test_status_transitions(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    task_id = orchestrator.tasks.plan(session_id, client_id, draft("t", ""))["task_id"]
    with pytest.raises(Conflict, match="cannot go from pending to completed") as refused:
        orchestrator.tasks.update(session_id, client_id, task_id, TaskChanges(status="completed"))
    assert "orchestrator_complete_task" in refused.value.hint
    with pytest.raises(Conflict, match="not claimed"):
        orchestrator.work.complete(session_id, client_id, task_id, summary="x")
    orchestrator.work.execute(session_id, client_id, task_id)
    orchestrator.work.complete(session_id, client_id, task_id, summary="x")
    with pytest.raises(Conflict, match="completed"):
        orchestrator.work.execute(session_id, client_id, task_id)
    with pytest.raises(Conflict, match="cannot go from completed"):
        orchestrator.tasks.update(session_id, client_id, task_id, TaskChanges(status="pending"))


def test_idempotency_keys(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    first = orchestrator.tasks.plan(session_id, client_id, draft("t", "d"), idempotency_key="k1")
    again = orchestrator.tasks.plan(session_id, client_id, draft("t", "d"), idempotency_key="k1")
    assert again["task_id"] == first["task_id"] and again["replayed"] is True
    with pytest.raises(Conflict, match="different request"):
        orchestrator.tasks.plan(session_id, client_id, draft("other", "d"), idempotency_key="k1")
    assert orchestrator.tasks.query(session_id)["total"] == 1

    claimed = orchestrator.work.execute(session_id, client_id, idempotency_key="claim-1")
    retried = orchestrator.work.execute(session_id, client_id, idempotency_key="claim-1")
    assert retried["task"]["task_id"] == claimed["task"]["task_id"] and retried["replayed"] is True
    orchestrator.work.complete(session_id, client_id, first["task_id"], summary="done")
    report = orchestrator.reports.synthesize(session_id, client_id, idempotency_key="report-1")
    again = orchestrator.reports.synthesize(session_id, client_id, idempotency_key="report-1")
    assert again["artifact"] == report["artifact"] and again["replayed"] is True
    with pytest.raises(Conflict, match="different request"):
        orchestrator.reports.synthesize(session_id, client_id, parent_task_id=first["task_id"], idempotency_key="report-1")


def test_query_filters_and_pages(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    parent = orchestrator.tasks.plan(session_id, client_id, draft("parent", ""), subtasks=[draft(f"sub {i}", specialist="tester" if i % 2 else "implementer") for i in range(7)])
    assert orchestrator.tasks.query(session_id)["total"] == 8
    testers = orchestrator.tasks.query(session_id, specialist="tester")
    assert testers["total"] == 3 and {t["specialist"] for t in testers["tasks"]} == {"tester"}
    page = orchestrator.tasks.query(session_id, parent_task_id=parent["task_id"], limit=5, offset=5)
    assert page["total"] == 7 and len(page["tasks"]) == 2 and page["has_more"] is False
    assert orchestrator.tasks.query(session_id, text="SUB 3")["total"] == 1
    assert orchestrator.tasks.query(session_id, text="100%")["total"] == 0
    assert orchestrator.tasks.query(session_id, status=["in_progress"])["total"] == 0


def test_text_search_finds_word_beginnings_in_title_description_and_summary(
    orchestrator: Orchestrator, workspace: Detection
) -> None:
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.tasks.plan(session_id, client_id, draft("Container", ""), subtasks=[
        draft("Fix the OAuth login", "Tokens expire in src/auth.py"),
        draft("Write the café menu", "naïve layout"),
        draft("Deploy", "ship_it to staging"),
    ])
    oauth, cafe, deploy = (s["task_id"] for s in plan["subtasks"])

    def found(text: str) -> list[str]:
        return [t["task_id"] for t in orchestrator.tasks.query(session_id, text=text)["tasks"]]

    assert found("oauth") == found("OAUTH LOG") == found("auth.py") == found("tok exp") == [oauth]
    assert found("café") == found("NAÏVE") == [cafe] and found("cafe") == []
    assert found("ship") == found("it stag") == [deploy]
    assert found("auth login") == [oauth] and found("login deploy") == [] and found("uth") == []
    orchestrator.work.execute(session_id, client_id, deploy)
    orchestrator.work.complete(session_id, client_id, deploy, summary="Released with zero downtime")
    assert found("downtime") == [deploy]
    orchestrator.tasks.update(session_id, client_id, oauth, TaskChanges(title="Rotate keys"))
    assert found("rotate") == [oauth], orchestrator.tasks.detail(session_id, oauth)
    assert found("oauth") == [] and found("tokens") == [oauth]
    for text in ("!!!", " ".join(f"w{i}" for i in range(17))):
        with pytest.raises(InvalidInput, match="word"):
            orchestrator.tasks.query(session_id, text=text)


def test_counts_of_filtered_queries_stop_at_a_bound(
    orchestrator: Orchestrator, workspace: Detection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskweave.core import tasks

    monkeypatch.setattr(tasks, "COUNTED_MAX", 5)
    session_id, client_id = start(orchestrator, workspace)
    orchestrator.tasks.plan(session_id, client_id, draft("p", ""), subtasks=[draft(f"step {i}") for i in range(12)])
    first = orchestrator.tasks.query(session_id, text="step", limit=3)
    assert (first["total"], first.get("total_is_lower_bound"), first["has_more"]) == (5, True, True)
    later = orchestrator.tasks.query(session_id, text="step", limit=3, offset=9)
    assert (later["total"], later.get("total_is_lower_bound"), later["has_more"]) == (12, None, False)
    assert len(later["tasks"]) == 3
    exact = orchestrator.tasks.query(session_id, status=["pending"], limit=3)
    assert (exact["total"], exact.get("total_is_lower_bound")) == (13, None)


def test_specialists_come_from_workspace_config(orchestrator: Orchestrator, project, tmp_path) -> None:
    from taskweave.workspace import detect_workspace

    (project / ".taskweave.toml").write_text(
        '[specialists.tester]\ninstructions = "Use hypothesis."\n[specialists.security]\ninstructions = "Threat model first."\n'
    )
    workspace = detect_workspace(str(project))
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.tasks.plan(session_id, client_id, draft("p", ""), subtasks=[draft("a", specialist="tester"), draft("b", specialist="Security")])
    tester, security = (s["task_id"] for s in plan["subtasks"])
    assert orchestrator.work.execute(session_id, client_id, tester)["specialist"]["instructions"] == "Use hypothesis."
    assert orchestrator.work.execute(session_id, client_id, security)["specialist"]["name"] == "security"
    with pytest.raises(InvalidInput, match="Unknown specialist"):
        orchestrator.tasks.plan(session_id, client_id, draft("x", "", specialist="wizard"))


def test_bad_input_changes_nothing(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    before = orchestrator.sessions.status(session_id)["last_event_seq"]
    cases = [
        (InvalidInput, lambda: orchestrator.tasks.plan(session_id, client_id, draft("  ", ""))),
        (InvalidInput, lambda: orchestrator.tasks.plan(session_id, client_id, draft("x" * 201, ""))),
        (InvalidInput, lambda: orchestrator.tasks.plan(session_id, client_id, draft("p", ""), subtasks=[draft("a"), draft("b", dependencies=[1])])),
        (InvalidInput, lambda: orchestrator.tasks.plan(session_id, client_id, draft("p", ""), subtasks=[draft("a"), draft("")])),
        (NotFound, lambda: orchestrator.tasks.plan(session_id, client_id, draft("p", "", dependencies=["t_nope"]))),
        (NotFound, lambda: orchestrator.work.execute(session_id, client_id, "t_nope")),
        (NotFound, lambda: orchestrator.sessions.status("s_nope")),
        (InvalidInput, lambda: orchestrator.tasks.update(session_id, client_id, "t_nope", TaskChanges())),
        (InvalidInput, lambda: orchestrator.tasks.query(session_id, limit=0)),
        (InvalidInput, lambda: orchestrator.tasks.plan(session_id, client_id, draft("p", "", priority="urgent"))),
    ]
    for error, action in cases:
        with pytest.raises(error):
            action()
    assert orchestrator.sessions.status(session_id)["last_event_seq"] == before
    assert orchestrator.tasks.query(session_id)["total"] == 0


def test_ended_session_refuses_writes_until_resumed(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    orchestrator.sessions.end(session_id, client_id)
    with pytest.raises(Conflict, match="has ended"):
        orchestrator.tasks.plan(session_id, client_id, draft("t", ""))
    fresh = orchestrator.sessions.initialize(workspace, client=agent("x"))
    assert fresh["session_id"] != session_id
    with pytest.raises(Conflict, match="already named"):
        orchestrator.sessions.resume(session_id, client_id)
    orchestrator.sessions.end(fresh["session_id"], None)
    assert orchestrator.sessions.resume(session_id, client_id)["session_status"] == "active"
    listing = orchestrator.sessions.listing(workspace)["sessions"]
    assert {s["session_id"]: s["status"] for s in listing} == {session_id: "active", fresh["session_id"]: "ended"}


def test_status_is_bounded(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    for batch in range(3):
        orchestrator.tasks.plan(session_id, client_id, draft(f"batch {batch}", ""), subtasks=[draft(f"t{batch}-{i}") for i in range(100)])
    status = orchestrator.sessions.status(session_id, include_completed=True)
    assert status["counts"]["pending"] == 300, "the three parents are containers, not work"
    assert status["progress"]["total"] == 300
    assert len(status["tasks"]["ready"]) == 5 and len(status["tasks"]["recently_updated"]) == 3
    assert len(json.dumps(status)) < 4096
    full = orchestrator.sessions.status(session_id, include_completed=True, detail="full")
    assert len(full["tasks"]["ready"]) == 20 and len(full["tasks"]["recently_updated"]) == 20


def test_claiming_the_next_ready_task_never_races(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, bob = start(orchestrator, workspace, "bob")
    plan = orchestrator.tasks.plan(session_id, alice, draft("p", ""), subtasks=[draft("low", priority="low"), draft("urgent", priority="critical"), draft("tests", specialist="tester"), draft("after urgent", dependencies=[1], priority="critical")])
    low, urgent, tests, after = (s["task_id"] for s in plan["subtasks"])
    assert orchestrator.work.execute(session_id, alice)["task"]["task_id"] == urgent
    assert orchestrator.work.execute(session_id, bob, specialist="tester")["task"]["task_id"] == tests
    taken = orchestrator.work.execute(session_id, bob)["task"]["task_id"]
    assert taken in (low, plan["task_id"]) and taken != after
    with pytest.raises(Conflict, match="No tester task is ready"):
        orchestrator.work.execute(session_id, alice, specialist="tester")
    orchestrator.work.complete(session_id, alice, urgent, summary="done")
    assert orchestrator.work.execute(session_id, alice)["task"]["task_id"] == after


def test_taking_a_live_claim_needs_force_and_the_holder_keeps_its_report(
    orchestrator: Orchestrator, workspace: Detection, clock: Clock
) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, bob = start(orchestrator, workspace, "bob")
    task_id = orchestrator.tasks.plan(session_id, alice, draft("t"))["task_id"]
    orchestrator.work.execute(session_id, alice, task_id)
    with pytest.raises(Conflict, match="from the client") as refused:
        orchestrator.tasks.cancel(session_id, bob, task_id)
    assert "force" in refused.value.hint and refused.value.details["claimed"] == [task_id]
    cancelled = orchestrator.tasks.cancel(session_id, bob, task_id, reason="changed plans", force=True)
    assert cancelled["claims_taken"] == [task_id]
    report = orchestrator.work.complete(session_id, alice, task_id, summary="what I found", detailed_work="notes")
    assert report["status"] == "cancelled" and report["artifacts"][0]["kind"] == "detailed_work"
    detail = orchestrator.tasks.detail(task_id)
    assert detail["status"] == "cancelled" and detail["summary"] == "what I found"
    with pytest.raises(Conflict, match="not claimed"):
        orchestrator.work.complete(session_id, alice, task_id, summary="twice")
    kinds = [e["kind"] for e in orchestrator.sessions.status(session_id, since=0).get("events", [])]
    assert kinds[-4:] == ["task.cancelled", "message.sent", "artifact.created", "task.reported"]
    [told] = orchestrator.messages.take(session_id, alice)
    assert task_id in told["text"] and "cancelled (changed plans)" in told["text"] and told["task_id"] == task_id
    assert orchestrator.messages.take(session_id, alice) == [], "once"


def test_a_stale_claim_is_released_at_once_and_a_live_one_only_with_force(
    orchestrator: Orchestrator, workspace: Detection, clock: Clock
) -> None:
    session_id, alice = start(orchestrator, workspace, "alice")
    _, person = start(orchestrator, workspace, "dashboard")
    task_id = orchestrator.tasks.plan(session_id, alice, draft("t"))["task_id"]
    orchestrator.work.execute(session_id, alice, task_id, lease_seconds=60)
    with pytest.raises(Conflict, match="still working on it"):
        orchestrator.work.release(session_id, person, task_id)
    assert orchestrator.work.release(session_id, person, task_id, force=True)["stale"] is False
    orchestrator.work.execute(session_id, alice, task_id, lease_seconds=60)
    clock.advance(61)
    released = orchestrator.work.release(session_id, person, task_id)
    assert released == {"task_id": task_id, "status": "pending", "released_from": alice, "stale": True}
    late = orchestrator.work.complete(session_id, alice, task_id, summary="done after all")
    assert late["status"] == "completed", "while nobody else has it, the former holder can still finish it"
    assert orchestrator.sessions.status(session_id)["session_id"] == session_id
    assert orchestrator.store.check() == []


def test_parents_are_containers(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    plan = orchestrator.tasks.plan(session_id, client_id, draft("p"), subtasks=[draft("a"), draft("b")])
    parent, (a, b) = plan["task_id"], [s["task_id"] for s in plan["subtasks"]]
    with pytest.raises(Conflict, match="a parent of 2 subtask"):
        orchestrator.work.execute(session_id, client_id, parent)
    for task_id in (a, b):
        orchestrator.work.execute(session_id, client_id, task_id)
        orchestrator.work.complete(session_id, client_id, task_id, summary="ok")
    status = orchestrator.sessions.status(session_id)
    assert status["progress"]["percent_complete"] == 100.0 and status["progress"]["all_finished"]
    assert [t["task_id"] for t in status["tasks"]["to_synthesize"]] == [parent]
    report = orchestrator.reports.synthesize(session_id, client_id, parent_task_id=parent)
    assert report["parent_completed"] is True and "2 of 2 tasks completed" in report["report"]
    assert orchestrator.tasks.detail(parent)["status"] == "completed"
    session_report = orchestrator.reports.synthesize(session_id, client_id)["report"]
    assert "## Plans" in session_report and "2 of 2 subtask(s) finished" in session_report
    orchestrator.tasks.plan(session_id, client_id, draft("c"), parent_task_id=parent)
    assert orchestrator.tasks.detail(parent)["status"] == "pending", "new work reopens a finished parent"
    assert orchestrator.store.check() == []

    other = orchestrator.tasks.plan(session_id, client_id, draft("q"))["task_id"]
    orchestrator.work.execute(session_id, client_id, other)
    orchestrator.tasks.plan(session_id, client_id, draft("r"), parent_task_id=other)
    with pytest.raises(Conflict, match="unfinished subtask"):
        orchestrator.work.complete(session_id, client_id, other, summary="too early")


def test_dependencies_by_index_and_by_id(orchestrator: Orchestrator, workspace: Detection) -> None:
    session_id, client_id = start(orchestrator, workspace)
    first = orchestrator.tasks.plan(session_id, client_id, draft("first"))["task_id"]
    with pytest.raises(InvalidInput, match="a string") as refused:
        orchestrator.tasks.plan(session_id, client_id, draft("p"), subtasks=[draft("a"), draft("b", dependencies=["0"])])
    assert "0-based index" in refused.value.hint and "without quotes" in refused.value.hint
    plan = orchestrator.tasks.plan(
        session_id, client_id, draft("p", dependencies=[first, first]),
        subtasks=[draft("a"), draft("b", dependencies=[0, 0, first, first])],
    )
    b = plan["subtasks"][1]["task_id"]
    assert orchestrator.tasks.detail(plan["task_id"])["dependencies"] == [first]
    assert sorted(orchestrator.tasks.detail(b)["dependencies"]) == sorted([plan["subtasks"][0]["task_id"], first])
    assert orchestrator.store.check() == []
