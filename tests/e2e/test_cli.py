"""The `taskweave` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taskweave.core.orchestrator import Orchestrator
from tests.support import agent, draft, server_env


def taskweave(*args: str, cwd: Path, store: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = {"TASKWEAVE_STORE": store} if store else {}
    return subprocess.run(
        [sys.executable, "-m", "taskweave", *args], capture_output=True, text=True, cwd=cwd,
        env=server_env(**extra), timeout=60,
    )


@pytest.fixture
def planned(store: str, project: Path) -> dict:
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(store) as orchestrator:
        init = orchestrator.sessions.initialize(detect_workspace(str(project)), client=agent("cli-test"))
        plan = orchestrator.tasks.plan(init["session_id"], init["client_id"], draft("Write docs", ""), subtasks=[draft("Quickstart"), draft("Reference")])
        orchestrator.work.execute(init["session_id"], init["client_id"], plan["subtasks"][0]["task_id"])
    return init | {"plan": plan}


def test_status_and_sessions(planned: dict, store: str, project: Path) -> None:
    text = taskweave("status", cwd=project / "src", store=store)
    assert text.returncode == 0, text.stderr
    assert planned["session_id"] in text.stdout and "Quickstart" in text.stdout
    assert f"claimed by {planned['client_id']}" in text.stdout and "cli-test" in text.stdout

    as_json = json.loads(taskweave("status", "--json", cwd=project, store=store).stdout)
    assert as_json["counts"]["in_progress"] == 1 and as_json["counts"]["pending"] == 1, "the parent is no work"

    sessions = json.loads(taskweave("sessions", "--json", cwd=project, store=store).stdout)
    assert [s["session_id"] for s in sessions["sessions"]] == [planned["session_id"]]
    everything = taskweave("sessions", "--all", cwd=Path("/"), store=store)
    assert planned["session_id"] in everything.stdout and str(project) in everything.stdout


def test_status_without_a_session_says_what_to_do(store: str, project: Path) -> None:
    result = taskweave("status", cwd=project, store=store)
    assert result.returncode == 1
    assert "No active session" in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "vscode"])
def test_config_prints_json_snippets(client: str, project: Path) -> None:
    result = taskweave("config", client, "--store", "/data/tw.db", cwd=project)
    assert result.returncode == 0
    comment, _, body = result.stdout.partition("\n")
    assert comment.startswith("//")
    config = json.loads(body)
    servers = config["servers" if client == "vscode" else "mcpServers"]
    entry = servers["taskweave"]
    assert Path(entry["command"]).is_absolute() and entry["args"][-1] == "serve"
    assert entry["env"] == {"TASKWEAVE_STORE": "/data/tw.db"}


def test_config_for_claude_code_is_a_command(project: Path) -> None:
    result = taskweave("config", "claude-code", cwd=project)
    assert "claude mcp add taskweave -- " in result.stdout and result.stdout.rstrip().endswith("serve")


def test_config_refuses_unknown_clients(project: Path) -> None:
    result = taskweave("config", "emacs", cwd=project)
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.parametrize("command", [["status", "--json"], ["sessions", "--all"], ["config", "cursor"], ["detect", "--json"]])
def test_commands_that_do_not_serve_never_import_mcp(command: list[str], planned: dict, store: str, project: Path) -> None:
    probe = (
        "import sys\n"
        "from taskweave.cli import main\n"
        f"code = main({command!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types', 'pydantic', 'anyio', 'starlette'))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=project,
        env=server_env(TASKWEAVE_STORE=store), timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr


def test_no_command_prints_help(project: Path) -> None:
    result = taskweave(cwd=project)
    assert result.returncode == 2 and "serve" in result.stderr
