"""Workspace detection: which project a session belongs to, and what kind it is.

Standard library only and read-only: it never writes into the user's tree and
never imports the MCP stack, so `taskweave detect` starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from taskweave.workspace.catalog import load_catalog
from taskweave.workspace.classify import classify
from taskweave.workspace.config import read_config
from taskweave.workspace.detection import Detection
from taskweave.workspace.paths import choose_start, home_dir
from taskweave.workspace.roots import find_root
from taskweave.workspace.scan import Scanner

__all__ = ["Detection", "detect_workspace"]


def detect_workspace(
    working_directory: str | None = None,
    *,
    roots: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Detection:
    """Detect the workspace for a session.

    The starting directory comes from, in order: `working_directory`, the
    client's MCP `roots`, `TASKWEAVE_WORKSPACE` in `environ`, and `cwd`.
    Raises `InvalidInput` when `working_directory` names no usable directory.
    """
    environ = os.environ if environ is None else environ
    start = choose_start(working_directory, roots, environ, cwd)
    scanner = Scanner()
    catalog = load_catalog()
    found = find_root(start.path, scanner=scanner, catalog=catalog, home=home_dir(environ))

    warnings = [*start.warnings, *found.warnings]
    config: dict[str, Any] = {}
    if found.config_path:
        config, config_warnings = read_config(found.config_path)
        warnings.extend(config_warnings)

    repository = found.repository
    if isinstance(config.get("identity"), str):
        identity = config["identity"]
    elif repository and repository.root == found.root:
        isolated = config.get("worktrees") == "isolated"
        identity = repository.root if isolated else repository.shared_identity
    else:
        identity = found.root

    typing = classify(found.root, scanner=scanner, catalog=catalog)
    evidence = {
        "rule": found.rule,
        "repository": repository.describe() if repository else None,
        "source": start.source,
        "given": start.given,
        "markers": {os.path.relpath(d, found.root): names for d, names in found.markers.items()},
        "types": typing.primary,
        "secondary": typing.secondary,
        "hints": typing.hints,
        "languages": typing.languages,
        "nested_projects": typing.nested,
        **typing.facts,
        "notes": start.notes,
        "warnings": warnings,
    }
    return Detection(
        root=found.root,
        identity=identity,
        types=typing.types,
        vcs=repository.vcs if repository else None,
        nearest_project=found.nearest_project,
        start=start.path,
        source=start.source,
        config=config,
        evidence=evidence,
    )
