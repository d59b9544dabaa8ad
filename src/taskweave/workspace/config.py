"""The project's own `.taskweave.toml`: it pins the workspace root and identity.

The directory holding the file is the workspace root. Keys read here:
`identity = "..."` (a stable workspace identity, e.g. shared by clones on
several machines) and `worktrees = "shared" | "isolated"` (whether the git
worktrees of one repository are one workspace, the default, or one each).
Other tables (such as `[specialists]`) are passed through for the rest of
taskweave. The file is found between the starting directory and the VCS root.
"""

from __future__ import annotations

from typing import Any

from taskweave.workspace.scan import read_text_head

CONFIG_NAME = ".taskweave.toml"
MAX_CONFIG_BYTES = 1024 * 1024
WORKTREE_MODES = ("shared", "isolated")


def read_config(path: str) -> tuple[dict[str, Any], list[str]]:
    """The parsed file and the warnings about it; an unreadable or invalid file gives `{}`.

    A broken config must not stop detection: the directory holding it is still
    the root, and the warning tells the user what to fix.
    """
    import tomllib  # only projects with a config pay for the TOML parser

    text = read_text_head(path, MAX_CONFIG_BYTES)
    if text is None:
        return {}, [f"{path}: cannot be read; ignored"]
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return {}, [f"{path}: invalid TOML ({error}); ignored"]
    warnings: list[str] = []
    identity = config.get("identity")
    if identity is not None and (not isinstance(identity, str) or not identity.strip()):
        warnings.append(f"{path}: identity must be a non-empty string; ignored")
        config.pop("identity")
    worktrees = config.get("worktrees")
    if worktrees is not None and worktrees not in WORKTREE_MODES:
        warnings.append(f"{path}: worktrees must be one of {', '.join(WORKTREE_MODES)}; using shared")
        config.pop("worktrees")
    return config, warnings
