"""The marker catalog: which file and directory names say which project type.

The catalog is data (`markers.json`), so supporting another ecosystem means
adding entries, not code. An entry has:

- `pattern` and `match`: a `name`, a `glob` over names, or a relative `path`
  whose components may be globs (`*/src/main/AndroidManifest.xml`);
- `kind`: `manifest`, `workspace`, `lock` and `build` markers make a directory
  a project root; `config` markers are evidence only;
- `types`: the canonical ids it points to; `family` instead when the ids
  depend on the sources (`c-family`, `jvm`, `apple`);
- `primary`: whether finding it at the root makes its types the project's own
  (default: root-making kinds do, config markers do not);
- `requires`: names of which at least one must sit next to the marker
  (a trailing `/` means a directory), for names that are ambiguous alone;
- `weak`: the file commonly serves another language's project (a
  requirements list for docs tooling, a Gemfile for release scripts, a docs
  site's configuration), so it does not stop the rules for roots without an
  entry point.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from taskweave.workspace.scan import Listing, Scanner

ROOT_KINDS = frozenset({"manifest", "workspace", "lock", "build"})


@dataclass(frozen=True)
class Marker:
    """One catalog entry."""

    pattern: str
    match: str
    kind: str
    types: tuple[str, ...] = ()
    family: str | None = None
    primary: bool = False
    requires: tuple[str, ...] = ()
    weak: bool = False

    @property
    def makes_root(self) -> bool:
        return self.kind in ROOT_KINDS


@dataclass(frozen=True)
class Hit:
    """A marker found in a directory, under the name or relative path it was found as."""

    marker: Marker
    name: str


class Catalog:
    """Matches directories against the markers."""

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
        self._root_paths = [marker for marker in self._paths if marker.makes_root]
        self._project_paths = [marker for marker in self._paths if (marker.makes_root or marker.primary)
                               and not _is_glob(marker.pattern.split("/", 1)[0])]
        # One combined pattern rejects the many names that match no glob in a single call.
        self._any_glob = re.compile("|".join(f"(?:{regex.pattern})" for regex, _ in self._globs) or "(?!)")

    def hits(self, listing: Listing, *, strict: bool = True) -> list[Hit]:
        """The name and glob markers present in one directory listing (`strict`: honour `requires`)."""
        found: list[Hit] = []
        for name in listing.files | listing.dirs:
            for marker in self._by_name.get(name, ()):
                found.append(Hit(marker, name))
            if self._any_glob.match(name):
                found.extend(Hit(marker, name) for regex, marker in self._globs if regex.match(name))
        found.sort(key=lambda hit: hit.name)
        return [hit for hit in found if not strict or _satisfied(hit.marker, listing)]

    def all_hits(self, directory: str, scanner: Scanner) -> list[Hit]:
        """Every marker in `directory`: names, globs and paths."""
        return self.hits(scanner.list(directory)) + self._path_hits(directory, scanner, self._paths, strict=True)

    def root_hits(self, directory: str, scanner: Scanner) -> list[Hit]:
        """The markers that make `directory` a project root, `requires` ignored.

        A lone ambiguous manifest still bounds a project, even though it does
        not decide a type; and only root-making path markers are tried, which
        keeps walks up through large ancestors such as /tmp cheap.
        """
        found = [hit for hit in self.hits(scanner.list(directory), strict=False) if hit.marker.makes_root]
        return found + self._path_hits(directory, scanner, self._root_paths, strict=False)

    def project_hits(self, directory: str, scanner: Scanner) -> list[Hit]:
        """The markers that make a directory below the root a project of its own: root-making names, and
        the path markers that define a project (a Unity project's settings, an Ansible roles tree) whose
        first component is a plain name, so that trying them costs one lookup per directory."""
        found = [hit for hit in self.hits(scanner.list(directory)) if hit.marker.makes_root]
        return found + self._path_hits(directory, scanner, self._project_paths, strict=True)

    def _path_hits(self, directory: str, scanner: Scanner, markers: list[Marker], *, strict: bool) -> list[Hit]:
        listing = scanner.list(directory)
        found: list[Hit] = []
        for marker in markers:
            if strict and not _satisfied(marker, listing):
                continue
            match = _find_path(directory, marker.pattern.split("/"), scanner)
            if match:
                found.append(Hit(marker, match))
        return found


def _satisfied(marker: Marker, listing: Listing) -> bool:
    if not marker.requires:
        return True
    for name in marker.requires:
        if name.endswith("/") and name[:-1] in listing.dirs:
            return True
        if name in listing.files:
            return True
    return False


def _is_glob(part: str) -> bool:
    return any(char in part for char in "*?[")


def _find_path(directory: str, parts: list[str], scanner: Scanner) -> str | None:
    """The first relative path under `directory` matching the glob components `parts`."""
    head, rest = parts[0], parts[1:]
    listing = scanner.list(directory)
    names = listing.dirs if rest else listing.files | listing.dirs
    if not _is_glob(head):
        candidates = [head] if head in names else []
    else:
        candidates = sorted(name for name in names if fnmatch.fnmatchcase(name, head))
    for name in candidates:
        if not rest:
            return name
        if name in listing.links:
            continue
        found = _find_path(os.path.join(directory, name), rest, scanner)
        if found:
            return f"{name}/{found}"
    return None


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog shipped with taskweave (`markers.json` next to this module)."""
    with open(os.path.join(os.path.dirname(__file__), "markers.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    markers = []
    for entry in data["markers"]:
        kind = entry["kind"]
        markers.append(Marker(
            pattern=entry["pattern"],
            match=entry["match"],
            kind=kind,
            types=tuple(entry.get("types", ())),
            family=entry.get("family"),
            primary=entry.get("primary", kind in ROOT_KINDS),
            requires=tuple(entry.get("requires", ())),
            weak=entry.get("weak", False),
        ))
    return Catalog(markers)
