"""After a configuration: check the store itself against what the servers acknowledged.

Opened directly (not through a server), once every server has stopped, so
what is checked is what a restarted server would find.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bench.common import open_store
from bench.load.workload import Acks
from taskweave.store import Transaction

RELEASES = frozenset({"task.completed", "task.failed", "task.blocked", "task.cancelled", "claim.expired", "claim.released"})
PROBLEMS_SHOWN = 10
VALID_STATUSES = ("pending", "in_progress", "blocked", "completed", "failed", "cancelled")


def verify(store_url: str, session_id: str, acks: Acks) -> list[str]:
    """Every invariant violation found, in plain words (empty when the run was sound)."""
    with open_store(store_url) as store:
        problems = [f"store check: {problem}" for problem in store.check()]
        with store.transaction(write=False) as tx:
            problems += _acknowledged_writes(tx, session_id, acks)
            problems += _task_states(tx, session_id)
            problems += _event_sequence(tx, session_id)
            problems += _claims_never_doubled(tx, session_id, acks)
    return problems


def _acknowledged_writes(tx: Transaction, session_id: str, acks: Acks) -> list[str]:
    rows = {r["id"]: r for r in tx.all("SELECT id, status, summary FROM tasks WHERE session_id = ?", session_id)}
    problems = [f"acknowledged task {t} is missing" for t in sorted(acks.planned - rows.keys())]
    for task_id, summary in sorted(acks.completions.items()):
        row = rows.get(task_id)
        if row is None or row["status"] != "completed" or row["summary"] != summary:
            found = "missing" if row is None else f"{row['status']} with summary {row['summary']!r}"
            problems.append(f"acknowledged completion of {task_id} ({summary!r}) is {found}")
    return _capped(problems)


def _task_states(tx: Transaction, session_id: str) -> list[str]:
    rows = tx.all(
        "SELECT id, status, claimed_by, claim_expires_at FROM tasks WHERE session_id = ? "
        "AND (status NOT IN (?, ?, ?, ?, ?, ?) OR (status = 'in_progress') <> (claimed_by IS NOT NULL) "
        "OR (claimed_by IS NULL) <> (claim_expires_at IS NULL))",
        session_id, *VALID_STATUSES,
    )
    return _capped(f"task {r['id']} is {r['status']} with claim {r['claimed_by']!r}" for r in rows)


def _event_sequence(tx: Transaction, session_id: str) -> list[str]:
    session = tx.one("SELECT last_event_seq FROM sessions WHERE id = ?", session_id)
    if session is None:
        return [f"session {session_id} is missing"]
    seqs = [r["seq"] for r in tx.all("SELECT seq FROM events WHERE session_id = ? ORDER BY seq", session_id)]
    if seqs != list(range(1, session["last_event_seq"] + 1)):
        gaps = sorted(set(range(1, session["last_event_seq"] + 1)) - set(seqs))
        return [f"event log: {len(seqs)} events, last_event_seq {session['last_event_seq']}, missing {gaps[:PROBLEMS_SHOWN]}"]
    return []


def _claims_never_doubled(tx: Transaction, session_id: str, acks: Acks) -> list[str]:
    """Replay the log: a claim by another client while a claim stands, with no release between, is a double claim."""
    holders: dict[str, str | None] = {}
    claimed: set[tuple[str, str]] = set()
    problems: list[str] = []
    for event in tx.all(
        "SELECT seq, kind, actor, task_id, data FROM events WHERE session_id = ? AND task_id IS NOT NULL ORDER BY seq",
        session_id,
    ):
        task_id, kind = event["task_id"], event["kind"]
        if kind == "task.claimed":
            holder = holders.get(task_id)
            if holder is not None and holder != event["actor"]:
                problems.append(f"task {task_id} claimed by {event['actor']} at seq {event['seq']} while {holder} held it")
            holders[task_id] = event["actor"]
            claimed.add((task_id, event["actor"]))
        elif kind in RELEASES or (kind == "task.updated" and "status" in json.loads(event["data"]).get("fields", [])):
            holders[task_id] = None
    problems += [f"acknowledged claim of {t} by {c} has no task.claimed event" for t, c in acks.claims if (t, c) not in claimed]
    return _capped(problems)


def _capped(problems: Iterable[str]) -> list[str]:
    """At most a few problems of a kind, plus how many more there were: the table stays readable."""
    listed = list(problems)
    if len(listed) <= PROBLEMS_SHOWN:
        return listed
    return listed[:PROBLEMS_SHOWN] + [f"... and {len(listed) - PROBLEMS_SHOWN} more"]


def session_counts(store_url: str, session_id: str) -> dict[str, int]:
    """Tasks per status at the end, for the JSON report."""
    with open_store(store_url) as store, store.transaction(write=False) as tx:
        rows = tx.all("SELECT status, COUNT(*) AS n FROM tasks WHERE session_id = ? GROUP BY status", session_id)
    return {row["status"]: row["n"] for row in rows}
