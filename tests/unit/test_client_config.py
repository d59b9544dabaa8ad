"""`taskweave config CLIENT`: what each client's snippet says, in the client's own syntax."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from taskweave.cli.client_config import CLIENTS, running_command, snippet
from taskweave.cli.main import build_parser

SECRET = "s3cret-t0ken"
STORE = "/data/tw.db"
URL = "http://127.0.0.1:8765/mcp"
REMOTE_URL = "https://tw.example.com/mcp"

# Where each client keeps its servers: what the client's documentation says, not what the code says.
SERVERS_KEY = {
    "claude-desktop": "mcpServers",
    "cursor": "mcpServers",
    "vscode": "servers",
    "windsurf": "mcpServers",
    "zed": "context_servers",
    "codex": "mcp_servers",
    "gemini": "mcpServers",
}
# The field that holds the daemon's URL.
URL_FIELD = {"cursor": "url", "vscode": "url", "windsurf": "serverUrl", "zed": "url", "codex": "url", "gemini": "httpUrl"}
# A word of the where-to-put-it note: the file.
WHERE = {
    "claude-code": "--scope user",
    "claude-desktop": "claude_desktop_config.json",
    "cursor": ".cursor/mcp.json",
    "vscode": ".vscode/mcp.json",
    "windsurf": ".codeium/windsurf/mcp_config.json",
    "zed": "settings.json",
    "codex": ".codex/config.toml",
    "gemini": ".gemini/settings.json",
}
FILE_CLIENTS = list(SERVERS_KEY)


def parse(client: str, text: str) -> Any:
    """The snippet as its client reads it: a TOML or JSON document, or Claude Code's command words."""
    if client == "claude-code":
        return shlex.split(text)
    if client == "codex":
        return tomllib.loads(text)
    return json.loads(text)


def entry(client: str, text: str) -> dict[str, Any]:
    document = parse(client, text)
    assert list(document[SERVERS_KEY[client]]) == ["taskweave"]
    server: dict[str, Any] = document[SERVERS_KEY[client]]["taskweave"]
    return server


def assert_no_comments(text: str) -> None:
    assert text == text.strip() and text
    assert not [line for line in text.splitlines() if line.lstrip().startswith(("//", "#", "/*"))]


# --- a model of how Claude Code reads `claude mcp add` (commander.js) ---------------------------------

# Every option takes a value; `--env` and `--header` take several, up to the next word that starts with `-`.
CLAUDE_OPTIONS = {"-t": "transport", "--transport": "transport", "-s": "scope", "--scope": "scope",
                  "-e": "env", "--env": "env", "-H": "header", "--header": "header"}
CLAUDE_VARIADIC = {"env", "header"}


