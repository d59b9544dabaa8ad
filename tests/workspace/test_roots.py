"""Workspace roots: VCS roots, worktrees, submodules, monorepos, `.taskweave.toml`, bounds."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from taskweave.workspace import detect_workspace

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def tree(base: Path, *paths: str) -> Path:
    """Create empty files (or directories, for paths ending in '/') under `base`."""
    for relative in paths:
        target = base / relative
        if relative.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    return base


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def committed_repo(path: Path, *files: str) -> Path:
    tree(path, *files)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return path


def detect(path: Path, **kwargs):
    return detect_workspace(str(path), environ={"HOME": "/nonexistent-home"}, **kwargs)


@needs_git
def test_git_root_wins_over_a_nested_package_json(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", "pyproject.toml", "web/package.json", "web/src/app.ts")
    found = detect(repo / "web" / "src")
    assert found.root == str(repo)
    assert found.vcs == "git"
    assert found.nearest_project == str(repo / "web")
    assert found.evidence["rule"] == "vcs"
    assert found.identity == str(repo)


def test_without_vcs_the_outermost_marker_directory_is_the_root(tmp_path: Path) -> None:
    base = tree(tmp_path, "mono/package.json", "mono/pnpm-workspace.yaml", "mono/packages/a/package.json",
                "mono/packages/a/src/")
    found = detect(base / "mono" / "packages" / "a" / "src")
    assert found.root == str(base / "mono")
    assert found.nearest_project == str(base / "mono" / "packages" / "a")
    assert found.evidence["rule"] == "outermost-marker"
    assert found.vcs is None


def test_without_markers_the_start_is_the_root(tmp_path: Path) -> None:
    tree(tmp_path, "notes/a/")
    found = detect(tmp_path / "notes" / "a")
    assert found.root == str(tmp_path / "notes" / "a")
    assert found.evidence["rule"] == "start"


@pytest.mark.parametrize("vcs_dir, vcs", [(".hg/", "hg"), (".jj/", "jj"), (".svn/", "svn")])
def test_other_vcs_roots(tmp_path: Path, vcs_dir: str, vcs: str) -> None:
    tree(tmp_path, f"repo/{vcs_dir}", "repo/lib/Cargo.toml", "repo/lib/src/")
    found = detect(tmp_path / "repo" / "lib" / "src")
    assert (found.root, found.vcs) == (str(tmp_path / "repo"), vcs)


def test_jj_workspaces_share_the_identity_of_their_repository(tmp_path: Path) -> None:
    tree(tmp_path, "main/.jj/repo/store/", "main/flake.nix", "second/.jj/")
    (tmp_path / "second" / ".jj" / "repo").write_text(str(tmp_path / "main" / ".jj" / "repo"))
    second = detect(tmp_path / "second")
    assert (second.root, second.vcs) == (str(tmp_path / "second"), "jj")
    assert second.identity == detect(tmp_path / "main").identity == str(tmp_path / "main")


def test_old_subversion_checkouts_resolve_to_the_top(tmp_path: Path) -> None:
    tree(tmp_path, "co/.svn/", "co/trunk/.svn/", "co/trunk/src/.svn/")
    assert detect(tmp_path / "co" / "trunk" / "src").root == str(tmp_path / "co")


@needs_git
def test_worktrees_share_the_identity_of_their_repository(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", "go.mod", "main.go")
    git(repo, "worktree", "add", "-q", str(tmp_path / "feature"), "-b", "feature")
    main, linked = detect(repo), detect(tmp_path / "feature")
    assert linked.root == str(tmp_path / "feature")
    assert linked.identity == main.identity == str(repo)
    assert linked.types == ["go"]
    assert linked.evidence["repository"]["kind"] == "worktree"


@needs_git
def test_isolated_worktrees_get_their_own_identity(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "repo", "go.mod")
    (repo / ".taskweave.toml").write_text('worktrees = "isolated"\n')
    git(repo, "add", ".taskweave.toml")
    git(repo, "commit", "-q", "-m", "isolate")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    linked = detect(tmp_path / "wt")
    assert linked.identity == str(tmp_path / "wt")
    assert linked.config == {"worktrees": "isolated"}
    assert detect(repo).identity == str(repo)


@needs_git
def test_a_submodule_is_its_own_root(tmp_path: Path) -> None:
    library = committed_repo(tmp_path / "library", "Cargo.toml", "src/lib.rs")
    app = committed_repo(tmp_path / "app", "package.json")
    git(app, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor-lib")
    found = detect(app / "vendor-lib" / "src")
    assert found.root == str(app / "vendor-lib")
    assert found.types == ["rust"]
    assert found.identity == str(app / "vendor-lib")
    assert detect(app).root == str(app)


def test_a_gitdir_file_pointing_nowhere_is_not_a_root(tmp_path: Path) -> None:
    tree(tmp_path, "p/pyproject.toml", "p/sub/")
    (tmp_path / "p" / "sub" / ".git").write_text("gitdir: /does/not/exist\n")
    assert detect(tmp_path / "p" / "sub").root == str(tmp_path / "p")


def test_taskweave_toml_pins_root_and_identity(tmp_path: Path) -> None:
    tree(tmp_path, "repo/.git/", "repo/services/api/pyproject.toml", "repo/services/api/app/")
    (tmp_path / "repo" / "services" / "api" / ".taskweave.toml").write_text(
        'identity = "acme-api"\n[specialists]\nreviewer = "checks diffs"\n')
    found = detect(tmp_path / "repo" / "services" / "api" / "app")
    assert found.root == str(tmp_path / "repo" / "services" / "api")
    assert found.identity == "acme-api"
    assert found.config["specialists"] == {"reviewer": "checks diffs"}
    assert found.evidence["rule"] == "config"


def test_a_broken_taskweave_toml_still_pins_the_root_with_a_warning(tmp_path: Path) -> None:
    tree(tmp_path, "p/")
    (tmp_path / "p" / ".taskweave.toml").write_text("identity = [unclosed\n")
    found = detect(tmp_path / "p")
    assert found.root == str(tmp_path / "p")
    assert found.config == {}
    assert any("invalid TOML" in warning for warning in found.evidence["warnings"])


def test_home_directory_markers_never_swallow_a_project(tmp_path: Path) -> None:
    home = tree(tmp_path / "home", ".git/", "package.json", "code/tool/")
    found = detect_workspace(str(home / "code" / "tool"), environ={"HOME": str(home)})
    assert found.root == str(home / "code" / "tool")
    assert found.vcs is None
    assert any("home directory" in warning for warning in found.evidence["warnings"])


def test_detection_starting_at_home_says_so(tmp_path: Path) -> None:
    found = detect_workspace(str(tmp_path), environ={"HOME": str(tmp_path)})
    assert found.root == str(tmp_path)
    assert any("pass the project directory" in warning for warning in found.evidence["warnings"])


def test_detection_writes_nothing(tmp_path: Path) -> None:
    tree(tmp_path, "p/.git/", "p/pyproject.toml", "p/Cargo.toml", "p/src/a.py", "p/web/package.json")
    before = sorted((str(path), path.stat().st_mtime_ns) for path in tmp_path.rglob("*"))
    detect(tmp_path / "p" / "web")
    after = sorted((str(path), path.stat().st_mtime_ns) for path in tmp_path.rglob("*"))
    assert before == after


def test_a_symlink_loop_costs_nothing(tmp_path: Path) -> None:
    tree(tmp_path, "p/.git/", "p/go.mod", "p/a/b/")
    os.symlink(tmp_path / "p", tmp_path / "p" / "a" / "b" / "loop")
    os.symlink("self", tmp_path / "p" / "self")
    started = time.perf_counter()
    found = detect(tmp_path / "p")
    assert time.perf_counter() - started < 2
    assert found.types == ["go"]


def test_a_huge_tree_is_cut_at_the_budget(tmp_path: Path) -> None:
    root = tree(tmp_path, "big/.git/", "big/Cargo.toml")
    for index in range(300):
        directory = root / "big" / f"d{index}"
        directory.mkdir()
        for name in range(100):
            (directory / f"f{name}.rs").touch()
    started = time.perf_counter()
    found = detect(root / "big")
    assert time.perf_counter() - started < 5
    assert found.types == ["rust"]
    assert found.evidence["truncated"] is True
    assert sum(found.evidence["languages"].values()) < 30_000


@pytest.mark.timeout(20)
def test_fifos_named_like_manifests_are_never_opened(tmp_path: Path) -> None:
    tree(tmp_path, "p/.git/", "p/src/main.rs", "p/README.md")
    for name in ("Cargo.toml", "package.json", "pubspec.yaml", "runme", ".taskweave.toml"):
        os.mkfifo(tmp_path / "p" / name)
    found = detect(tmp_path / "p")
    assert found.types == ["rust"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_directory_inside_the_tree_is_skipped(tmp_path: Path) -> None:
    tree(tmp_path, "p/.git/", "p/mix.exs", "p/secret/x.ex", "p/lib/a.ex")
    (tmp_path / "p" / "secret").chmod(0)
    try:
        found = detect(tmp_path / "p")
    finally:
        (tmp_path / "p" / "secret").chmod(0o755)
    assert found.types == ["elixir"]
