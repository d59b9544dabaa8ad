"""The benchmark's labelling rules, applied to a repository's path list.

This is the labeller: it reads only path names (never contents, never the
detector) and follows the rules of the shared benchmark's README:

1. Root entry points: every ecosystem whose manifest, workspace, lock or build
   marker sits at the root. C/C++ build systems count when C/C++ are at least
   10% of the source files or at least 30 files, and name `c` and/or `cpp` by
   share; JVM build files name the JVM languages with at least 25% of the JVM
   sources (Java by default); Xcode and CocoaPods name Swift/Objective-C by
   share; `pubspec.yaml` with platform folders adds `flutter`.
2. The dominant language (at least 40% of the source files and at least 10
   files) when not yet covered; never for content repositories; TypeScript in
   a Deno project stays `deno`.
3. Platform and content ids when they define the repository; `docker`,
   `kubernetes`, `nix` and `bazel` only as the sole root entry point or the
   main artifact.
4. Judgement calls are not made here: they live in `overrides.json`, each
   with its reason.
5. Optional: every other ecosystem with a root-making marker anywhere, every
   language with at least 5% or 10 of the source files, Dockerfiles, shell
   scripts and the build tool ids.

A collection without a root entry point is typed by what it collects.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from bench.detection.tables import (
    APPLE_BUILDS, AUXILIARY_PARTS, BUILD_TOOLS, C_BUILD_GLOBS, C_BUILDS, CONTENT, EXTENSIONS, INFRA, JVM_BUILDS,
    LANGUAGES, MARKERS, MARKUP, OPTIONAL_ONLY, PROGRAMMING, PROSE, ROOT_KINDS, VENDORED_DIRS, Marker,
)

C_SHARE, C_FILES = 0.10, 30
FAMILY_SHARE = 0.25
DOMINANT_SHARE, DOMINANT_FILES = 0.40, 10
JUPYTER_SHARE, JUPYTER_FILES = 0.30, 3
OPTIONAL_SHARE, OPTIONAL_FILES = 0.05, 10
PROSE_RATIO = 4
COLLECTION_SHARE = 1 / 3
COLLECTION_MIN = 3
FLUTTER_PLATFORMS = ("android", "ios", "web", "linux", "macos", "windows")
JVM_LANGUAGES = {"Java": "java", "Kotlin": "kotlin", "Scala": "scala", "Groovy": "groovy"}
APPLE_LANGUAGES = {"Swift": "swift", "Objective-C": "objc", "Objective-C++": "objc"}
APPLE_FILE_SIGNS = (".swift", ".mm", ".plist", ".xib", ".storyboard", ".pbxproj")
HOME_DOTFILES = frozenset({
    ".bashrc", ".bash_profile", ".bash_aliases", ".profile", ".zshrc", ".zprofile", ".zshenv", ".vimrc",
    ".gvimrc", ".vim", ".tmux.conf", ".gitconfig", ".inputrc", ".xinitrc", ".xprofile", ".Xresources",
    ".config", ".local", ".aliases", ".functions", ".exports", ".screenrc", ".wgetrc", ".curlrc", ".hushlogin",
    ".gitignore_global", ".editorconfig_global", ".macos", ".osx", ".hammerspoon", ".emacs.d", ".doom.d",
})
"""Names that live in a home directory; a repository laid out with them is a dotfiles repository."""
HOME_RC_NAMES = frozenset({"bashrc", "bash_profile", "zshrc", "zprofile", "vimrc", "gvimrc", "tmux.conf",
                           "gitconfig", "inputrc", "xinitrc", "xprofile", "Xresources", "xresources"})
"""Home configuration files kept without their dot (installed by a script)."""
NO_DOMINANT = CONTENT | {"dotfiles"}
"""Repositories of content or configuration: their code is not what they are."""
ARTIFACT_LANGUAGES = {"Nix": "nix", "Starlark": "bazel"}
"""Languages whose files are an infrastructure id's own artifact (Nix expressions, Bazel rules)."""
LANGUAGE_IDS = frozenset(t for kind, t in LANGUAGES.values() if kind == PROGRAMMING and t) - CONTENT - INFRA \
    - {"jupyter"} | {"deno"}
