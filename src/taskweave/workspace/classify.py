"""Project types from the markers at the workspace root."""

from __future__ import annotations

from taskweave.workspace.catalog import Catalog
from taskweave.workspace.scan import Scanner


def classify(root: str, *, scanner: Scanner, catalog: Catalog) -> tuple[list[str], dict[str, str]]:
    """The types of the project at `root`, and for each the marker that says so."""
    reasons: dict[str, str] = {}
    for hit in catalog.hits(scanner.list(root)):
        if hit.marker.makes_root:
            for type_id in hit.marker.types[:1]:
                reasons.setdefault(type_id, f"{hit.name} at the root")
    return list(reasons), reasons
