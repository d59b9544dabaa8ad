"""Finding the workspace root from a starting directory.

Order of rules: a `.taskweave.toml` between the start and the VCS root pins the
root; else the enclosing VCS root; else the outermost directory on the way up
holding a manifest, workspace, lock or build marker; else the start itself.
The user's home directory and `/` are never chosen unless detection started
there, so a stray `~/.git` or `~/package.json` cannot swallow every project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from taskweave.workspace.catalog import Catalog
from taskweave.workspace.config import CONFIG_NAME
from taskweave.workspace.scan import Scanner
from taskweave.workspace.vcs import Repository, find_repository


@dataclass(frozen=True)
class RootFinding:
    """The chosen root and what led to it."""

    root: str
    rule: str
    """`config`, `vcs`, `outermost-marker` or `start`."""
    repository: Repository | None
    config_path: str | None
    nearest_project: str | None
    markers: dict[str, list[str]] = field(default_factory=dict)
    """Root markers found in each directory from the start up to the root."""
    warnings: list[str] = field(default_factory=list)


def find_root(start: str, *, scanner: Scanner, catalog: Catalog, home: str) -> RootFinding:
    """Apply the root rules to `start` (an existing, resolved directory)."""
    warnings: list[str] = []
    boundaries = {os.path.realpath(home), os.sep} if home else {os.sep}
    repository = find_repository(start)
    if repository and repository.root in boundaries and start != repository.root:
        warnings.append(f"{repository.root} is a {repository.vcs} checkout but is the home directory "
                        "or the filesystem root; not used as the workspace root")
        repository = None

    chain = _chain(start, repository.root if repository else None, boundaries)
    config_path = next((path for path in (os.path.join(d, CONFIG_NAME) for d in chain)
                        if os.path.isfile(path)), None)
    markers = {d: names for d in chain if (names := root_marker_names(d, scanner, catalog))}
    nearest = next((d for d in chain if d in markers), None)

    if config_path:
        root, rule = os.path.dirname(config_path), "config"
    elif repository:
        root, rule = repository.root, "vcs"
    elif markers:
        root, rule = next(d for d in reversed(chain) if d in markers), "outermost-marker"
    else:
        root, rule = start, "start"
    if root in boundaries:
        warnings.append(f"the workspace root is {root}, the home directory or the filesystem root; "
                        "pass the project directory instead")
    return RootFinding(root, rule, repository, config_path, nearest, markers, warnings)


def root_marker_names(directory: str, scanner: Scanner, catalog: Catalog) -> list[str]:
    """The markers in `directory` that make it a project root, as found names or paths."""
    return sorted({hit.name for hit in catalog.root_hits(directory, scanner)})


def _chain(start: str, top: str | None, boundaries: set[str]) -> list[str]:
    """The directories from `start` up to `top` (inclusive), or up to but excluding home and `/`."""
    chain = [start]
    directory = start
    while directory != top:
        parent = os.path.dirname(directory)
        if parent == directory or (top is None and parent in boundaries):
            break
        chain.append(parent)
        directory = parent
    return chain