"""Ids that stand for a programming language, so that their source files can be counted."""
DOTNET_FILES = (".csproj", ".fsproj", ".vbproj", ".cs", ".fs", ".vb")
PATH_REQUIRES = {
    "meta/main.yml": ("tasks",),
    "ProjectSettings/ProjectVersion.txt": ("Assets",),
    "Packages/manifest.json": ("Assets",),
}
"""Path markers that stand for their ecosystem only with these directories beside them (the vocabulary's definitions)."""
_GLOBS = {m.pattern: re.compile(fnmatch.translate(m.pattern)) for m in MARKERS if m.match == "glob"}
_MIN_JS = re.compile(r"\.min\.(js|css)$")
_DOCKERFILE = re.compile(r"(Dockerfile|Containerfile)([.-].*)?|dockerfile(-.*)?|.*\.[Dd]ockerfile")


@dataclass
class Labels:
    """What the rules say about one project directory."""

    expected: list[str]
    optional: list[str]
    notes: list[str] = field(default_factory=list)
    """Which rule gave each expected id (for review, not written to the cases)."""


class Tree:
    """A repository's path list, indexed by directory."""

    def __init__(self, files: Iterable[str], submodules: Iterable[str] = ()) -> None:
        self.files = sorted(set(files))
        self.submodules = sorted(set(submodules))
        self.listing: dict[str, tuple[set[str], set[str]]] = {"": (set(), set())}
        self._markers: dict[str, list[tuple[Marker, str]]] = {}
        for path in self.files:
            self._add(path, is_file=True)
        for path in self.submodules:
            self._add(path, is_file=False)

    def _add(self, path: str, *, is_file: bool) -> None:
        parent, _, name = path.rpartition("/")
        self._ensure_dir(parent)
        files, dirs = self.listing[parent]
        if is_file:
            files.add(name)
        else:
            dirs.add(name)
            self.listing.setdefault(path, (set(), set()))

    def _ensure_dir(self, path: str) -> None:
        while path not in self.listing:
            self.listing[path] = (set(), set())
            parent, _, name = path.rpartition("/")
            if parent in self.listing:
                self.listing[parent][1].add(name)
                return
            self._ensure_dir(parent)
            self.listing[parent][1].add(name)
            return

    def names(self, directory: str) -> set[str]:
        files, dirs = self.listing.get(directory, (set(), set()))
        return files | dirs

    def has_dir(self, directory: str) -> bool:
        return directory in self.listing

    def exists(self, path: str) -> bool:
        parent, _, name = path.rpartition("/")
        return name in self.names(parent)

    def under(self, directory: str) -> list[str]:
        """File paths below `directory`, relative to it."""
        if not directory:
            return self.files
        prefix = directory + "/"
        return [path[len(prefix):] for path in self.files if path.startswith(prefix)]

    def markers(self, directory: str) -> list[tuple[Marker, str]]:
        """The markers in one directory, with the name or relative path each was found as."""
        cached = self._markers.get(directory)
        if cached is None:
            cached = self._markers[directory] = self._find_markers(directory)
        return cached

    def _find_markers(self, directory: str) -> list[tuple[Marker, str]]:
        names = self.names(directory)
        found = []
        for marker in MARKERS:
            if marker.match == "name":
                if marker.pattern in names:
                    found.append((marker, marker.pattern))
            elif marker.match == "glob":
                found.extend((marker, name) for name in sorted(names) if _GLOBS[marker.pattern].match(name))
            elif self.exists(_join(directory, marker.pattern)):
                found.append((marker, marker.pattern))
        return found

    def root_markers(self, directory: str) -> list[tuple[Marker, str]]:
        return [(marker, name) for marker, name in self.markers(directory) if marker.kind in ROOT_KINDS]

    @cached_property
    def project_dirs(self) -> list[str]:
        """Every directory holding a root-making marker, outside vendored directories."""
        return [d for d in sorted(self.listing) if not vendored(d) and self.root_markers(d)]

    @cached_property
    def apple_signals(self) -> bool:
        """Whether `.m` files are Objective-C here (Apple projects) rather than MATLAB."""
        if any(path.endswith(APPLE_FILE_SIGNS) for path in self.files):
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for directory in self.listing
                   for name in self.names(directory) for pattern in (*APPLE_BUILDS, "Package.swift"))


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def vendored(path: str) -> bool:
    return any(part in VENDORED_DIRS for part in path.split("/"))


