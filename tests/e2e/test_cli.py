"""The `taskweave` command line, run as a real process."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
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
    if not store.startswith("postgresql"):
        missing = taskweave("status", cwd=project, store=store)
        assert missing.returncode == 1 and "There is no store at" in missing.stderr
        assert not Path(store).exists() and not Path(store).parent.exists(), "a command that reads creates nothing"
    with Orchestrator.open(store):
        pass
    result = taskweave("status", cwd=project, store=store)
    assert result.returncode == 1
    assert "No active session" in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr


def running_taskweave() -> list[str]:
    """What `python -m taskweave` under this interpreter names: the console script beside it, else the module."""
    script = Path(sys.executable).parent / "taskweave"
    return [str(script), "serve"] if script.is_file() else [sys.executable, "-m", "taskweave", "serve"]


def parsed(client: str, stdout: str) -> dict:
    """The snippet as its client reads it, and the taskweave entry in it."""
    document = tomllib.loads(stdout) if client == "codex" else json.loads(stdout)
    key = {"vscode": "servers", "zed": "context_servers", "codex": "mcp_servers"}.get(client, "mcpServers")
    entry: dict = document[key]["taskweave"]
    return entry


CONFIG_FILES = {
    "claude-desktop": "claude_desktop_config.json", "cursor": "mcp.json", "vscode": "mcp.json",
    "windsurf": "mcp_config.json", "zed": "settings.json", "codex": "config.toml", "gemini": "settings.json",
}


@pytest.mark.parametrize("client", sorted(CONFIG_FILES))
def test_config_prints_exactly_the_file_content(client: str, project: Path) -> None:
    result = taskweave("config", client, "--store", "/data/tw.db", cwd=project)
    assert result.returncode == 0, result.stderr
    entry = parsed(client, result.stdout)
    assert [entry["command"], *entry["args"]] == running_taskweave()
    assert entry["env"] == {"TASKWEAVE_STORE": "/data/tw.db"}
    assert CONFIG_FILES[client] in result.stderr and "taskweave" in result.stderr
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith(("//", "#"))]


@pytest.mark.parametrize("client", sorted(CONFIG_FILES))
def test_config_for_the_daemon_refers_to_the_token_without_printing_it(client: str, project: Path) -> None:
    env = server_env(TASKWEAVE_TOKEN="s3cret-t0ken")
    result = subprocess.run(
        [sys.executable, "-m", "taskweave", "config", client, "--http", "https://tw.example.com/mcp"],
        capture_output=True, text=True, cwd=project, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "s3cret-t0ken" not in result.stdout + result.stderr
    assert "https://tw.example.com/mcp" in json.dumps(parsed(client, result.stdout))
    assert CONFIG_FILES[client] in result.stderr


def test_config_for_claude_code_is_the_command_with_its_options_before_the_name(project: Path) -> None:
    result = taskweave("config", "claude-code", "--store", "/data/tw.db", cwd=project)
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    assert words == ["claude", "mcp", "add", "--env=TASKWEAVE_STORE=/data/tw.db", "taskweave", "--", *running_taskweave()]
    assert "--scope user" in result.stderr

    http = taskweave("config", "claude-code", "--http", "http://127.0.0.1:8765/mcp", cwd=project)
    assert shlex.split(http.stdout) == ["claude", "mcp", "add", "--transport", "http", "taskweave", "http://127.0.0.1:8765/mcp"]


def test_config_names_the_console_script_that_runs_not_the_first_on_path(tmp_path: Path, project: Path) -> None:
    script = Path(sys.executable).parent / "taskweave"
    if not script.is_file():
        pytest.skip("taskweave is not installed as a console script beside this interpreter")
    decoy = tmp_path / "decoy" / "taskweave"
    decoy.parent.mkdir()
    decoy.write_text("#!/bin/sh\nexit 1\n")
    decoy.chmod(0o755)
    env = server_env(PATH=f"{decoy.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([str(script), "config", "cursor"], capture_output=True, text=True, cwd=project, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert parsed("cursor", result.stdout)["command"] == str(script)


def test_config_refuses_unknown_clients(project: Path) -> None:
    result = taskweave("config", "emacs", cwd=project)
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["status", "--json"], ["sessions", "--all"], ["config", "cursor"], ["detect", "--json"], ["prime"], ["hooks", "claude-code"]],
)
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


def test_store_commands_never_touch_the_stores_own_files_nor_create_a_store(tmp_path: Path, project: Path) -> None:
    store = tmp_path / "store" / "taskweave.db"
    missing = taskweave("check", "--store", str(store), cwd=project)
    assert missing.returncode == 1 and "There is no store at" in missing.stderr and not store.parent.exists()
    with Orchestrator.open(str(store)) as orchestrator:
        log = Path(f"{store}-wal")
        before = log.read_bytes()
        refused = taskweave("backup", f"{store}-wal", "--store", str(store), cwd=project)
        assert refused.returncode == 1 and "one of its files" in refused.stderr
        assert log.read_bytes() == before
        migrate = taskweave("migrate-store", str(store), f"{store}-shm", cwd=project)
        assert migrate.returncode == 1 and "is the -shm file of the store" in migrate.stderr
        assert orchestrator.store.check() == []
