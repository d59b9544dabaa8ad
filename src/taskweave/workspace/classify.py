"""Project types: what a careful human would call the project at a root.

The rules, in order:

1. Entry points at the root: every ecosystem whose manifest, workspace, lock
   or build marker sits there. Build systems shared by several languages
   (C/C++ builds, JVM builds, Xcode and CocoaPods) name the languages whose
   sources are really there.
2. Platform and content ids that define the repository (android, godot, hugo,
   helm, ...) come from the same markers; `docker`, `kubernetes`, `nix` and
   `bazel` only when they are the sole entry point or the main artifact.
3. A manifest that is only tooling for another language (a fastlane Gemfile
   in an iOS library) is evidence, not a type, when its language has no
   sources outside tests, docs and scripts while another ecosystem has.
4. The dominant source language, when it clearly dominates and is not yet
   covered; never for content repositories.
5. Without a root entry point: what the nested projects collect, then layout
   conventions (dotfiles, prose-only docs, a lone script).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from taskweave.workspace import contents
from taskweave.workspace.catalog import Catalog, Hit
from taskweave.workspace.languages import LANGUAGE_TYPES
from taskweave.workspace.scan import Listing, Scanner
from taskweave.workspace.stats import AUXILIARY_DIRS, Survey, survey

CONTENT_TYPES = frozenset({"hugo", "jekyll", "latex", "docs", "godot", "unity", "helm", "ansible", "terraform"})
"""Repositories whose files are content, not a program: no dominant-language type."""

INFRA_TYPES = frozenset({"docker", "kubernetes", "nix", "bazel"})
"""Types that describe packaging or infrastructure unless nothing else is there."""

DOMINANT_SHARE, DOMINANT_MIN_FILES = 0.40, 10
JUPYTER_SHARE = 0.30
FAMILY_SHARE = 0.25
C_MIN_SHARE, C_MIN_FILES = 0.10, 30
COLLECTION_SHARE = 1 / 3
EVIDENCE_ITEMS = 10
"""Longest list of languages, nested projects or skipped directories shown in the evidence."""
MAX_SCRIPTS_READ = 20
PROSE_RATIO = 4

FAMILY_LANGUAGES = {
    "c-family": {"C": "c", "C++": "cpp"},
    "jvm": {"Java": "java", "Kotlin": "kotlin", "Scala": "scala", "Groovy": "groovy", "Clojure": "clojure"},
    "apple": {"Swift": "swift", "Objective-C": "objc", "Objective-C++": "objc"},
}
FAMILY_DEFAULT = {"c-family": None, "jvm": "java", "apple": "swift"}

FLUTTER_PLATFORMS = ("android", "ios", "web", "linux", "macos", "windows")
RC_NAMES = frozenset({
    "bashrc", "bash_profile", "zshrc", "zprofile", "vimrc", "gvimrc", "tmux.conf", "gitconfig",
    "inputrc", "xinitrc", "xprofile", "xresources",
})
"""Home configuration files that dotfiles repositories often keep without the dot."""
DOTFILE_NAMES = RC_NAMES | frozenset({
    "config", "local", "bash_aliases", "profile", "zshenv", "aliases", "functions", "exports",
    "screenrc", "wgetrc", "curlrc", "hushlogin",
})
"""Names that, with a leading dot, live in a home directory."""
META_NAMES = frozenset({
    "license", "licence", "copying", "readme", "changelog", "changes", "authors", "contributors",
    "todo", "news", "version", "notice", "thanks", "makefile", "gnumakefile", "dockerfile",
    "gemfile", "rakefile", "procfile", "vagrantfile", "jenkinsfile", "brewfile", "codeowners",
})


@dataclass
class Typing:
    """The types of one project and the reason for each."""

    primary: dict[str, str] = field(default_factory=dict)
    """The project's types, in order of relevance, with the reason for each."""
    secondary: dict[str, str] = field(default_factory=dict)
    """Ecosystems present only as tooling or packaging: evidence, not types."""
    hints: dict[str, list[str]] = field(default_factory=dict)
    """Config markers at the root: evidence, not types."""
    languages: dict[str, int] = field(default_factory=dict)
    nested: list[dict[str, object]] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def types(self) -> list[str]:
        return list(self.primary)

    def rank(self, stats: Survey) -> None:
        """Order primary types: platforms and content first, then languages by their code, then infrastructure."""
        def relevance(type_id: str) -> tuple[int, int]:
            if type_id in INFRA_TYPES:
                return 2, 0
            support = _support(type_id, stats)
            return (0, 0) if support is None else (1, -support)
        self.primary = dict(sorted(self.primary.items(), key=lambda item: relevance(item[0])))


