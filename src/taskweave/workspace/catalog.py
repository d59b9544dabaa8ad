"""The marker catalog: which file and directory names say which project type.

The catalog is data (`markers.json`), so adding an ecosystem means adding
entries, not code. Each marker has a `kind`: `manifest`, `workspace`, `lock`
and `build` markers make a directory a project root; `config` markers are only
evidence for a type.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from taskweave.workspace.scan import Listing

ROOT_KINDS = frozenset({"manifest", "workspace", "lock", "build"})


@dataclass(frozen=True)
class Marker:
    """One catalog entry: a name, glob or relative path, and the types it points to."""

    pattern: str
    match: str
    kind: str
    types: tuple[str, ...]

    @property
    def makes_root(self) -> bool:
        return self.kind in ROOT_KINDS


@dataclass(frozen=True)
class Hit:
    """A marker found in a directory, under the name it was found as."""

    marker: Marker
    name: str


class Catalog:
    """Matches directory listings against the markers."""

    def __init__(self, markers: list[Marker]) -> None:
        self.markers = markers
        self._by_name: dict[str, list[Marker]] = {}
        self._globs: list[tuple[re.Pattern[str], Marker]] = []
        self._paths: list[Marker] = []
        for marker in markers:
            if marker.match == "name":
                self._by_name.setdefault(marker.pattern, []).append(marker)
            elif marker.match == "glob":
                self._globs.append((re.compile(fnmatch.translate(marker.pattern)), marker))
            else:
                self._paths.append(marker)

    @property
    def path_markers(self) -> list[Marker]:
        return self._paths

    def hits(self, listing: Listing) -> list[Hit]:
        """The name and glob markers present in one directory listing."""
        found: list[Hit] = []
        for name in sorted(listing.files | listing.dirs):
            for marker in self._by_name.get(name, ()):
                found.append(Hit(marker, name))
            for regex, marker in self._globs:
                if regex.match(name):
                    found.append(Hit(marker, name))
        return found


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog shipped with taskweave (`markers.json` next to this module)."""
    data = json.loads(Path(__file__).with_name("markers.json").read_text(encoding="utf-8"))
    return Catalog([
        Marker(entry["pattern"], entry["match"], entry["kind"], tuple(entry["types"]))
        for entry in data["markers"]
    ])
