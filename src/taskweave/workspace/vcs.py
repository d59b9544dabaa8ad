"""Version-control roots and the repository identity behind them, read from disk.

No `git` process is started: the layout of `.git` (a directory, or a file
pointing at the real git dir for worktrees and submodules) says enough, and
reading it is fast and works without git installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from taskweave.workspace.scan import read_text_head

VCS_DIRS = ((".git", "git"), (".jj", "jj"), (".hg", "hg"), (".svn", "svn"))


@dataclass(frozen=True)
class Repository:
    """A VCS checkout: its root, and for git the git dirs that give it an identity."""

    vcs: str
    root: str
    git_dir: str | None = None
    common_dir: str | None = None
    kind: str = "main"
    """`main`, `worktree` (a linked git worktree), `submodule`, or `bare`."""

    def describe(self) -> dict[str, str | None]:
        """The facts worth showing in the evidence."""
        return {"vcs": self.vcs, "root": self.root, "kind": self.kind, "common_dir": self.common_dir}

    @property
    def shared_identity(self) -> str:
        """The identity every worktree of this repository shares."""
        if self.vcs == "git" and self.common_dir:
            return main_worktree(self.common_dir)
        if self.vcs == "jj":
            return _jj_main_workspace(self.root) or self.root
        return self.root


def find_repository(start: str) -> Repository | None:
    """The nearest enclosing checkout of `start`, walking up to `/`."""
    directory = start
    while True:
        for name, vcs in VCS_DIRS:
            marker = os.path.join(directory, name)
            if os.path.lexists(marker):
                if vcs == "git":
                    repository = _git_repository(directory, marker)
                    if repository:
                        return repository
                    continue
                if vcs == "svn":
                    return Repository("svn", _outermost_svn(directory))
                return Repository(vcs, directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _git_repository(directory: str, marker: str) -> Repository | None:
    if os.path.isdir(marker):
        return Repository("git", directory, marker, _common_dir(marker), "main")
    git_dir = _read_gitdir_file(marker)
    if git_dir is None:
        return None
    common = _common_dir(git_dir)
    if os.path.isfile(os.path.join(git_dir, "commondir")):
        kind = "worktree"
    elif _core_worktree(git_dir):
        kind = "submodule"
    else:
        kind = "main"
    return Repository("git", directory, git_dir, common, kind)


def _read_gitdir_file(marker: str) -> str | None:
    """The git dir a `.git` file points to (`gitdir: <path>`), if readable and present."""
    line = (read_text_head(marker, 4096) or "").split("\n", 1)[0].strip()
    if not line.startswith("gitdir:"):
        return None
    target = line[len("gitdir:"):].strip()
    target = os.path.normpath(os.path.join(os.path.dirname(marker), target))
    return os.path.realpath(target) if os.path.isdir(target) else None


def _common_dir(git_dir: str) -> str:
    """The repository's common git dir (shared by all its worktrees)."""
    relative = (read_text_head(os.path.join(git_dir, "commondir"), 4096) or "").strip()
    return os.path.realpath(os.path.join(git_dir, relative) if relative else git_dir)


def main_worktree(common_dir: str) -> str:
    """The main working tree of a repository, or its common dir when it has none (bare).

    A plain repository's identity is therefore its own root path, the same
    identity the directory had before `git init`.
    """
    if os.path.basename(common_dir) == ".git":
        return os.path.dirname(common_dir)
    worktree = _core_worktree(common_dir)
    if worktree:
        return os.path.realpath(os.path.join(common_dir, worktree))
    return common_dir


def _core_worktree(git_dir: str) -> str | None:
    """`core.worktree` from a git dir's config (set for submodules' git dirs)."""
    section = ""
    for raw in (read_text_head(os.path.join(git_dir, "config"), 65536) or "").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]").strip().lower()
        elif section == "core" and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key.lower() == "worktree" and value:
                return value.strip('"')
    return None


def _outermost_svn(directory: str) -> str:
    # Subversion before 1.7 kept a `.svn` in every directory of the checkout.
    while True:
        parent = os.path.dirname(directory)
        if parent == directory or not os.path.isdir(os.path.join(parent, ".svn")):
            return directory
        directory = parent


def _jj_main_workspace(root: str) -> str | None:
    # A secondary jj workspace has a `.jj/repo` file pointing at the main one's `.jj/repo`.
    target = (read_text_head(os.path.join(root, ".jj", "repo"), 4096) or "").strip()
    if not target:
        return None
    repo = os.path.realpath(os.path.join(root, ".jj", target))
    return os.path.dirname(os.path.dirname(repo))
