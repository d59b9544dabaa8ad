"""`taskweave prime`'s text: bounded whatever the session holds, lists cut from their end and counted."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from taskweave.cli.prime import (
    MAX_BYTES,
    Brief,
    Section,
    duration,
    hook_output,
    lease_left,
    no_session,
    render,
)
from taskweave.core.views import iso

NOW = 1_800_000_000.0


def brief(task_id: str, title: str = "A task", *, claim: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    task = {"task_id": task_id, "title": title, "status": "pending", "specialist": "implementer", "priority": "medium"}
    if claim is not None:
        task["claim"] = claim
    return {**task, **fields}


def status(
    *,
    in_progress: int = 0,
    ready: int = 0,
    to_synthesize: int = 0,
    clients: int = 2,
    title: str = "Task",
    expires_in: float = 240,
    paths: list[str] | None = None,
) -> dict[str, Any]:
    """A `detail="full"` status as the domain gives it: lists capped as the domain caps them, counts exact."""
    claims = [
        {"client_id": f"c_{n % clients}", "expires_at": iso(NOW + expires_in), "live": expires_in > 0}
        for n in range(min(in_progress, 50))
    ]
    for claim in claims if paths else ():
        claim["paths"] = paths
    working = [brief(f"t_w{n}", f"{title} {n}", status="in_progress", claim=claim) for n, claim in enumerate(claims)]
    return {
        "session_id": "s_1",
        "session_name": "main",
        "session_status": "active",
        "workspace_root": "/home/you/project",
        "counts": {"pending": ready, "in_progress": in_progress, "completed": 3, "failed": 0, "blocked": 0, "cancelled": 0},
        "progress": {"total": ready + in_progress + 3, "percent_complete": 10.0, "all_finished": False},
        "tasks": {
            "in_progress": working,
            "ready": [brief(f"t_r{n}", f"{title} ready {n}") for n in range(min(ready, 20))],
            "to_synthesize": [brief(f"t_p{n}", f"Parent {n}") for n in range(min(to_synthesize, 20))],
            "recently_updated": [],
        },
        "clients": [
            {"client_id": f"c_{n}", "name": f"agent-{n}", "state": "connected", "last_seen": iso(NOW)} for n in range(clients)
        ],
        "last_event_seq": 10,
        "last_activity_at": iso(NOW),
    }


def stalled(total: int = 0, *, summary: str = "Waiting on the API key") -> dict[str, Any]:
    tasks = [
        {**brief(f"t_s{n}", f"Stuck {n}", status="blocked" if n % 2 else "failed"), "version": 2, "summary": summary}
        for n in range(min(total, 20))
    ]
    return {"tasks": tasks, "total": total, "limit": 20, "offset": 0, "has_more": total > len(tasks)}


def message(text: str, *, ago: float = 90, to: str = "all", task_id: str | None = "t_w1") -> dict[str, Any]:
    view = {"message_id": "m_1", "seq": 1, "sent_by": "c_1", "sender_name": "agent-1", "to": to, "text": text, "at": iso(NOW - ago)}
    return {**view, "task_id": task_id} if task_id else view


def section(text: str, title: str) -> list[str]:
    """The entry lines of the section whose heading starts with `title`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {title}"))
    entries = []
    for line in lines[start + 1:]:
        if not line.startswith("- "):
            break
        entries.append(line)
    return entries


def shown_and_more(entries: list[str]) -> tuple[int, int]:
    more = 0
    if entries and (found := re.match(r"- \.\.\. and (?:at least )?(\d+) more", entries[-1])):
        more = int(found[1])
    return len([e for e in entries if not e.startswith("- ...")]), more


def test_a_small_session_shows_everything_and_the_calls_to_continue() -> None:
    text = render(status(in_progress=2, ready=3, to_synthesize=1), stalled(1), [], NOW)
    assert text.startswith("# taskweave\n") and "MCP server `taskweave`" in text
    assert 'Session "main" (s_1) of /home/you/project' in text
    assert section(text, "In progress (2)") == [
        '- "Task 0" (implementer, t_w0): agent-0, 4 min left',
        '- "Task 1" (implementer, t_w1): agent-1, 4 min left',
    ]
    assert len(section(text, "Ready next")) == 3
    assert section(text, "Ready to synthesize") == ['- "Parent 0" (t_p0)']
    assert section(text, "Blocked or failed (1)") == ['- failed: "Stuck 0" (implementer, t_s0): Waiting on the API key']
    calls = text.split("## To continue\n")[1].splitlines()
    assert [call[:3] for call in calls] == ["1. ", "2. ", "3. "]
    assert "orchestrator_initialize_session" in calls[0] and "client_id" in calls[0]
    assert 'orchestrator_synthesize_results` with task_id "t_p0"' in calls[1]
    assert "orchestrator_execute_task` without task_id" in calls[2]
    assert "Reserved paths" not in text and "Messages" not in text, "shown only when there is something"


