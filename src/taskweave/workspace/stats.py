"""Bounded statistics over a workspace tree: source languages and nested projects.

The walk is breadth-first so that a budget cut keeps the shallow, most telling
part of a huge tree. It skips hidden, vendored and generated directories
(their code is not the project's), never follows symlinks, and tells apart
code that is the product from code that only tests, documents or builds it.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from dataclasses import dataclass, field

from taskweave.workspace.catalog import Catalog, Hit
from taskweave.workspace.languages import is_markup, is_prose, language_of
from taskweave.workspace.scan import Scanner

MAX_DEPTH = 12

SKIPPED_DIRS = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "vendors", "third_party",
    "third-party", "thirdparty", "3rdparty", "external", "extern", "deps", "Pods", "Carthage",
    "build", "builds", "dist", "out", "target", "obj", "_build", "DerivedData",
    "venv", "env", "site-packages", "__pycache__", "coverage", "htmlcov", "tmp", "temp",
    "dist-newstyle", "elm-stuff", "zig-out", "zig-cache", "Library", "Temp", "Logs",
    "generated", "gen", "__generated__",
})
"""Directories holding vendored, generated or build output (hidden ones are skipped too)."""

AUXILIARY_DIRS = frozenset({
    "test", "tests", "testing", "spec", "specs", "__tests__", "__mocks__", "e2e", "integration",
    "integration_test", "integration_tests", "integration-tests", "systest", "fixtures", "testdata",
    "test-resources", "test_resources", "doc", "docs", "documentation", "man", "manpages",
    "example", "examples", "sample", "samples", "demo", "demos", "bench", "benches",
    "benchmark", "benchmarks", "script", "scripts", "tool", "tools", "tooling", "fastlane",
    "website", "site", "ci", "hack", "contrib", "misc", "etc", "util", "utils",
})
"""Directories whose code serves the project (tests, docs, tooling) rather than being it."""


@dataclass(frozen=True)
class NestedProject:
    """A directory below the root holding root markers of its own."""

    path: str
    depth: int
    hits: tuple[Hit, ...]


@dataclass
class Survey:
    """What the walk saw under one root."""

    languages: Counter[str] = field(default_factory=Counter)
    """Source files per language."""
    product: Counter[str] = field(default_factory=Counter)
    """Source files per language outside tests, docs, examples and tooling."""
    prose_files: int = 0
    markup_files: int = 0
    files: int = 0
    nested: list[NestedProject] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def sources(self) -> int:
        return sum(self.languages.values())

    def share(self, *languages: str) -> float:
        """The fraction of source files written in `languages`."""
        total = self.sources
        return sum(self.languages[name] for name in languages) / total if total else 0.0


def survey(root: str, *, scanner: Scanner, catalog: Catalog) -> Survey:
    """Walk `root` within the scanner's budget and count what is there."""
    result = Survey()
    queue: deque[tuple[str, str, int, bool]] = deque([(root, "", 0, False)])
    while queue:
        directory, relative, depth, auxiliary = queue.popleft()
        if scanner.exhausted:
            result.truncated = True
            break
        listing = scanner.list(directory)
        if depth:
            hits = tuple(hit for hit in catalog.hits(listing) if hit.marker.makes_root)
            if hits:
                result.nested.append(NestedProject(relative, depth, hits))
        for name in listing.files:
            result.files += 1
            language = language_of(name)
            if language:
                result.languages[language] += 1
                if not auxiliary:
                    result.product[language] += 1
            elif is_prose(name):
                result.prose_files += 1
            elif is_markup(name):
                result.markup_files += 1
        if depth >= MAX_DEPTH:
            continue
        for name in sorted(listing.dirs):
            path = f"{relative}/{name}" if relative else name
            if name.startswith(".") or name in listing.links:
                continue
            if name in SKIPPED_DIRS or name.endswith((".xcodeproj", ".xcworkspace", ".egg-info")):
                result.skipped.append(path)
                continue
            queue.append((os.path.join(directory, name), path, depth + 1,
                          auxiliary or name.lower() in AUXILIARY_DIRS))
    result.truncated |= scanner.truncated
    return result
