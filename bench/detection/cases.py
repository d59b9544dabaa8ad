"""One benchmark case from a repository's path list: start directories, accepted roots, labels, sample.

The case format is the shared benchmark's (see its README): the labels come
from `labels.label` plus an optional judgement override, the accepted roots
from the root rules (the repository root with git; without it, the outermost
directory on the way up holding a root-making marker, or either the start or
the root when there is none).
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections import Counter
from typing import Any

from bench.detection.labels import (
    Labels, Stats, Tree, _flutter_platforms, _kind_of, _project_types, label, language_of, vendored,
)
from bench.detection.tables import CONTENT, INFRA, ROOT_KINDS

FULL_TREE_MAX = 400
"""Trees up to this many files are listed whole; larger ones are sampled down to it."""
SAMPLE_HARD_MAX = 440
MARKERS_MAX = 150
START_DIR_FILES_MAX = 60
NESTED_LISTED_MAX = 60
PROJECT_KINDS = frozenset({"manifest", "workspace", "lock"})
"""Marker kinds that make a nested directory a project of its own (build files alone do not)."""
PLATFORM_IDS = frozenset({"android", "flutter", "platformio", "godot", "unity", "docs", "dotfiles"})
AUXILIARY_START = ("docs", "doc", "Doc", "documentation", "tests", "test", "spec", "scripts", "script", "tools",
                   "examples", "example", "samples", "assets", "website", "bench", "benchmarks", "ci", "hack")

PM_TAGS = {
    "npm": ("package-lock.json",), "yarn": ("yarn.lock", ".yarnrc.yml"), "pnpm": ("pnpm-lock.yaml",),
    "bun": ("bun.lock", "bun.lockb"), "pip": ("requirements.txt",), "setuptools": ("setup.py", "setup.cfg"),
    "poetry": ("poetry.lock",), "uv": ("uv.lock",), "pdm": ("pdm.lock",), "pipenv": ("Pipfile",),
    "conda": ("environment.yml", "environment.yaml"), "bundler": ("Gemfile",), "cocoapods": ("Podfile", "*.podspec"),
    "composer": ("composer.json",),
}
BUILD_TAGS = {
    "make": ("Makefile", "GNUmakefile"), "cmake": ("CMakeLists.txt",), "meson": ("meson.build",),
    "autotools": ("configure.ac", "configure.in", "Makefile.am"),
    "gradle": ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"),
    "maven": ("pom.xml",), "sbt": ("build.sbt",), "mill": ("build.mill", "build.sc"), "spm": ("Package.swift",),
    "cabal": ("cabal.project", "*.cabal"), "stack": ("stack.yaml",), "dune": ("dune-project",), "nix-flake": ("flake.nix",),
    "rebar3": ("rebar.config",), "leiningen": ("project.clj",), "clojure-cli": ("deps.edn",),
    "platformio": ("platformio.ini",), "bazel": ("MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel"),
}
MONOREPO_TAGS = {
    "go-work": "go.work", "lerna": "lerna.json", "nx": "nx.json", "turbo": "turbo.json",
    "pnpm-workspace": "pnpm-workspace.yaml", "melos": "melos.yaml", "rush": "rush.json",
}
NESTED_MONOREPO = {
    "cargo-workspace": "Cargo.toml", "js-workspaces": "package.json", "gradle-multiproject": "build.gradle*",
    "dotnet-solution": "*.csproj", "dart": "pubspec.yaml", "deno-workspace": "deno.json",
    "haskell-multipackage": "*.cabal",
}
"""Monorepo tags given when the root holds the marker and at least two subprojects hold it too."""


def make_case(repo: str, commit: str, date: str, tree: Tree, override: dict[str, Any] | None = None) -> dict[str, Any]:
    """The case for one repository at one commit."""
    case_id = repo.replace("/", "__")
    labels = _apply(label(tree), override)
    starts = start_dirs(case_id, tree, labels)
    stats = Stats.of(tree.files, apple=tree.apple_signals)
    nested = nested_projects(tree)
    case: dict[str, Any] = {
        "id": case_id,
        "repo": repo,
        "commit": commit,
        "commit_date": date,
        "root_entries": sorted(tree.listing[""][0] | {f"{d}/" for d in tree.listing[""][1]}),
        "files": sample(case_id, tree, starts),
        "submodules": tree.submodules,
        "n_files_total": len(tree.files),
        "start_dirs": starts,
        "expected_roots": {start: expected_roots(tree, start) for start in starts},
        "ext_counts": _ext_counts(tree),
        "language_counts": dict(sorted(stats.languages.items(), key=lambda item: (-item[1], item[0]))),
        "dominant_language": stats.dominant_language(),
        "expected_types": labels.expected,
        "optional_types": labels.optional,
        "nogit_types": nogit_types(tree, starts, labels),
        "nested_projects": nested[:NESTED_LISTED_MAX],
        "n_nested_projects": len(nested),
        "tags": tags(tree, labels, nested),
    }
    if override and override.get("note"):
        case["label_note"] = override["note"]
    return case


def _apply(labels: Labels, override: dict[str, Any] | None) -> Labels:
    """A judgement override: `expected` replaces the expected ids (the ones it drops become optional), `optional` adds."""
    if not override:
        return labels
    expected = sorted(override.get("expected", labels.expected))
    optional = set(labels.optional) | set(labels.expected) | set(override.get("optional", ()))
    optional -= set(expected)
    optional -= set(override.get("not_optional", ()))
    return Labels(expected, sorted(optional), labels.notes)


def _stable(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def start_dirs(case_id: str, tree: Tree, labels: Labels) -> list[str]:
    """The root, a directory of product code, one inside a nested project, and a docs/tests/scripts directory."""
    chosen = [""]
    candidates = [d for d in tree.listing if d and not vendored(d) and not _hidden(d) and d not in tree.submodules]
    stats = Stats.of(tree.files, apple=tree.apple_signals)
    top = stats.top_language()
    if top:
        per_dir: Counter[str] = Counter()
        for path in tree.files:
            directory = path.rpartition("/")[0]
            if directory in candidates and _kind_of(directory) == "subproject" \
                    and language_of(path, apple=tree.apple_signals) == top[0]:
                per_dir[directory] += 1
        if per_dir:
            best = max(per_dir.values())
            ranked = sorted((d for d, n in per_dir.items() if n >= max(1, best // 2)), key=lambda d: _stable(case_id, d))
            chosen.append(ranked[0])
    nested = [d for d in tree.project_dirs if d and d in candidates and not _covers(chosen, d)]
    if nested:
        project = sorted(nested, key=lambda d: _stable(case_id, "project", d))[0]
        inside = [d for d in candidates if d.startswith(project + "/")]
        chosen.append(sorted(inside, key=lambda d: _stable(case_id, "inside", d))[0] if inside else project)
    auxiliary = [name for name in AUXILIARY_START if name in tree.listing[""][1] and name not in chosen]
    if auxiliary:
        chosen.append(auxiliary[0])
    if len(chosen) == 1:
        top_dirs = sorted((d for d in candidates if "/" not in d), key=lambda d: _stable(case_id, "top", d))
        chosen.extend(top_dirs[:1])
    return list(dict.fromkeys(chosen))[:4]


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


def _covers(chosen: list[str], directory: str) -> bool:
    return any(c and (c == directory or c.startswith(directory + "/")) for c in chosen)


def _ancestors(directory: str) -> list[str]:
    """`directory` and every directory above it, up to and including the root (""), innermost first."""
    chain = [directory]
    while directory:
        directory = directory.rpartition("/")[0]
        chain.append(directory)
    return chain


def expected_roots(tree: Tree, start: str) -> dict[str, Any]:
    marked = [d for d in _ancestors(start) if tree.root_markers(d)]
    nogit = [marked[-1]] if marked else list(dict.fromkeys(["", start]))
    projects = [d for d in _ancestors(start) if any(m.kind in PROJECT_KINDS for m, _ in tree.root_markers(d))]
    return {"git": "", "nogit": nogit, "nearest_project": projects[0] if projects else ""}


def nogit_types(tree: Tree, starts: list[str], repository: Labels) -> dict[str, dict[str, list[str]]]:
    """The labels of a run without `.git` whose root is not the repository root."""
    known = set(repository.expected) | set(repository.optional)
    result = {}
    for start in starts:
        roots = expected_roots(tree, start)["nogit"]
        if roots == [""]:
            continue
        if len(roots) == 1:
            inner = label(tree, roots[0])
            result[start] = {"expected": inner.expected,
                             "optional": sorted((set(inner.optional) | known) - set(inner.expected))}
        else:
            inner = label(tree, start)
            result[start] = {"expected": [], "optional": sorted(known | set(inner.expected) | set(inner.optional))}
    return result


def nested_projects(tree: Tree) -> list[dict[str, Any]]:
    """Directories below the root with a manifest, workspace or lock marker, shallowest first."""
    projects = []
    for directory in sorted(tree.project_dirs, key=lambda d: (d.count("/"), d)):
        markers = [m for m, _ in tree.root_markers(directory) if m.kind in PROJECT_KINDS]
        if directory and markers:
            types = sorted({e for m in markers for e in m.ecosystems})
            projects.append({"path": directory, "types": types, "kind": _kind_of(directory)})
    return projects


def tags(tree: Tree, labels: Labels, nested: list[dict[str, Any]]) -> list[str]:
    root = tree.names("")
    found = []
    has_manifest = any(m.kind in PROJECT_KINDS for m, _ in tree.root_markers(""))
    if not has_manifest:
        found.append("no-root-manifest")
        if len(nested) >= 3:
            found.append("collection")
    languages = [t for t in labels.expected if t not in CONTENT | INFRA | PLATFORM_IDS]
    if len(languages) >= 2:
        found.append("polyglot")
    found += [f"pm:{tag}" for tag, names in PM_TAGS.items() if _any_match(root, names)]
    found += [f"build:{tag}" for tag, names in BUILD_TAGS.items() if _any_match(root, names)]
    if any(name.endswith((".xcodeproj", ".xcworkspace")) for name in root):
        found.append("build:xcode")
    found += [f"monorepo:{tag}" for tag, name in MONOREPO_TAGS.items() if name in root]
    for tag, pattern in NESTED_MONOREPO.items():
        if any(fnmatch.fnmatchcase(name, pattern) for name in root):
            inside = [p for p in nested if p["kind"] == "subproject" and any(
                fnmatch.fnmatchcase(name, pattern) for name in tree.names(p["path"]))]
            if len(inside) >= 2:
                found.append(f"monorepo:{tag}")
    if len([name for name in root if name.endswith(".opam")]) >= 2:
        found.append("monorepo:opam-multipackage")
    if "dart" in labels.expected and "pubspec.yaml" not in root and any(
            "pubspec.yaml" in tree.names(p["path"]) and _flutter_platforms(tree, p["path"]) for p in nested):
        found.append("monorepo:dart")
    return sorted(set(found))


def _any_match(names: set[str], patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


def _ext_counts(tree: Tree) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for path in tree.files:
        if vendored(path):
            continue
        name = path.rpartition("/")[2]
        dot = name.rfind(".")
        counts[name[dot:].lower() if dot > 0 else "(none)"] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def sample(case_id: str, tree: Tree, starts: list[str]) -> list[str]:
    """Every path of a small tree; for a large one, the telling paths first, then a stratified sample."""
    if len(tree.files) <= FULL_TREE_MAX:
        return tree.files
    chosen: dict[str, None] = {}

    def take(paths: list[str], limit: int = SAMPLE_HARD_MAX) -> None:
        for path in paths:
            if len(chosen) >= limit:
                return
            chosen.setdefault(path, None)

    files_of = {d: sorted(f for f in names) for d, (names, _) in tree.listing.items()}
    take([f"{name}" for name in files_of[""]])
    for directory in sorted(tree.listing[""][1]):
        first = next((p for p in tree.files if p.startswith(directory + "/")), None)
        take([first] if first else [])
    markers = [_marker_path(tree, directory, name) for directory in tree.project_dirs
               for _, name in tree.root_markers(directory)]
    take(sorted(set(markers) - {""}, key=lambda p: (p.count("/"), p))[:MARKERS_MAX])
    config = [f"{d}/{name}" if d else name for d in tree.listing if d.count("/") < 3 and not vendored(d)
              for marker, name in tree.markers(d) if marker.kind not in ROOT_KINDS and name in files_of.get(d, ())]
    take(sorted(config))
    for start in starts:
        for directory in reversed(_ancestors(start)):
            take([_join(directory, name) for name in files_of.get(directory, [])[:START_DIR_FILES_MAX]])
    take(_stratified(case_id, [p for p in tree.files if p not in chosen], FULL_TREE_MAX - len(chosen)))
    return sorted(chosen)


def _marker_path(tree: Tree, directory: str, name: str) -> str:
    """A file that shows the marker `name` found in `directory` (the first file inside a directory marker)."""
    path = _join(directory, name)
    if name in tree.listing[directory][1]:
        inside = tree.under(path)
        return f"{path}/{inside[0]}" if inside else ""
    return path


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _stratified(case_id: str, paths: list[str], budget: int) -> list[str]:
    """`budget` paths spread over extensions in proportion to their counts, and evenly over each one's paths."""
    if budget <= 0 or not paths:
        return []
    groups: dict[str, list[str]] = {}
    for path in paths:
        name = path.rpartition("/")[2]
        dot = name.rfind(".")
        groups.setdefault(name[dot:].lower() if dot > 0 else "", []).append(path)
    exact = {ext: budget * len(group) / len(paths) for ext, group in groups.items()}
    quota = {ext: int(share) for ext, share in exact.items()}
    for ext in sorted(exact, key=lambda e: (-(exact[e] - quota[e]), _stable(case_id, e)))[:budget - sum(quota.values())]:
        quota[ext] += 1
    picked = []
    for ext, group in groups.items():
        count = min(quota[ext], len(group))
        if count:
            step = len(group) / count
            picked += [group[int(index * step)] for index in range(count)]
    return picked