def claude_mcp_add(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(options, operands) as commander parses `claude mcp add ...`; an option after the name fails."""
    assert words[:3] == ["claude", "mcp", "add"], words
    args = words[3:]
    options: dict[str, list[str]] = {}
    operands: list[str] = []
    variadic: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands += args[i:]
            break
        if variadic and not arg.startswith("-"):
            options[variadic].append(arg)
            continue
        variadic = None
        if arg.startswith("-"):
            assert not operands, f"an option after the server name: {words}"
            flag, equals, value = arg.partition("=")
            assert flag in CLAUDE_OPTIONS, f"unknown option {arg}"
            name = CLAUDE_OPTIONS[flag]
            if equals and flag.startswith("--"):
                options.setdefault(name, []).append(value)
            else:
                options.setdefault(name, []).append(args[i])
                i += 1
                variadic = name if name in CLAUDE_VARIADIC else None
            continue
        operands.append(arg)
    return options, operands


def test_the_model_of_claude_reads_a_spaced_env_value_as_swallowing_the_name() -> None:
    # The known trap: `-e K=V taskweave` reads "taskweave" as a second variable, leaving no name.
    options, operands = claude_mcp_add(["claude", "mcp", "add", "-e", "K=V", "taskweave", "--", "/bin/tw", "serve"])
    assert options["env"] == ["K=V", "taskweave"] and operands == ["/bin/tw", "serve"]
    with pytest.raises(AssertionError, match="after the server name"):
        claude_mcp_add(["claude", "mcp", "add", "taskweave", "-e", "K=V", "--", "/bin/tw", "serve"])


# --- fixtures ---------------------------------------------------------------------------------------


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process made the console script `my venv/bin/taskweave`, with another `taskweave` first on PATH."""
    script = executable(tmp_path / "my venv" / "bin" / "taskweave")
    decoy = executable(tmp_path / "elsewhere" / "taskweave")
    monkeypatch.setenv("PATH", f"{decoy.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(sys, "argv", [str(script), "config"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "my venv" / "bin" / "python"))
    monkeypatch.delenv("TASKWEAVE_TOKEN", raising=False)
    monkeypatch.delenv("TASKWEAVE_STORE", raising=False)
    assert shutil.which("taskweave") == str(decoy)
    return script


# --- stdio ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_stdio_snippet_is_the_file_content_naming_the_running_executable(client: str, running: Path) -> None:
    made = snippet(client, store=STORE)
    assert_no_comments(made.text)
    server = entry(client, made.text)
    assert Path(server["command"]).is_absolute() and server["command"] == str(running)
    assert server["args"] == ["serve"]
    assert server["env"] == {"TASKWEAVE_STORE": STORE}
    assert set(server) - {"command", "args", "env"} == ({"type"} if client == "vscode" else set())
    if client == "vscode":
        assert server["type"] == "stdio"
    assert WHERE[client] in made.notes[0]


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_stdio_snippet_without_a_store_has_no_environment(client: str, running: Path) -> None:
    server = entry(client, snippet(client).text)
    assert "env" not in server and server["command"] == str(running)


def test_claude_code_gets_a_command_with_its_options_before_the_name(running: Path) -> None:
    made = snippet("claude-code", store=STORE)
    assert "\n" not in made.text and not made.text.startswith("#")
    options, operands = claude_mcp_add(parse("claude-code", made.text))
    assert options == {"env": [f"TASKWEAVE_STORE={STORE}"]}
    assert operands == ["taskweave", str(running), "serve"]
    assert "--scope user" in made.notes[0]


def test_claude_code_without_a_store_is_name_dash_dash_command(running: Path) -> None:
    assert parse("claude-code", snippet("claude-code").text) == ["claude", "mcp", "add", "taskweave", "--", str(running), "serve"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_claude_code_command_survives_the_shell(running: Path) -> None:
    """Run as it is printed (with `claude` a stand-in that prints its arguments): the path with a space stays one word."""
    made = snippet("claude-code", store="/data/my store.db")
    words = shell_run(made.text)
    assert words == ["mcp", "add", "--env=TASKWEAVE_STORE=/data/my store.db", "taskweave", "--", str(running), "serve"]


def shell_run(command: str, **env: str) -> list[str]:
    stand_in = 'claude() { printf "%s\\n" "$@"; }\n'
    result = subprocess.run(["bash", "-c", stand_in + command], capture_output=True, text=True, env={**os.environ, **env}, check=True)
    return result.stdout.splitlines()


# --- the running executable -------------------------------------------------------------------------


def test_a_relative_console_script_is_made_absolute(running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(running.parent.parent)
    monkeypatch.setattr(sys, "argv", ["bin/taskweave", "config"])
    assert running_command() == (str(running), ["serve"])


def test_python_dash_m_names_the_console_script_beside_the_interpreter(running: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "src" / "taskweave" / "__main__.py"), "config"])
    assert running_command() == (str(running), ["serve"])


def test_without_a_console_script_the_interpreter_runs_the_module(running: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "__main__.py"), "config"])
    python = tmp_path / "bare" / "python3"
    monkeypatch.setattr(sys, "executable", str(python))
    assert running_command() == (str(python), ["-m", "taskweave", "serve"])
    server = entry("cursor", snippet("cursor").text)
    assert [server["command"], *server["args"]] == [str(python), "-m", "taskweave", "serve"]


def test_a_windows_console_script_is_named_with_its_exe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = executable(tmp_path / "Scripts" / "taskweave.exe")
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "Scripts" / "taskweave"), "config"])
    assert running_command() == (str(script), ["serve"])


# --- the store --------------------------------------------------------------------------------------


