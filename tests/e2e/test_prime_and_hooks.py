"""`taskweave prime` and `taskweave hooks` as real processes: bounded at any size, quiet on failure, idempotent."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.workspace import detect_workspace
from tests.support import agent, draft, populate, server_env

MAX_BYTES = 6_000
FIXTURES = Path(__file__).parent.parent / "fixtures"


def taskweave(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskweave", *args], capture_output=True, text=True, cwd=cwd,
        env=server_env(**env), timeout=120,
    )


def busy_session(store: str, project: Path, tasks: int) -> dict[str, int]:
    """A session of about `tasks` tasks: agents at work on reserved paths, stuck tasks, a parent to synthesize and
    messages; its figures."""
    init = populate(store, project, tasks)
    session_id = init["session_id"]
    working, stuck = min(40, max(tasks // 5, 1)), min(30, max(tasks // 10, 1))
    with Orchestrator.open(store) as orchestrator:
        workspace = detect_workspace(str(project))
        for number in range(working):
            worker = orchestrator.sessions.initialize(workspace, client=agent(f"agent-{number}"))
            order = orchestrator.work.execute(session_id, worker["client_id"], paths=[f"src/area_{number}/**"])
            orchestrator.messages.send(
                session_id, worker["client_id"], "all", f"Working in src/area_{number}.", task_id=order["task"]["task_id"]
            )
        for number in range(stuck):
            order = orchestrator.work.execute(session_id, init["client_id"])
            orchestrator.work.complete(
                session_id, init["client_id"], order["task"]["task_id"], summary=f"Needs the API key ({number})",
                status="blocked" if number % 2 else "failed",
            )
        parent = orchestrator.tasks.plan(session_id, init["client_id"], draft("Release notes"), subtasks=[draft("Draft them")])
        orchestrator.work.execute(session_id, init["client_id"], parent["subtasks"][0]["task_id"])
        orchestrator.work.complete(session_id, init["client_id"], parent["subtasks"][0]["task_id"], summary="Drafted.")
    return {"working": working, "stuck": stuck}


def section(text: str, title: str) -> tuple[int, int]:
    """How many entries the section whose heading starts with `title` shows, and how many more it counts."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {title}"))
    shown, more = 0, 0
    for line in lines[start + 1:]:
        if not line.startswith("- "):
            break
        if found := re.match(r"- \.\.\. and (?:at least )?(\d+) more", line):
            more = int(found[1])
        elif not line.startswith("- ..."):
            shown += 1
    return shown, more


@pytest.mark.parametrize("tasks", [10, 1_000, pytest.param(10_000, marks=pytest.mark.soak)])
def test_prime_is_bounded_at_any_size_and_counts_what_it_leaves_out(tasks: int, store: str, project: Path) -> None:
    figures = busy_session(store, project, tasks)
    result = taskweave("prime", "--store", store, cwd=project / "src")
    assert result.returncode == 0 and result.stderr == ""
    text = result.stdout
    assert len(text.encode()) <= MAX_BYTES
    assert text.startswith("# taskweave\n") and str(project) in text
    assert sum(section(text, f"In progress ({figures['working']})")) == figures["working"]
    assert sum(section(text, f"Blocked or failed ({figures['stuck']})")) == figures["stuck"]
    assert sum(section(text, "Reserved paths")) == figures["working"]
    assert 0 < section(text, "Messages")[0] <= figures["working"]
    assert section(text, "Ready next")[0] > 0
    assert section(text, "Ready to synthesize") == (1, 0)
    assert "agent-0, 4 min left" in text
    calls = text.split("## To continue\n")[1]
    assert calls.startswith("1. `orchestrator_initialize_session`") and "\n3. `orchestrator_execute_task`" in calls


def test_prime_without_a_session_is_short_and_friendly(store: str, project: Path, tmp_path: Path) -> None:
    populate(store, project, 3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(elsewhere)], check=True)
    result = taskweave("prime", "--store", store, cwd=elsewhere)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"# taskweave\nNo taskweave session in this workspace yet: {elsewhere}")
    assert len(result.stdout) < 600


