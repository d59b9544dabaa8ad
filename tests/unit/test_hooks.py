"""`taskweave hooks CLIENT`: the entries each client's documentation describes, merged without touching the rest."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from taskweave.cli.hooks import (
    CLIENTS,
    WITHOUT_HOOKS,
    Unsupported,
    client_spec,
    install,
    prime_command,
    read_settings,
    runs_prime,
    uninstall,
    write_settings,
)
from taskweave.errors import TaskweaveError

OURS = "/opt/tw/bin/taskweave prime --hook claude-code"
CURSOR = "/opt/tw/bin/taskweave prime --hook cursor"
MOVED = "/home/you/.venv/bin/taskweave prime --hook claude-code --store /data/tw.db"


def claude_settings() -> dict[str, Any]:
    """A settings file with settings and hooks of its own."""
    return {
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}],
        },
        "model": "opus",
    }


def ours_in(document: dict[str, Any], event: str = "SessionStart") -> list[str]:
    return [
        handler["command"]
        for group in document.get("hooks", {}).get(event, [])
        for handler in group.get("hooks", [])
        if runs_prime(handler["command"])
    ]


# --- what goes where, as each client documents it -----------------------------------------------


def test_claude_code_starts_and_compacts_with_one_session_start_hook() -> None:
    fragment = CLIENTS["claude-code"].fragment(OURS)
    assert fragment == {
        "hooks": {
            "SessionStart": [
                {"matcher": "startup|resume|clear|compact|fork", "hooks": [{"type": "command", "command": OURS, "timeout": 10}]}
            ]
        }
    }
    assert CLIENTS["claude-code"].settings == ".claude/settings.json"


def test_codex_reads_the_same_layout_from_its_project_hooks_file() -> None:
    spec = CLIENTS["codex"]
    assert spec.settings == ".codex/hooks.json" and spec.event == "SessionStart"
    group = spec.fragment("tw prime --hook codex")["hooks"]["SessionStart"][0]
    assert group["matcher"] == "startup|resume|clear|compact" and group["hooks"][0]["timeout"] == 10
    assert any("trust" in note for note in spec.notes)


def test_gemini_takes_every_source_and_counts_its_timeout_in_milliseconds() -> None:
    spec = CLIENTS["gemini"]
    group = spec.fragment("tw prime --hook gemini")["hooks"]["SessionStart"][0]
    assert spec.settings == ".gemini/settings.json"
    assert group["matcher"] == "*", "Gemini CLI compares lifecycle matchers as exact strings"
    assert group["hooks"][0] == {"name": "taskweave-prime", "type": "command", "command": "tw prime --hook gemini", "timeout": 10_000}


def test_cursor_lists_handlers_directly_under_a_version() -> None:
    assert CLIENTS["cursor"].fragment("tw prime --hook cursor") == {
        "version": 1,
        "hooks": {"sessionStart": [{"command": "tw prime --hook cursor"}]},
    }


@pytest.mark.parametrize("client", sorted(WITHOUT_HOOKS))
def test_clients_without_session_hooks_are_refused_with_an_alternative(client: str) -> None:
    with pytest.raises(Unsupported) as refused:
        client_spec(client)
    assert "orchestrator_initialize_session" in refused.value.message


def test_the_command_names_the_running_taskweave_and_the_store() -> None:
    command = prime_command("gemini", "relative/tw.db")
    assert runs_prime(command) and command.endswith(f"prime --hook gemini --store {os.path.abspath('relative/tw.db')}")
    assert prime_command("codex", "postgresql://tw@db/tw").endswith("--store postgresql://tw@db/tw")


@pytest.mark.parametrize(
    ("command", "ours"),
    [
        (OURS, True),
        ("'/path with space/taskweave' prime", True),
        ("/usr/bin/python3 -m taskweave prime --hook codex", True),
        ("C:/tw/taskweave.exe prime", True),
        ("/opt/tw/bin/taskweave serve", False),
        ("echo taskweave prime", False),
        ("bd prime", False),
        ("taskweave-prime", False),
        ("'unbalanced", False),
        (None, False),
    ],
)
def test_our_entry_is_recognised_by_its_command(command: object, ours: bool) -> None:
    assert runs_prime(command) is ours


# --- merging --------------------------------------------------------------------------------------


def test_installing_adds_one_entry_and_keeps_everything_else() -> None:
    spec = CLIENTS["claude-code"]
    before = claude_settings()
    after = install(spec, copy.deepcopy(before), OURS)
    assert ours_in(after) == [OURS]
    assert after["permissions"] == before["permissions"] and after["model"] == "opus"
    assert after["hooks"]["PreToolUse"] == before["hooks"]["PreToolUse"]
    assert after["hooks"]["SessionStart"][0] == before["hooks"]["SessionStart"][0], "other session hooks stay, first"
    assert install(spec, after, OURS) is after, "a second install changes nothing"


def test_installing_from_another_path_replaces_ours() -> None:
    spec = CLIENTS["claude-code"]
    moved = install(spec, install(spec, claude_settings(), OURS), MOVED)
    assert ours_in(moved) == [MOVED]


def test_ours_is_taken_out_of_a_group_it_shares_with_other_handlers() -> None:
    spec = CLIENTS["claude-code"]
    shared = {"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "echo hi"}, {"type": "command", "command": OURS}]}]}}
    after = install(spec, shared, MOVED)
    assert after["hooks"]["SessionStart"][0] == {"hooks": [{"type": "command", "command": "echo hi"}]}
    assert ours_in(after) == [MOVED]
    assert uninstall(spec, after)["hooks"]["SessionStart"] == [{"hooks": [{"type": "command", "command": "echo hi"}]}]


def test_uninstalling_removes_only_ours_and_tidies_what_it_emptied() -> None:
    spec = CLIENTS["claude-code"]
    assert uninstall(spec, install(spec, claude_settings(), OURS)) == claude_settings()
    alone = install(spec, {"model": "opus"}, OURS)
    assert uninstall(spec, alone) == {"model": "opus"}, "an event and a hooks object left empty go"
    assert uninstall(spec, {"hooks": {}}) == {"hooks": {}}, "what was empty before is not ours to tidy"
    nothing = claude_settings()
    assert uninstall(spec, nothing) is nothing


def test_uninstalling_finds_ours_under_any_event() -> None:
    spec = CLIENTS["claude-code"]
    document = {"hooks": {"PreCompact": [{"hooks": [{"type": "command", "command": OURS}]}]}}
    assert uninstall(spec, document) == {}


def test_cursor_keeps_its_version_and_other_hooks() -> None:
    spec = CLIENTS["cursor"]
    before = {"version": 1, "hooks": {"sessionStart": [{"command": "./hello.sh"}], "stop": [{"command": "./bye.sh"}]}}
    after = install(spec, copy.deepcopy(before), CURSOR)
    assert after["hooks"]["sessionStart"] == [{"command": "./hello.sh"}, {"command": CURSOR}]
    assert install(spec, after, CURSOR) is after
    assert uninstall(spec, after) == before
    assert install(spec, {}, CURSOR)["version"] == 1


@pytest.mark.parametrize("broken", [{"hooks": []}, {"hooks": {"SessionStart": {"matcher": "x"}}}])
def test_a_hooks_section_of_another_shape_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(TaskweaveError) as refused:
        install(CLIENTS["claude-code"], broken, OURS)
    assert "not" in refused.value.message and refused.value.hint


# --- the file -------------------------------------------------------------------------------------


def test_the_file_is_written_whole_indented_and_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    write_settings(path, {"a": {"b": [1]}})
    path.chmod(0o600)
    write_settings(path, {"a": {"b": [2]}, "é": "ü"})
    assert path.read_text(encoding="utf-8") == '{\n  "a": {\n    "b": [\n      2\n    ]\n  },\n  "é": "ü"\n}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"], "no temporary file is left"


def test_reading_refuses_what_is_not_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert read_settings(path) is None
    path.write_text("  \n")
    assert read_settings(path) == {}
    for text in ('{"hooks": {', "[1, 2]"):
        path.write_text(text)
        with pytest.raises(TaskweaveError) as refused:
            read_settings(path)
        assert "nothing was changed" in refused.value.message
        assert path.read_text() == text
    path.write_text(json.dumps(claude_settings()))
    assert read_settings(path) == claude_settings()