def language_of(path: str, *, apple: bool) -> str | None:
    name = path.rpartition("/")[2]
    if name.endswith(".gradle.kts"):
        return "Gradle"
    dot = name.rfind(".")
    if dot <= 0:
        return None
    language = EXTENSIONS.get(name[dot:].lower())
    if language == "Objective-C" and not apple:
        return "MATLAB"
    return language


@dataclass
class Stats:
    """Files per language below one directory (vendored paths and minified files left out)."""

    languages: Counter[str]
    files: int

    @classmethod
    def of(cls, paths: Iterable[str], *, apple: bool) -> Stats:
        languages: Counter[str] = Counter()
        files = 0
        for path in paths:
            if vendored(path) or _MIN_JS.search(path):
                continue
            files += 1
            language = language_of(path, apple=apple)
            if language:
                languages[language] += 1
        return cls(languages, files)

    def kind(self, kind: str) -> int:
        return sum(count for language, count in self.languages.items() if LANGUAGES[language][0] == kind)

    @property
    def sources(self) -> int:
        return self.kind(PROGRAMMING)

    @property
    def by_type(self) -> Counter[str]:
        """Source files per vocabulary id (C/C++ headers belong to no id on their own)."""
        counts: Counter[str] = Counter()
        for language, count in self.languages.items():
            kind, type_id = LANGUAGES[language]
            if kind == PROGRAMMING and type_id:
                counts[type_id] += count
        return counts

    def top_language(self) -> tuple[str, int] | None:
        """The most common source language with a vocabulary id, and its files."""
        ranked = sorted((-count, language) for language, count in self.languages.items()
                        if LANGUAGES[language][0] == PROGRAMMING and LANGUAGES[language][1])
        return (ranked[0][1], -ranked[0][0]) if ranked else None

    def dominant_language(self) -> str:
        """The most common programming language, else markup, else prose (the case file's statistic)."""
        for kind in (PROGRAMMING, MARKUP, PROSE):
            ranked = sorted(((-count, language) for language, count in self.languages.items()
                             if LANGUAGES[language][0] == kind and language != "C/C++ header"))
            if ranked:
                return ranked[0][1]
        return ""


def label(tree: Tree, directory: str = "") -> Labels:
    """Apply the rules to the project whose root is `directory`."""
    stats = Stats.of(tree.under(directory), apple=tree.apple_signals)
    expected: dict[str, str] = {}
    optional: set[str] = set()

    for type_id, why in _entry_points(tree, directory, stats, optional).items():
        expected.setdefault(type_id, why)
    _content(tree, directory, expected, optional)
    _infrastructure(expected, optional, stats)
    _tooling(expected, optional, stats)
    infra_only: dict[str, str] = {}
    if not any(t not in INFRA for t in expected):
        dotfiles = _dotfiles(tree, directory)
        if dotfiles:
            expected["dotfiles"] = dotfiles
        collected = _collection(tree, directory, stats)
        if all(t in INFRA for t in collected):
            infra_only = collected
        else:
            expected.update({t: why for t, why in collected.items() if t not in expected})
    _dominant(expected, stats, collected_infra=bool(infra_only))
    _tooling(expected, optional, stats)
    if not any(t not in INFRA for t in expected):
        expected.update({t: why for t, why in infra_only.items() if t not in expected})
    if not expected:
        _layout(stats, expected)
    optional |= _optional(tree, directory, stats)
    if not stats.sources and not CONTENT & expected.keys():
        optional.add("docs")
    optional -= set(expected)
    return Labels(sorted(expected), sorted(optional), [f"{t}: {why}" for t, why in expected.items()])