def test_a_relative_store_is_made_absolute_and_a_url_kept(running: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert entry("gemini", snippet("gemini", store="state/tw.db").text)["env"] == {"TASKWEAVE_STORE": str(tmp_path / "state" / "tw.db")}
    url = "postgresql://taskweave@db.example.com/taskweave"
    assert entry("codex", snippet("codex", store=url).text)["env"] == {"TASKWEAVE_STORE": url}


@pytest.mark.parametrize("client", ["codex", "zed"])
def test_odd_characters_survive_toml_and_json(client: str, running: Path) -> None:
    odd = '/data/"quoted" \\back\\ tab\tnew\nline é ☃ \x7f.db'
    assert entry(client, snippet(client, store=odd).text)["env"] == {"TASKWEAVE_STORE": odd}


def test_a_store_only_in_the_shell_is_pointed_out(running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWEAVE_STORE", "/elsewhere/tw.db")
    made = snippet("cursor")
    assert "env" not in entry("cursor", made.text)
    assert any("TASKWEAVE_STORE is set" in note and "--store" in note for note in made.notes)


# --- HTTP -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", sorted(URL_FIELD))
def test_http_snippet_points_at_the_url(client: str, running: Path) -> None:
    made = snippet(client, http=URL)
    assert_no_comments(made.text)
    server = entry(client, made.text)
    assert server[URL_FIELD[client]] == URL
    assert "command" not in server and "headers" not in server and "bearer_token_env_var" not in server
    if client == "vscode":
        assert server["type"] == "http" and "inputs" not in parse(client, made.text)
    assert WHERE[client] in made.notes[0]


# How each client refers to the token it sends: its own expansion, a prompt, or a placeholder to fill in.
TOKEN_REFERENCE = {
    "cursor": "Bearer ${env:TASKWEAVE_TOKEN}",
    "windsurf": "Bearer ${env:TASKWEAVE_TOKEN}",
    "gemini": "Bearer ${TASKWEAVE_TOKEN}",
    "vscode": "Bearer ${input:taskweave-token}",
    "zed": "Bearer <TASKWEAVE_TOKEN>",
}


@pytest.mark.parametrize("client", sorted(TOKEN_REFERENCE))
def test_http_snippet_refers_to_the_token_without_printing_it(client: str, running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWEAVE_TOKEN", SECRET)
    made = snippet(client, http=REMOTE_URL)
    assert SECRET not in made.text and not any(SECRET in note for note in made.notes)
    server = entry(client, made.text)
    assert server[URL_FIELD[client]] == REMOTE_URL
    assert server["headers"] == {"Authorization": TOKEN_REFERENCE[client]}
    if client == "vscode":
        assert parse(client, made.text)["inputs"] == [
            {"type": "promptString", "id": "taskweave-token", "description": "taskweave daemon token", "password": True}
        ]
    if client == "zed":
        assert any("Replace <TASKWEAVE_TOKEN>" in note for note in made.notes)


def test_codex_reads_the_token_from_its_environment(running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWEAVE_TOKEN", SECRET)
    made = snippet("codex", http=REMOTE_URL)
    assert SECRET not in made.text
    assert entry("codex", made.text) == {"url": REMOTE_URL, "bearer_token_env_var": "TASKWEAVE_TOKEN"}


def test_claude_desktop_bridges_the_daemon_through_mcp_remote(running: Path) -> None:
    made = snippet("claude-desktop", http=URL)
    assert entry("claude-desktop", made.text) == {"command": "npx", "args": ["-y", "mcp-remote", URL]}
    assert any("Connectors" in note for note in made.notes) and any("mcp-remote" in note for note in made.notes)


def test_claude_desktop_bridge_with_a_token_leaves_a_placeholder(running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWEAVE_TOKEN", SECRET)
    made = snippet("claude-desktop", http="http://10.0.0.5:8765/mcp")
    assert SECRET not in made.text
    assert entry("claude-desktop", made.text) == {
        "command": "npx",
        "args": ["-y", "mcp-remote", "http://10.0.0.5:8765/mcp", "--allow-http", "--header", "Authorization:${AUTH_HEADER}"],
        "env": {"AUTH_HEADER": "Bearer <TASKWEAVE_TOKEN>"},
    }
    assert any("Replace <TASKWEAVE_TOKEN>" in note for note in made.notes)


def test_claude_code_http_is_transport_http_before_the_name(running: Path) -> None:
    options, operands = claude_mcp_add(parse("claude-code", snippet("claude-code", http=URL).text))
    assert options == {"transport": ["http"]} and operands == ["taskweave", URL]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_claude_code_http_header_takes_the_token_from_the_shell(running: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWEAVE_TOKEN", SECRET)
    made = snippet("claude-code", http=REMOTE_URL)
    assert SECRET not in made.text
    options, operands = claude_mcp_add(parse("claude-code", made.text))
    assert options == {"transport": ["http"], "header": ["Authorization: Bearer $TASKWEAVE_TOKEN"]}
    assert operands == ["taskweave", REMOTE_URL]
    ran = shell_run(made.text, TASKWEAVE_TOKEN=SECRET)
    assert ran == ["mcp", "add", "--transport", "http", f"--header=Authorization: Bearer {SECRET}", "taskweave", REMOTE_URL]


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_remote_daemon_without_a_token_is_pointed_out(client: str, running: Path) -> None:
    assert any("TASKWEAVE_TOKEN" in note for note in snippet(client, http=REMOTE_URL).notes)
    assert not any("TASKWEAVE_TOKEN" in note for note in snippet(client, http=URL).notes)


# --- the command line -------------------------------------------------------------------------------


def test_the_eight_clients_are_the_choices() -> None:
    assert list(CLIENTS) == ["claude-code", "claude-desktop", "cursor", "vscode", "windsurf", "zed", "codex", "gemini"]
    parser = build_parser()
    for client in CLIENTS:
        assert parser.parse_args(["config", client]).client == client
    with pytest.raises(SystemExit):
        parser.parse_args(["config", "emacs"])


@pytest.mark.parametrize("arguments", [["--http", "127.0.0.1:8765"], ["--http", "ftp://x/mcp"], ["--http", URL, "--store", STORE]])
def test_config_refuses_what_is_not_a_daemon_url_or_both_transports(arguments: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["config", "cursor", *arguments])