@pytest.mark.parametrize("tasks", [10, 1_000, 10_000])
def test_the_brief_stays_within_its_budget_and_counts_what_it_cut(tasks: int) -> None:
    working = min(tasks // 5, 400)
    text = render(
        status(in_progress=working, ready=tasks, to_synthesize=tasks // 50, clients=30, title="T" * 200,
               paths=[f"src/module_{n}/**" for n in range(20)]),
        stalled(tasks // 10, summary="why " * 100),
        [message("x" * 4_000) for _ in range(10)],
        NOW,
    )
    assert len(text.encode()) <= MAX_BYTES
    shown, more = shown_and_more(section(text, f"In progress ({working})"))
    assert shown + more == working, "every task in progress is either shown or counted"
    shown, more = shown_and_more(section(text, f"Blocked or failed ({tasks // 10})"))
    assert shown + more == tasks // 10
    assert "## To continue" in text and "\n2. `" in text, "the calls to continue are never cut"


def test_cutting_takes_whole_lines_from_the_longest_list() -> None:
    sections = [Section("Short", [f"- short {n}" for n in range(3)]), Section("Long", [f"- ünïcödé {n} " * 5 for n in range(40)])]
    whole = Brief(["# head"], sections, ["", "## To continue", "1. call"])
    uncut = whole.text().splitlines()
    text = whole.fit(max_bytes=1_000)
    assert len(text.encode()) <= 1_000
    assert all(line in uncut or line.startswith("- ... and ") for line in text.splitlines()), "no line is split"
    assert section(text, "Short") == [f"- short {n}" for n in range(3)], "the longest list is cut first"
    shown, more = shown_and_more(section(text, "Long"))
    assert shown + more == 40 and more > 0


def test_long_fields_are_clipped_on_one_line() -> None:
    text = render(status(in_progress=3, clients=3, title="Title\nwith a newline " * 30), stalled(3), [], NOW)
    assert all(len(line) < 400 for line in text.splitlines())
    assert section(text, "In progress (3)")[0].startswith('- "Title with a newline Title')


def test_reserved_paths_and_messages_have_their_sections() -> None:
    text = render(
        status(in_progress=1, paths=["src/parser/**", "tests/test_parser.py"]), stalled(),
        [message("Parser API changed:\nuse parse_file()", ago=300, to="c_0", task_id="t_w0")],
        NOW,
    )
    assert section(text, "Reserved paths") == ["- src/parser/**, tests/test_parser.py: agent-0 on t_w0"]
    assert section(text, "Messages") == ["- agent-1 to agent-0 about t_w0, 5 min ago: Parser API changed: use parse_file()"]


def test_a_lapsed_claim_reserves_nothing() -> None:
    text = render(status(in_progress=1, paths=["src/**"], expires_in=-30), stalled(), [], NOW)
    assert "lease lapsed 30 s ago" in text and "Reserved paths" not in text


def test_ten_messages_may_not_be_all_of_them() -> None:
    text = render(status(), stalled(), [message(f"note {n}", task_id=None) for n in range(10)], NOW)
    entries = section(text, "Messages")
    assert entries[0] == "- agent-1 to all, 1 min ago: note 0"
    assert entries[-1].startswith("- ... and maybe more: each agent gets those meant for it in its next taskweave tool result")


def test_a_full_list_from_the_store_says_there_may_be_more() -> None:
    text = render(status(ready=500), stalled(), [], NOW)
    assert section(text, "Ready next")[-1].startswith("- ... and maybe more: `orchestrator_get_status` with detail")


def test_an_idle_session_suggests_planning() -> None:
    text = render(status(), stalled(), [], NOW)
    assert "## In progress" not in text and "## Ready next" not in text
    assert "2. `orchestrator_plan_task`" in text


def test_work_in_progress_without_ready_tasks_points_at_the_status() -> None:
    text = render(status(in_progress=1), stalled(), [], NOW)
    assert "2. `orchestrator_get_status`" in text and "orchestrator_execute_task` without" not in text


@pytest.mark.parametrize(
    ("offset", "said"),
    [(240.5, "4 min left"), (59, "59 s left"), (3 * 3600 + 120, "3 h 2 min left"), (-125, "lease lapsed 2 min ago")],
)
def test_lease_time_is_relative_to_now(offset: float, said: str) -> None:
    assert lease_left(iso(NOW + offset), NOW) == said


def test_durations_read_naturally() -> None:
    assert [duration(s) for s in (0, 61, 3600, 5 * 86400)] == ["0 s", "1 min", "1 h", "5 days"]


def test_no_session_is_short_and_says_how_to_start() -> None:
    text = no_session("/home/you/project", "the store /data/tw.db does not exist yet")
    assert text.startswith("# taskweave\nNo taskweave session in this workspace yet: /home/you/project")
    assert "/data/tw.db" in text and "orchestrator_initialize_session" in text and len(text) < 600


def test_hook_output_takes_each_clients_shape() -> None:
    assert hook_output("brief\n", "claude-code") == hook_output("brief\n", "codex") == hook_output("brief\n", None) == "brief\n"
    gemini = json.loads(hook_output("brief\n", "gemini"))
    assert gemini == {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": "brief\n"}}
    assert json.loads(hook_output("brief\n", "cursor")) == {"additional_context": "brief\n"}
