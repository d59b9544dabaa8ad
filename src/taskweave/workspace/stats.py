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
from taskweave.workspace.scan import Scanner, read_text_head

GITIGNORE_BYTES = 64 * 1024

MAX_DEPTH = 12

SKIPPED_DIRS = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "vendors", "third_party",
    "third-party", "thirdparty", "3rdparty", "3rd_party", "3rd-party", "external", "extern", "deps", "Pods", "Carthage",
    "dist", "DerivedData", "venv", "site-packages", "__pycache__", "htmlcov", "dist-newstyle",
    "elm-stuff", "zig-out", "zig-cache",
})
"""Directories of vendored code or tool caches: never the project's own code (hidden ones are skipped too)."""

OUTPUT_DIRS = frozenset({
    "build", "builds", "out", "target", "obj", "_build", "env", "coverage", "tmp", "temp",
    "generated", "gen", "__generated__", "Library", "Temp", "Logs",
})
"""Names that build tools write their output to, but that repositories also use for sources (an FPGA
board's `target/`, generated code kept in git): skipped only where the tree says they are output, by the
root `.gitignore` listing them or by a cache tag inside."""

OUTPUT_TAGS = ("CACHEDIR.TAG", "pyvenv.cfg")
"""Files that tools leave in their output and cache directories."""

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
    product_prose: int = 0
    """Prose files outside tests, examples and tooling (a test suite's text fixtures are not prose to read)."""
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
    ignored = ignored_names(root)
    queue: deque[tuple[str, str, int, bool]] = deque([(root, "", 0, False)])
    while queue:
        directory, relative, depth, auxiliary = queue.popleft()
        if scanner.exhausted:
            result.truncated = True
            break
        listing = scanner.list(directory)
        if depth:
            hits = tuple(catalog.project_hits(directory, scanner))
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
                result.product_prose += not auxiliary
            elif is_markup(name):
                result.markup_files += 1
        if depth >= MAX_DEPTH:
            continue
        for name in sorted(listing.dirs):
            path = f"{relative}/{name}" if relative else name
            if name.startswith(".") or name in listing.links:
                continue
            child = os.path.join(directory, name)
            if _skipped(name, child, ignored, scanner):
                result.skipped.append(path)
                continue
            queue.append((child, path, depth + 1, auxiliary or name.lower() in AUXILIARY_DIRS))
    result.truncated |= scanner.truncated
    return result


def _skipped(name: str, path: str, ignored: frozenset[str], scanner: Scanner) -> bool:
    if name in SKIPPED_DIRS or name.endswith((".xcodeproj", ".xcworkspace", ".egg-info")):
        return True
    if name in OUTPUT_DIRS:
        return name in ignored or any(tag in scanner.list(path).files for tag in OUTPUT_TAGS)
    return False


def ignored_names(root: str) -> frozenset[str]:
    """The plain directory names the root `.gitignore` ignores (`build/`, `/target`, `**/out`)."""
    text = read_text_head(os.path.join(root, ".gitignore"), GITIGNORE_BYTES) or ""
    names = set()
    for line in text.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        pattern = pattern.removeprefix("**/").strip("/")
        if pattern and not any(char in pattern for char in "/*?[\\ "):
            names.add(pattern)
    return frozenset(names)