def _entry_points(tree: Tree, directory: str, stats: Stats, optional: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for marker, name in tree.root_markers(directory):
        if name in C_BUILDS or any(fnmatch.fnmatchcase(name, glob) for glob in C_BUILD_GLOBS):
            own = [e for e in marker.ecosystems if e not in ("c", "cpp") and e not in OPTIONAL_ONLY]
            ids = own + _c_family(stats)
        elif name in JVM_BUILDS:
            ids = _share_family(stats, JVM_LANGUAGES, "java")
        elif name == "Package.swift" or any(fnmatch.fnmatchcase(name, glob) for glob in APPLE_BUILDS):
            ids = _apple_family(stats)
        elif name.endswith((".sln", ".slnx")) and not _has_dotnet(tree, directory):
            ids = _c_family(stats)  # a Visual Studio solution of C++ projects
        elif name in ("_config.yml", "theme.toml"):
            continue  # decided with their layout in _content
        elif not all(tree.has_dir(_join(directory, d)) for d in PATH_REQUIRES.get(name, ())):
            optional.update(marker.ecosystems)
            continue
        else:
            ids = [e for e in marker.ecosystems if e not in OPTIONAL_ONLY]
        for type_id in ids:
            found.setdefault(type_id, f"{name} at the root")
        optional.update(e for e in marker.ecosystems if e not in found)
    platforms = _flutter_platforms(tree, directory)
    if "dart" in found and platforms:
        found["flutter"] = f"pubspec.yaml with {', '.join(platforms)}/"
    return found


def _has_dotnet(tree: Tree, directory: str) -> bool:
    prefix = _join(directory, "")
    return any(path.startswith(prefix) and path.endswith(DOTNET_FILES) for path in tree.files)


def _c_family(stats: Stats) -> list[str]:
    c_like = stats.languages["C"] + stats.languages["C++"] + stats.languages["Cuda"] + stats.languages["C/C++ header"]
    if c_like < C_FILES and (not stats.sources or c_like / stats.sources < C_SHARE):
        return []
    c, cpp = stats.languages["C"], stats.languages["C++"] + stats.languages["Cuda"]
    if not c + cpp:
        return ["c"]
    return [type_id for type_id, count in (("c", c), ("cpp", cpp)) if count / (c + cpp) >= FAMILY_SHARE]


def _apple_family(stats: Stats) -> list[str]:
    """Swift and/or Objective-C by share, when they are a real part of the code (else the manifest packages
    another language, as a `Package.swift` can package a C++ library)."""
    apple = sum(stats.languages[language] for language in APPLE_LANGUAGES)
    if stats.sources and apple < C_FILES and apple / stats.sources < C_SHARE:
        return []
    return _share_family(stats, APPLE_LANGUAGES, "swift")


def _share_family(stats: Stats, languages: dict[str, str], default: str) -> list[str]:
    counts: Counter[str] = Counter()
    for language, type_id in languages.items():
        counts[type_id] += stats.languages[language]
    total = sum(counts.values())
    if not total:
        return [default]
    return [type_id for type_id, count in counts.most_common() if count / total >= FAMILY_SHARE]


def _content(tree: Tree, directory: str, expected: dict[str, str], optional: set[str]) -> None:
    """Platform and content ids defined by a layout rather than by one file."""
    names = tree.names(directory)

    def has_dir(*candidates: str) -> list[str]:
        return [c for c in candidates if tree.has_dir(_join(directory, c))]

    if "_config.yml" in names:
        layout = has_dir("_layouts", "_posts", "_includes", "_sass")
        if layout:
            expected.setdefault("jekyll", f"_config.yml with {', '.join(layout)}/")
        else:
            optional.add("jekyll")
    hugo_config = sorted(n for n in names if re.fullmatch(r"config\.(toml|ya?ml|json)", n))
    if "theme.toml" in names:
        if has_dir("layouts", "archetypes"):
            expected.setdefault("hugo", "theme.toml with layouts/")
        else:
            optional.add("hugo")
    elif hugo_config and has_dir("layouts", "themes", "archetypes"):
        expected.setdefault("hugo", f"{hugo_config[0]} with {', '.join(has_dir('layouts', 'themes', 'archetypes'))}/")
    if "skaffold.yaml" in names:
        expected.setdefault("kubernetes", "skaffold.yaml at the root")
    if any(fnmatch.fnmatchcase(n, "*.tf") for n in tree.listing.get(directory, (set(), set()))[0]):
        expected.setdefault("terraform", "*.tf at the root")
    roles = _join(directory, "roles")
    if any(tree.exists(f"{roles}/{role}/tasks/main.{ext}") for role in tree.names(roles) for ext in ("yml", "yaml")):
        expected.setdefault("ansible", "roles/*/tasks at the root")
    if _android(tree, directory):
        expected.setdefault("android", "Gradle build with src/main/AndroidManifest.xml")


def _android(tree: Tree, directory: str) -> bool:
    """A Gradle build whose root or a direct module has `src/main/AndroidManifest.xml`."""
    if not tree.names(directory) & {"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"}:
        return False
    manifest = "src/main/AndroidManifest.xml"
    return tree.exists(_join(directory, manifest)) or any(
        tree.exists(_join(directory, f"{module}/{manifest}")) for module in tree.listing[directory][1])


def _tooling(expected: dict[str, str], optional: set[str], stats: Stats) -> None:
    """Rule 4 where it needs no judgement: a manifest whose language has no source file at all is tooling
    for the rest of the project (a Gemfile for release scripts, the `go.mod` of a Hugo theme), and so is a
    documentation site's configuration beside a language's entry point (a library's `mkdocs.yml`)."""
    counts = stats.by_type
    idle = [t for t in expected if t in LANGUAGE_IDS and not counts["node" if t == "deno" else t]]
    if any(t not in INFRA and t not in idle for t in expected):
        for type_id in idle:
            optional.add(type_id)
            expected.pop(type_id)
    if "docs" in expected and any(t != "docs" and t not in INFRA for t in expected):
        optional.add("docs")
        expected.pop("docs")


def _infrastructure(expected: dict[str, str], optional: set[str], stats: Stats) -> None:
    """Infrastructure ids stay only as the sole entry points, or as the main artifact (their language on top)."""
    infra = [t for t in expected if t in INFRA]
    if not infra or len(infra) == len(expected):
        return
    top = stats.top_language()
    main = ARTIFACT_LANGUAGES.get(top[0]) if top and top[1] / stats.sources >= DOMINANT_SHARE else None
    for type_id in infra:
        if type_id != main:
            expected.pop(type_id)
            optional.add(type_id)


def _dominant(expected: dict[str, str], stats: Stats, *, collected_infra: bool = False) -> None:
    """Rule 2, and the notebook rule; never for content repositories (their code serves the content)."""
    if NO_DOMINANT & expected.keys():
        return
    notebooks = stats.languages["Jupyter Notebook"]
    if notebooks >= JUPYTER_FILES and notebooks / max(stats.sources, 1) >= JUPYTER_SHARE:
        expected.setdefault("jupyter", f"{notebooks} notebooks of {stats.sources} source files")
    top = stats.top_language()
    if top is None:
        return
    language, count = top
    type_id = LANGUAGES[language][1]
    if count < DOMINANT_FILES or count / stats.sources < DOMINANT_SHARE or not type_id or type_id in expected:
        return
    if type_id == "node" and "deno" in expected:
        return
    if type_id in ("c", "cpp") and {"c", "cpp"} & expected.keys():
        return
    if type_id in ("shell", *INFRA) and (expected or collected_infra):
        return  # shell-script projects, and infrastructure, are what is left when nothing else is there
    expected[type_id] = f"{language}: {count} of {stats.sources} source files"


def _collection(tree: Tree, directory: str, stats: Stats) -> dict[str, str]:
    """The types of a root without an entry point: what its outermost nested projects are.

    A language counts only with enough of the tree's sources to be optional on its own, so that a stray
    manifest among the plugins of a configuration is not what the repository collects.
    """
    prefix = _join(directory, "")
    inner = [d for d in tree.project_dirs if d != directory and d.startswith(prefix)]
    outermost = [d for d in inner if not any(d.startswith(other + "/") for other in inner)]
    projects = [d for d in outermost if _kind_of(d[len(prefix):]) == "subproject"] or outermost
    if not projects:
        return {}
    counts: Counter[str] = Counter()
    for project in projects:
        counts.update(set(_project_types(tree, project)))
    needed = len(projects) * COLLECTION_SHARE if len(projects) >= COLLECTION_MIN else len(projects) / 2
    by_type = stats.by_type
    chosen = [t for t, count in counts.most_common() if count >= needed
              and (t not in LANGUAGE_IDS or _significant(by_type[t], stats.sources))]
    languages = [t for t in chosen if t not in INFRA]
    return {t: f"{counts[t]} of {len(projects)} nested projects" for t in languages or chosen}


def _significant(count: int, sources: int) -> bool:
    return count >= OPTIONAL_FILES or (sources > 0 and count / sources >= OPTIONAL_SHARE)


def _project_types(tree: Tree, directory: str) -> list[str]:
    stats = Stats.of(tree.under(directory), apple=tree.apple_signals)
    expected: dict[str, str] = dict(_entry_points(tree, directory, stats, set()))
    _content(tree, directory, expected, set())
    _infrastructure(expected, set(), stats)
    return list(expected)


def _kind_of(relative: str) -> str:
    parts = {part.lower() for part in relative.split("/")}
    for kind, names in AUXILIARY_PARTS.items():
        if parts & set(names):
            return kind
    return "subproject"


def _dotfiles(tree: Tree, directory: str) -> str | None:
    """A repository laid out like a home directory, at its root or as packages of one per tool (stow);
    a directory that is a project of its own (an image with its `.bashrc`) is no such package."""
    found = sorted(tree.names(directory) & (HOME_DOTFILES | HOME_RC_NAMES))
    for child in sorted(tree.listing.get(directory, (set(), set()))[1]):
        if not child.startswith(".") and not tree.root_markers(_join(directory, child)):
            found += [f"{child}/{name}" for name in sorted(tree.names(_join(directory, child)) & HOME_DOTFILES)]
    if len(found) >= 2:
        return f"home configuration: {', '.join(found[:4])}"
    return None


def _layout(stats: Stats, expected: dict[str, str]) -> None:
    """A root that no other rule typed: prose with little or no code, or a small codebase in one language."""
    prose = stats.kind(PROSE) + stats.kind(MARKUP)
    if prose and prose >= PROSE_RATIO * stats.sources:
        expected["docs"] = f"{stats.kind(PROSE)} prose and {stats.kind(MARKUP)} markup files, {stats.sources} source"
        return
    counts = stats.by_type
    if counts:
        type_id, count = counts.most_common(1)[0]
        if count / stats.sources >= DOMINANT_SHARE and type_id not in INFRA:
            expected[type_id] = f"all the code: {count} of {stats.sources} source files"


def _optional(tree: Tree, directory: str, stats: Stats) -> set[str]:
    prefix = _join(directory, "")
    optional: set[str] = set()
    for project in tree.project_dirs:
        if project == directory or project.startswith(prefix):
            for marker, _ in tree.root_markers(project):
                optional.update(marker.ecosystems)
            if "pubspec.yaml" in tree.names(project) and _flutter_platforms(tree, project):
                optional.add("flutter")
    for type_id, count in stats.by_type.items():
        if _significant(count, stats.sources):
            optional.add(type_id)
    paths = [p for p in tree.under(directory) if not vendored(p)]
    names = {p.rpartition("/")[2] for p in paths}
    for tool, markers in BUILD_TOOLS.items():
        if names & set(markers):
            optional.add(tool)
    if any(_DOCKERFILE.fullmatch(name) for name in names):
        optional.add("docker")
    if any(LANGUAGES.get(language_of(p, apple=False) or "", ("", None))[1] == "shell" for p in paths):
        optional.add("shell")
    if names & HOME_RC_NAMES or tree.names(directory) & HOME_DOTFILES - {".config", ".local"}:
        optional.add("dotfiles")
    return optional


def _flutter_platforms(tree: Tree, directory: str) -> list[str]:
    platforms = [p for p in FLUTTER_PLATFORMS if tree.has_dir(_join(directory, p))]
    return platforms if len(platforms) >= 2 else []