def test_prime_never_creates_a_store(project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "taskweave.db"
    result = taskweave("prime", cwd=project, TASKWEAVE_STORE=str(missing))
    assert result.returncode == 0 and "No taskweave session in this workspace yet" in result.stdout
    assert f"the store {missing} does not exist yet" in result.stdout
    assert not missing.parent.exists()


def test_prime_on_a_damaged_store_says_so_in_one_line_and_leaves_it_alone(project: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "store" / "taskweave.db"
    damaged.parent.mkdir()
    damaged.write_bytes(b"not a database at all " * 100)
    before = (damaged.read_bytes(), damaged.stat().st_mtime_ns)
    result = taskweave("prime", "--store", str(damaged), cwd=project)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("taskweave: prime could not read the store: ")
    assert str(damaged) in result.stdout and "damaged" in result.stdout
    assert "taskweave check" in result.stdout
    assert (damaged.read_bytes(), damaged.stat().st_mtime_ns) == before
    assert sorted(p.name for p in damaged.parent.iterdir()) == ["taskweave.db"]


def test_prime_leaves_a_store_of_an_older_schema_to_the_server_to_migrate(project: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with closing(sqlite3.connect(old)) as connection:
        connection.executescript((FIXTURES / "store-v1.sql").read_text())
        connection.execute("PRAGMA user_version = 1")
    before = old.read_bytes()
    result = taskweave("prime", "--store", str(old), cwd=project)
    assert result.returncode == 0 and result.stdout.count("\n") == 1
    assert "schema version 1" in result.stdout and "taskweave serve" in result.stdout
    assert old.read_bytes() == before and not list(tmp_path.glob("old.db.schema-*.bak"))


def test_prime_on_an_unreachable_postgres_says_so_in_one_line(project: Path) -> None:
    result = taskweave("prime", "--store", "postgresql://taskweave:secret@127.0.0.1:9/taskweave", cwd=project)
    assert result.returncode == 0 and result.stdout.count("\n") == 1
    assert result.stdout.startswith("taskweave: prime could not read the store") and "secret" not in result.stdout


@pytest.mark.parametrize("client", ["gemini", "cursor"])
def test_prime_answers_as_the_hook_of_clients_that_read_json(client: str, store: str, project: Path) -> None:
    busy_session(store, project, 10)
    result = taskweave("prime", "--store", store, "--hook", client, cwd=project)
    answer = json.loads(result.stdout)
    context = answer["additional_context"] if client == "cursor" else answer["hookSpecificOutput"]["additionalContext"]
    assert context.startswith("# taskweave\n") and "## In progress" in context


# --- hooks ----------------------------------------------------------------------------------------


SETTINGS = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {"SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}]},
}


def claude_settings(project: Path) -> Path:
    """The project's Claude Code settings, with settings and a session hook of their own."""
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(SETTINGS, indent=4))
    return path


def handlers(document: dict[str, Any], event: str) -> list[str]:
    return [h["command"] for group in document["hooks"].get(event, []) for h in group["hooks"]]


def test_hooks_install_twice_gives_one_hook_and_keeps_the_other_settings(project: Path) -> None:
    path = claude_settings(project)
    first = taskweave("hooks", "claude-code", "--install", "--dir", str(project / "src"), cwd=project)
    assert first.returncode == 0, first.stderr
    assert f"Added the taskweave hook to {path}" in first.stdout
    installed = path.read_text()
    second = taskweave("hooks", "claude-code", "--install", cwd=project / "src")
    assert second.returncode == 0 and "nothing changed" in second.stdout
    assert path.read_text() == installed
    document = json.loads(installed)
    assert document["permissions"] == {"allow": ["Bash(npm test)"]}
    commands = handlers(document, "SessionStart")
    assert commands[0] == "echo hello" and len(commands) == 2
    assert shlex.split(commands[1])[-3:] == ["prime", "--hook", "claude-code"]
    assert set(document["hooks"]) == {"SessionStart"}, "one event: SessionStart's compact source covers compaction"

    removed = taskweave("hooks", "claude-code", "--uninstall", cwd=project)
    assert removed.returncode == 0 and "Removed" in removed.stdout
    assert json.loads(path.read_text()) == SETTINGS


def test_hooks_refuse_a_settings_file_that_is_not_json_and_change_nothing(project: Path) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"permissions": {')
    result = taskweave("hooks", "claude-code", "--install", cwd=project)
    assert result.returncode == 1 and "is not valid JSON" in result.stderr and "nothing was changed" in result.stderr
    assert path.read_text() == '{"permissions": {'
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_hooks_without_a_flag_print_the_fragment_and_say_where(project: Path) -> None:
    result = taskweave("hooks", "gemini", "--store", "/data/tw.db", cwd=project)
    assert result.returncode == 0
    fragment = json.loads(result.stdout)
    handler = fragment["hooks"]["SessionStart"][0]["hooks"][0]
    assert shlex.split(handler["command"])[-5:] == ["prime", "--hook", "gemini", "--store", "/data/tw.db"]
    assert str(project / ".gemini" / "settings.json") in result.stderr
    assert not (project / ".gemini").exists()


def test_hooks_say_plainly_when_a_client_has_none(project: Path) -> None:
    result = taskweave("hooks", "claude-desktop", cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    assert "no hooks" in result.stderr and "orchestrator_initialize_session" in result.stderr


@pytest.mark.parametrize(
    ("client", "settings"),
    [("claude-code", ".claude/settings.json"), ("codex", ".codex/hooks.json"), ("gemini", ".gemini/settings.json"),
     ("cursor", ".cursor/hooks.json")],
)
def test_the_installed_command_prints_the_brief(client: str, settings: str, project: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "tw.db")
    busy_session(store, project, 10)
    assert taskweave("hooks", client, "--install", "--store", store, cwd=project).returncode == 0
    document = json.loads((project / settings).read_text())
    entry = document["hooks"]["sessionStart" if client == "cursor" else "SessionStart"][0]
    command = entry["command"] if client == "cursor" else entry["hooks"][0]["command"]
    # As the client runs it: a shell in the project, with an environment that does not name the store.
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWEAVE_")}
    ran = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=project, env=env, timeout=60)
    assert ran.returncode == 0 and ran.stderr == ""
    if client in ("gemini", "cursor"):
        answer = json.loads(ran.stdout)
        brief = answer["additional_context"] if client == "cursor" else answer["hookSpecificOutput"]["additionalContext"]
    else:
        brief = ran.stdout
    assert brief.startswith("# taskweave\n") and "## In progress (2)" in brief