def classify(root: str, *, scanner: Scanner, catalog: Catalog) -> Typing:
    """Apply the type rules to the project at `root`."""
    listing = scanner.list(root)
    hits = catalog.all_hits(root, scanner)
    stats = survey(root, scanner=scanner, catalog=catalog)
    _disambiguate_m_files(stats, hits)
    typing = Typing(languages=dict(stats.languages.most_common(EVIDENCE_ITEMS)))

    _entry_points(typing, hits, stats)
    _flutter(typing, root, listing)
    _infrastructure(typing, stats)
    has_entry = any(t not in INFRA_TYPES for t in typing.primary)
    dominant = _dominant(typing, stats)
    _tooling(typing, stats)
    if not has_entry:
        _dotfiles(typing, root, listing, scanner)
        _collection(typing, stats)
        _config_confirmed(typing, hits, stats)
    if not typing.primary:
        _layout_fallbacks(typing, root, listing, stats)
    typing.rank(stats)
    typing.facts = {
        "dominant_language": dominant,
        "source_files": stats.sources,
        "files_seen": stats.files,
        "truncated": stats.truncated,
        "skipped_dirs": stats.skipped[:EVIDENCE_ITEMS],
        "unreadable_dirs": sorted(scanner.errors)[:EVIDENCE_ITEMS],
        **contents.workspace_facts(root, listing),
    }
    typing.nested = [
        {"path": project.path, "markers": sorted({hit.name for hit in project.hits})}
        for project in stats.nested[:EVIDENCE_ITEMS]
    ]
    return typing


def _entry_points(typing: Typing, hits: list[Hit], stats: Survey) -> None:
    for hit in hits:
        marker = hit.marker
        if not marker.primary:
            typing.hints.setdefault(hit.name, list(marker.types))
            continue
        for type_id in _marker_types(marker.types, marker.family, stats):
            typing.primary.setdefault(type_id, f"{hit.name} at the root")


def _marker_types(types: tuple[str, ...], family: str | None, stats: Survey) -> list[str]:
    """The ids a marker stands for, resolving a shared build system by the sources present."""
    if family is None:
        return list(types)
    return [*types, *_family_types(family, stats)]


def _family_types(family: str, stats: Survey) -> list[str]:
    languages = FAMILY_LANGUAGES[family]
    if family == "c-family":
        c_like = stats.languages["C"] + stats.languages["C++"] + stats.languages["C/C++ header"]
        if c_like < C_MIN_FILES and stats.share("C", "C++", "C/C++ header") < C_MIN_SHARE:
            return []
        if not stats.languages["C"] + stats.languages["C++"]:
            return ["cpp"]
    counts: Counter[str] = Counter()
    for language, type_id in languages.items():
        counts[type_id] += stats.languages[language]
    total = sum(counts.values())
    if not total:
        default = FAMILY_DEFAULT[family]
        return [default] if default else []
    return [type_id for type_id, count in counts.most_common() if count / total >= FAMILY_SHARE]


def _flutter(typing: Typing, root: str, listing: Listing) -> None:
    if "dart" not in typing.primary:
        return
    declared = contents.pubspec_uses_flutter(os.path.join(root, "pubspec.yaml"))
    platforms = [name for name in FLUTTER_PLATFORMS if name in listing.dirs]
    if declared or (declared is None and len(platforms) >= 2):
        why = "pubspec.yaml depends on flutter" if declared else f"pubspec.yaml with {', '.join(platforms)}/"
        typing.primary["flutter"] = why


def _infrastructure(typing: Typing, stats: Survey) -> None:
    """Keep docker/kubernetes/nix/bazel primary only as the sole entry point or main artifact."""
    infra = [t for t in typing.primary if t in INFRA_TYPES]
    if not infra or len(infra) == len(typing.primary):
        return
    for type_id in infra:
        if type_id == "nix" and _dominant_language(stats) == "Nix":
            continue
        typing.secondary[type_id] = typing.primary.pop(type_id)


def _dominant_language(stats: Survey) -> str | None:
    ranked = [(count, name) for name, count in stats.languages.items() if name != "C/C++ header"]
    if not ranked:
        return None
    count, name = max(ranked)
    if count >= DOMINANT_MIN_FILES and count / stats.sources >= DOMINANT_SHARE:
        return name
    return None


def _dominant(typing: Typing, stats: Survey) -> str | None:
    notebooks = stats.languages["Jupyter Notebook"]
    if notebooks and stats.share("Jupyter Notebook") >= JUPYTER_SHARE:
        typing.primary.setdefault("jupyter", f"{notebooks} notebooks")
    language = _dominant_language(stats)
    type_id = LANGUAGE_TYPES.get(language) if language else None
    if not type_id or CONTENT_TYPES & typing.primary.keys() or type_id in typing.primary:
        return language
    if type_id == "node" and "deno" in typing.primary:
        return language
    if type_id in ("c", "cpp") and {"c", "cpp"} & typing.primary.keys():
        return language
    typing.primary[type_id] = f"{language} is {stats.share(language):.0%} of {stats.sources} source files"
    return language


def _tooling(typing: Typing, stats: Survey) -> None:
    """Demote manifests whose language has no product sources at all while another's has."""
    support = {t: _support(t, stats) for t in typing.primary}
    backed = {t for t, count in support.items() if count}
    for type_id, count in support.items():
        if count == 0 and backed:
            why = typing.primary.pop(type_id)
            typing.secondary[type_id] = f"{why}, tooling only (no {type_id} sources outside tests, docs and scripts)"


