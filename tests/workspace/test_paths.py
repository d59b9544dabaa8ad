"""Where detection starts: precedence, URIs, placeholders, bad input, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskweave.errors import InvalidInput
from taskweave.workspace import detect_workspace
from taskweave.workspace.paths import placeholder_in, to_local_path


@pytest.fixture
def projects(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, marker in (("arg", "go.mod"), ("root", "Cargo.toml"), ("env", "mix.exs"), ("cwd", "pom.xml")):
        paths[name] = tmp_path / name
        paths[name].mkdir()
        (paths[name] / marker).touch()
    return paths


def test_precedence_argument_roots_env_cwd(projects: dict[str, Path]) -> None:
    environ = {"TASKWEAVE_WORKSPACE": str(projects["env"]), "HOME": "/nonexistent-home"}
    roots = [projects["root"].as_uri()]
    cwd = str(projects["cwd"])
    assert detect_workspace(str(projects["arg"]), roots=roots, environ=environ, cwd=cwd).source == "argument"
    by_roots = detect_workspace(None, roots=roots, environ=environ, cwd=cwd)
    assert (by_roots.source, by_roots.root, by_roots.types) == ("roots", str(projects["root"]), ["rust"])
    assert detect_workspace(None, environ=environ, cwd=cwd).source == "env"
    by_cwd = detect_workspace(None, environ={}, cwd=cwd)
    assert (by_cwd.source, by_cwd.root) == ("cwd", str(projects["cwd"]))


def test_placeholders_are_skipped_with_a_warning(projects: dict[str, Path]) -> None:
    found = detect_workspace("${workspaceFolder}", roots=["${workspaceRoot}"],
                             environ={"TASKWEAVE_WORKSPACE": str(projects["env"])}, cwd=str(projects["cwd"]))
    assert found.source == "env"
    warnings = " ".join(found.evidence["warnings"])
    assert "${workspaceFolder}" in warnings and "${workspaceRoot}" in warnings


def test_unusable_roots_fall_through_to_the_next_source(projects: dict[str, Path], tmp_path: Path) -> None:
    roots = [(tmp_path / "gone").as_uri(), "file:///c%3A/Users/me/project", projects["root"].as_uri()]
    found = detect_workspace(None, roots=roots, environ={}, cwd=str(projects["cwd"]))
    assert found.root == str(projects["root"])
    assert len(found.evidence["warnings"]) == 2


def test_empty_argument_means_not_given(projects: dict[str, Path]) -> None:
    found = detect_workspace("  ", environ={}, cwd=str(projects["cwd"]))
    assert found.source == "cwd"


def test_relative_argument_is_taken_from_the_client_root(projects: dict[str, Path]) -> None:
    (projects["root"] / "crates" / "core").mkdir(parents=True)
    found = detect_workspace("crates/core", roots=[str(projects["root"])], environ={}, cwd="/")
    assert found.start == str(projects["root"] / "crates" / "core")
    assert found.root == str(projects["root"])


def test_tilde_and_percent_encoded_uris(tmp_path: Path) -> None:
    spaced = tmp_path / "my project"
    spaced.mkdir()
    (spaced / "package.json").touch()
    found = detect_workspace(None, roots=[spaced.as_uri()], environ={"HOME": str(tmp_path)}, cwd="/")
    assert found.root == str(spaced)
    home_relative = detect_workspace("~/my project", environ={"HOME": str(tmp_path)}, cwd="/")
    assert home_relative.root == str(spaced)


@pytest.mark.parametrize("given, expected", [
    ("file:///home/u/a%20b", "/home/u/a b"),
    ("file://localhost/srv/x", "/srv/x"),
    ("file:///c%3A/Users/me", "c:/Users/me"),
    ("/c%3A/Users/me", "c:/Users/me"),
    ("C:\\Users\\me", "c:/Users/me"),
    ("file://server/share/x", "//server/share/x"),
    ("~/x", "/home/u/x"),
])
def test_to_local_path(given: str, expected: str) -> None:
    assert to_local_path(given, home="/home/u") == expected


@pytest.mark.parametrize("value", ["${workspaceFolder}", "${env:HOME}/x", "$(pwd)", "%USERPROFILE%\\code"])
def test_placeholder_forms(value: str) -> None:
    assert placeholder_in(value)


def test_a_plain_path_has_no_placeholder() -> None:
    assert placeholder_in("/home/u/100%/a%20b") is None


def _invalid(working_directory: str, tmp_path: Path) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        detect_workspace(working_directory, environ={}, cwd=str(tmp_path))
    return caught.value


def test_bad_explicit_paths_raise_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "file.txt").touch()
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    cases = {
        str(tmp_path / "nope"): "does not exist",
        str(tmp_path / "file.txt"): "is a file",
        str(tmp_path / "dangling"): "broken symbolic link",
        "file:///c%3A/Users/me": "Windows path",
    }
    for given, message in cases.items():
        error = _invalid(given, tmp_path)
        assert message in error.message
        assert "working_directory" in error.hint
        assert error.to_dict()["error"]["code"] == "invalid_input"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_unreadable_explicit_directory_raises(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        assert "permission denied" in _invalid(str(locked), tmp_path).message
    finally:
        locked.chmod(0o755)


def test_nothing_usable_at_all_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        detect_workspace(None, roots=["${workspaceFolder}"], environ={}, cwd=str(tmp_path / "deleted"))
    assert "TASKWEAVE_WORKSPACE" in caught.value.hint


def test_to_dict_is_json_and_explain_is_readable(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").touch()
    found = detect_workspace(str(tmp_path), environ={})
    data = json.loads(json.dumps(found.to_dict()))
    assert {"root", "types", "identity", "vcs", "nearest_project", "source", "evidence"} <= data.keys()
    text = found.explain()
    assert str(tmp_path) in text and "rust" in text and "Cargo.toml" in text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taskweave", "detect", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_cli_json_and_errors(tmp_path: Path) -> None:
    (tmp_path / "go.mod").touch()
    result = _cli(str(tmp_path), "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["types"] == ["go"]
    failure = _cli(str(tmp_path / "missing"), cwd=tmp_path)
    assert failure.returncode == 1
    assert "does not exist" in failure.stderr and "Traceback" not in failure.stderr


def test_the_package_imports_nothing_heavy() -> None:
    code = "import sys, taskweave.workspace; print(sorted(m for m in ('mcp','pydantic','anyio') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
