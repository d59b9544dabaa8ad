"""Many writers on one session, in threads and in separate processes: one claim winner, one session, no gaps."""

from __future__ import annotations

import threading
from pathlib import Path

from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import Conflict
from taskweave.store import open_store
from taskweave.workspace import detect_workspace
from tests.instances import in_processes, share_a_store
from tests.support import agent, draft

RACERS = 8


def test_threads_racing_for_one_task_have_one_winner(store: str, project: Path) -> None:
    workspace = detect_workspace(str(project))
    stores = [open_store(store) for _ in range(RACERS)]
    orchestrators = [Orchestrator(opened) for opened in stores]
    try:
        clients = [o.sessions.initialize(workspace, client=agent(f"racer-{i}")) for i, o in enumerate(orchestrators)]
        session_id = clients[0]["session_id"]
        task_id = orchestrators[0].tasks.plan(session_id, None, draft("contested"))["task_id"]
        barrier = threading.Barrier(RACERS)
        outcomes: list[str] = []

        def race(index: int) -> None:
            barrier.wait()
            try:
                orchestrators[index].work.execute(session_id, clients[index]["client_id"], task_id)
                outcomes.append("won")
            except Conflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["refused"] * (RACERS - 1) + ["won"]
        events = orchestrators[0].sessions.status(session_id, since=0).get("events", [])
        assert [e["kind"] for e in events].count("task.claimed") == 1
    finally:
        for opened in stores:
            opened.close()


def test_processes_sharing_a_store_make_one_session_one_claim_winner_and_gap_free_events(
    store: str, project: Path
) -> None:
    outcomes = in_processes(share_a_store, 4, store, str(project), 10)
    assert len({o["session_id"] for o in outcomes}) == 1, "simultaneous first initializations make one session"
    assert len({o["task_id"] for o in outcomes}) == 1, "one idempotency key, one task"
    assert sorted(o["won"] for o in outcomes) == [False, False, False, True], "one claim winner"
    session_id = outcomes[0]["session_id"]
    opened = open_store(store)
    try:
        with opened.transaction(write=False) as tx:
            counts = tx.row_counts()
            events = tx.events_since(session_id, 0, 10_000)
            session = tx.session(session_id)
            assert session is not None
            last = session["last_event_seq"]
            task_seqs = [row["seq"] for row in tx.all("SELECT seq FROM tasks WHERE session_id = ? ORDER BY seq", session_id)]
        assert counts["sessions"] == 1 and counts["workspaces"] == 1
        assert [e["kind"] for e in events].count("task.claimed") == 1
        # 1 session event; per process 1 registration and 10 plans of 2 tasks; the contested task and its claim.
        assert [e["seq"] for e in events] == list(range(1, last + 1))
        assert last == 1 + 4 * (1 + 10 * 2) + 2
        assert task_seqs == list(range(1, 1 + 4 * 10 * 2 + 1))
        assert opened.check() == []
    finally:
        opened.close()