def _support(type_id: str, stats: Survey) -> int | None:
    """Product source files of a type's languages; None for types without a language."""
    languages = [name for name, t in LANGUAGE_TYPES.items() if t == type_id]
    if type_id == "deno":
        languages = ["TypeScript", "JavaScript"]
    if not languages or type_id in CONTENT_TYPES or type_id in INFRA_TYPES:
        return None
    return sum(stats.product[name] for name in languages)


def _collection(typing: Typing, stats: Survey) -> None:
    """Type a root without its own entry point by what its nested projects are.

    Examples, fixtures and tooling count only when there is nothing else (a
    repository of samples); infrastructure only when the nested projects are
    nothing else (a repository of Dockerfiles is a docker repository).
    """
    projects = [p for p in stats.nested if not _auxiliary(p.path)] or stats.nested
    counts: Counter[str] = Counter()
    for project in projects:
        counts.update({t for hit in project.hits if hit.marker.primary
                       for t in _marker_types(hit.marker.types, hit.marker.family, stats)})
    chosen = [t for t, count in counts.most_common() if count >= len(projects) * COLLECTION_SHARE]
    languages = [t for t in chosen if t not in INFRA_TYPES]
    for type_id in languages or chosen:
        typing.primary.setdefault(type_id, f"{counts[type_id]} of {len(projects)} nested projects")


def _auxiliary(path: str) -> bool:
    return any(part.lower() in AUXILIARY_DIRS for part in path.split("/"))


def _config_confirmed(typing: Typing, hits: list[Hit], stats: Survey) -> None:
    """Without an entry point, a language's config at the root counts when its sources are there."""
    for hit in hits:
        for type_id in hit.marker.types:
            if type_id in typing.primary or hit.marker.primary:
                continue
            if _support(type_id, stats):
                typing.primary[type_id] = f"{hit.name} at the root with {type_id} sources"
                typing.secondary.pop(type_id, None)


def _dotfiles(typing: Typing, root: str, listing: Listing, scanner: Scanner) -> None:
    """A repository laid out like a home directory, directly or as stow packages, is dotfiles."""
    found = [name for name in listing.files | listing.dirs if _is_dotfile(name)]
    found += [name for name in listing.files if name.lower() in RC_NAMES]
    for child in sorted(listing.dirs - listing.links):
        if child.startswith("."):
            continue
        inner = scanner.list(os.path.join(root, child))
        if any(_is_dotfile(name) for name in inner.files | inner.dirs):
            found.append(f"{child}/")
    if len(found) >= 2:
        typing.primary["dotfiles"] = f"home configuration at the root: {', '.join(sorted(found)[:4])}"


def _is_dotfile(name: str) -> bool:
    return name.startswith(".") and name[1:].lower() in DOTFILE_NAMES


def _layout_fallbacks(typing: Typing, root: str, listing: Listing, stats: Survey) -> None:
    """Types for a root with no entry point, no collection and no clearly dominant language."""
    script = None if stats.sources else _lone_script(root, listing)
    if script:
        typing.primary["shell"] = f"{script} is a script installed without an extension"
        return
    prose = stats.prose_files
    if prose and stats.sources * PROSE_RATIO <= prose and stats.markup_files <= prose:
        typing.primary["docs"] = f"{prose} prose files and {stats.sources} source files"
        return
    ranked = stats.languages.most_common(1)
    if ranked and LANGUAGE_TYPES.get(ranked[0][0]) and stats.share(ranked[0][0]) >= DOMINANT_SHARE:
        language = ranked[0][0]
        typing.primary[LANGUAGE_TYPES[language]] = f"{language} is most of the {stats.sources} source files"


def _lone_script(root: str, listing: Listing) -> str | None:
    """An extension-less shell script at the root (its shebang says so, or its man page sits beside it)."""
    candidates = [name for name in sorted(listing.files) if "." not in name and name.lower() not in META_NAMES]
    for name in candidates[:MAX_SCRIPTS_READ]:
        shebang = contents.shebang(os.path.join(root, name))
        if shebang is not None:
            if contents.is_shell_interpreter(shebang):
                return name
            continue
        if f"{name}.1" in listing.files:
            return name
    return None


def _disambiguate_m_files(stats: Survey, hits: list[Hit]) -> None:
    """`.m` is Objective-C next to Apple signals, MATLAB otherwise."""
    objc = stats.languages.get("Objective-C", 0)
    if not objc:
        return
    apple = any(hit.marker.family == "apple" for hit in hits) \
        or any(hit.marker.family == "apple" for project in stats.nested for hit in project.hits) \
        or stats.languages["Swift"] or stats.languages["Objective-C++"] \
        or (stats.languages["C/C++ header"] and not stats.languages["C"] + stats.languages["C++"])
    if apple:
        return
    for counter in (stats.languages, stats.product):
        counter["MATLAB"] += counter.pop("Objective-C", 0)
