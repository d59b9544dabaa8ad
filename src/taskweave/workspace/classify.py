"""Project types: what a careful human would call the project at a root.

The rules, in order:

1. Entry points at the root: every ecosystem whose manifest, workspace, lock
   or build marker sits there. Build systems shared by several languages
   (C/C++ builds, JVM builds, Xcode and CocoaPods) name the languages whose
   sources are really there.
2. Platform and content ids that define the repository (android, godot, hugo,
   helm, ...) come from the same markers; `docker`, `kubernetes`, `nix` and
   `bazel` only when they are the sole entry point or the main artifact, and
   a documentation site's configuration only when nothing else is there.
3. Without a strong entry point (weak ones are files that commonly serve
   another language: a requirements list, a Gemfile, a Rakefile, a docs
   site's configuration, infrastructure): a home-directory layout is
   dotfiles, and nested projects are typed by what they collect.
4. The dominant source language, when it clearly dominates and is not yet
   covered; never for content repositories.
5. A manifest that is only tooling for another language is evidence, not a
   type, when its language has no sources outside tests, docs and scripts:
   the language of the product code is the type instead, or documentation
   when the tree is prose.
6. Without any type: layout conventions (a lone script, prose, a collection
   of configuration files, a small codebase in one language).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from taskweave.workspace import contents
from taskweave.workspace.catalog import Catalog, Hit
from taskweave.workspace.languages import LANGUAGE_TYPES
from taskweave.workspace.scan import Listing, Scanner
from taskweave.workspace.stats import AUXILIARY_DIRS, NestedProject, Survey, survey

CONTENT_TYPES = frozenset({"hugo", "jekyll", "latex", "docs", "godot", "unity", "helm", "ansible", "terraform"})
"""Repositories whose files are content, not a program: no dominant-language type."""

INFRA_TYPES = frozenset({"docker", "kubernetes", "nix", "bazel"})
"""Types that describe packaging or infrastructure unless nothing else is there."""

ARTIFACT_LANGUAGES = {"Nix": "nix", "Starlark": "bazel"}
"""Languages whose files are an infrastructure type's own product (Nix expressions, Bazel rules)."""

DOMINANT_SHARE, DOMINANT_MIN_FILES = 0.40, 10
JUPYTER_SHARE = 0.30
FAMILY_SHARE = 0.25
C_MIN_SHARE, C_MIN_FILES = 0.10, 30
COLLECTION_SHARE = 1 / 3
INFRA_COLLECTION_SHARE = 2 / 3
EVIDENCE_ITEMS = 10
"""Longest list of languages, nested projects or skipped directories shown in the evidence."""
MAX_SCRIPTS_READ = 20
PROSE_RATIO = 4
CONFIG_SET_MIN_FILES, CONFIG_SET_SOURCE_SHARE = 20, 0.02
"""A tree of at least this many files with at most this share of source files is a collection of configuration."""

FAMILY_LANGUAGES = {
    "c-family": {"C": "c", "C++": "cpp"},
    "jvm": {"Java": "java", "Kotlin": "kotlin", "Scala": "scala", "Groovy": "groovy", "Clojure": "clojure"},
    "apple": {"Swift": "swift", "Objective-C": "objc", "Objective-C++": "objc"},
}
FAMILY_DEFAULT = {"c-family": None, "jvm": "java", "apple": "swift"}
FAMILY_MIN = {"c-family": ("C", "C++", "C/C++ header"), "apple": ("Swift", "Objective-C", "Objective-C++")}
"""Families whose build files stand for their languages only when those are a real part of the code
(at least C_MIN_FILES files or C_MIN_SHARE of the sources); otherwise they build or package another one."""

FLUTTER_PLATFORMS = ("android", "ios", "web", "linux", "macos", "windows")
RC_NAMES = frozenset({
    "bashrc", "bash_profile", "zshrc", "zprofile", "vimrc", "gvimrc", "tmux.conf", "gitconfig",
    "inputrc", "xinitrc", "xprofile", "xresources",
})
"""Home configuration files that dotfiles repositories often keep without the dot."""
DOTFILE_NAMES = RC_NAMES | frozenset({
    "config", "local", "bash_aliases", "profile", "zshenv", "aliases", "functions", "exports",
    "screenrc", "wgetrc", "curlrc", "hushlogin", "macos", "osx", "gitignore_global", "xdefaults",
    "emacs.d", "doom.d", "hammerspoon",
})
"""Names that, with a leading dot, live in a home directory."""
DOTFILES_DEPTH = 2
LINK_SUFFIX = ".symlink"
"""The suffix some dotfiles repositories give the files their installer links into the home directory."""
MAN_DIRS = ("man", "doc", "docs", "doc/man", "docs/man", "man/man1")
"""Where a script's man page is looked for, besides next to it."""
META_NAMES = frozenset({
    "license", "licence", "copying", "readme", "changelog", "changes", "authors", "contributors",
    "todo", "news", "version", "notice", "thanks", "makefile", "gnumakefile", "dockerfile",
    "gemfile", "rakefile", "procfile", "vagrantfile", "jenkinsfile", "brewfile", "codeowners",
    "install", "copyright", "patents", "owners", "maintainers", "security_contacts", "cname", "bugs",
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
    weak: set[str] = field(default_factory=set)
    """Primary types that only weak markers gave: they do not stop the layout and collection rules."""
    resolved: set[str] = field(default_factory=set)
    """Primary types a shared build system named by the share of their sources (already weighed)."""

    @property
    def types(self) -> list[str]:
        return list(self.primary)

    def demote(self, type_id: str, why: str) -> None:
        self.secondary[type_id] = f"{self.primary.pop(type_id)}, {why}"

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
    _typeset_document(typing, listing)
    _book(typing, root, listing, scanner)
    _infrastructure(typing, stats)
    _documentation_site(typing)
    has_entry = any(t not in INFRA_TYPES and t not in typing.weak for t in typing.primary)
    deferred: dict[str, str] = {}
    if not has_entry:
        _dotfiles(typing, root, listing, scanner, catalog)
        deferred = _collection(typing, root, stats, scanner)
        _documentation_site(typing)
    dominant = _dominant(typing, stats)
    _tooling(typing, stats)
    if not has_entry:
        _config_confirmed(typing, hits, stats)
    if not typing.primary:
        _layout_fallbacks(typing, root, listing, stats, scanner)
    if not typing.primary:
        typing.primary.update(deferred)
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
    strong: set[str] = set()
    for hit in hits:
        marker = hit.marker
        if not marker.primary:
            typing.hints.setdefault(hit.name, list(marker.types))
            continue
        resolved = _family_types(marker.family, stats) if marker.family else []
        typing.resolved.update(resolved)
        for type_id in [*marker.types, *resolved]:
            typing.primary.setdefault(type_id, f"{hit.name} at the root")
            if not marker.weak:
                strong.add(type_id)
    typing.weak = set(typing.primary) - strong


def _marker_types(types: tuple[str, ...], family: str | None, stats: Survey) -> list[str]:
    """The ids a marker stands for, resolving a shared build system by the sources present."""
    if family is None:
        return list(types)
    return [*types, *_family_types(family, stats)]


def _family_types(family: str, stats: Survey) -> list[str]:
    languages = FAMILY_LANGUAGES[family]
    required = FAMILY_MIN.get(family)
    if required and stats.sources:
        present = sum(stats.languages[name] for name in required)
        if present < C_MIN_FILES and stats.share(*required) < C_MIN_SHARE:
            return []
    if family == "c-family" and stats.languages["C/C++ header"] and not stats.languages["C"] + stats.languages["C++"]:
        return ["c"]  # `.h` alone is C's header; C++ headers mostly have C++ extensions
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
    platforms = _flutter_platforms(listing)
    if declared or (declared is None and platforms):
        why = "pubspec.yaml depends on flutter" if declared else f"pubspec.yaml with {', '.join(platforms)}/"
        typing.primary["flutter"] = why


def _flutter_platforms(listing: Listing) -> list[str]:
    platforms = [name for name in FLUTTER_PLATFORMS if name in listing.dirs]
    return platforms if len(platforms) >= 2 else []


def _typeset_document(typing: Typing, listing: Listing) -> None:
    """A LaTeX source at the root kept beside its PDF is the product; a container or build beside it makes it."""
    if any(t not in INFRA_TYPES for t in typing.primary):
        return
    for name in sorted(listing.files):
        stem, dot, extension = name.rpartition(".")
        if dot and extension == "tex" and f"{stem}.pdf" in listing.files:
            typing.primary["latex"] = f"{name} at the root beside its PDF"
            return


def _book(typing: Typing, root: str, listing: Listing, scanner: Scanner) -> None:
    """An mdBook at the root (`book.toml` and `src/SUMMARY.md`) is the repository: `src/` holds its chapters,
    and the other manifests build its listings and tools."""
    if "docs" not in typing.primary or "book.toml" not in listing.files or "src" not in listing.dirs:
        return
    if "SUMMARY.md" not in scanner.list(os.path.join(root, "src")).files:
        return
    for type_id in [t for t in typing.primary if t != "docs"]:
        typing.demote(type_id, "the listings and tools of the book at the root")
    typing.weak.discard("docs")


def _infrastructure(typing: Typing, stats: Survey) -> None:
    """Keep docker/kubernetes/nix/bazel primary only as the sole entry point or main artifact."""
    infra = [t for t in typing.primary if t in INFRA_TYPES]
    if not infra or all(t in INFRA_TYPES or t == "docs" for t in typing.primary):
        return
    artifact = _artifact_type(stats)
    for type_id in infra:
        if type_id != artifact:
            typing.demote(type_id, "packaging or infrastructure beside the project's own entry points")


def _documentation_site(typing: Typing) -> None:
    """A documentation site's configuration beside another project type documents that project."""
    if "docs" in typing.primary and any(t != "docs" and t not in INFRA_TYPES for t in typing.primary):
        typing.demote("docs", "the documentation of the project")


def _dominant_language(stats: Survey) -> str | None:
    """The language of the ecosystem whose sources clearly dominate those of every ecosystem.

    Languages of one type add up (Verilog, SystemVerilog and VHDL; JavaScript and TypeScript), and only
    files of a language with a type count: headers, assembly and build scripts serve the code around them
    (a CPU's firmware and test programs do not make its Verilog less of the project).
    """
    counts: Counter[str] = Counter()
    for name, count in stats.languages.items():
        type_id = LANGUAGE_TYPES.get(name)
        if type_id:
            counts[type_id] += count
    if not counts:
        return None
    type_id, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    if count < DOMINANT_MIN_FILES or count / sum(counts.values()) < DOMINANT_SHARE:
        return None
    return max((n for n in stats.languages if LANGUAGE_TYPES.get(n) == type_id), key=stats.languages.__getitem__)


def _artifact_type(stats: Survey) -> str | None:
    """The infrastructure type whose own language (Nix, Starlark) holds most of the source files."""
    ranked = sorted(stats.languages.items(), key=lambda item: (-item[1], item[0]))[:1]
    if ranked and ranked[0][1] >= DOMINANT_MIN_FILES and stats.share(ranked[0][0]) >= DOMINANT_SHARE:
        return ARTIFACT_LANGUAGES.get(ranked[0][0])
    return None


def _dominant(typing: Typing, stats: Survey) -> str | None:
    if CONTENT_TYPES & typing.primary.keys() or "dotfiles" in typing.primary:
        return _dominant_language(stats)
    notebooks = stats.languages["Jupyter Notebook"]
    if notebooks and stats.share("Jupyter Notebook") >= JUPYTER_SHARE:
        typing.primary.setdefault("jupyter", f"{notebooks} notebooks")
    language = _dominant_language(stats)
    type_id = LANGUAGE_TYPES.get(language) if language else None
    if not type_id or type_id in typing.primary or _support(type_id, stats) == 0:
        return language
    if type_id == "node" and "deno" in typing.primary:
        return language
    if type_id in ("c", "cpp") and {"c", "cpp"} & typing.primary.keys():
        return language
    typed = sum(count for name, count in stats.languages.items() if LANGUAGE_TYPES.get(name))
    own = sum(count for name, count in stats.languages.items() if LANGUAGE_TYPES.get(name) == type_id)
    typing.primary[type_id] = f"{own} of the {typed} source files of a language with a type"
    return language


def _tooling(typing: Typing, stats: Survey) -> None:
    """Demote manifests whose language has no product sources while the product is another language's.

    Which language that is: a type already backed by product sources; else the language of most of the
    product code; else, in a tree of prose, documentation. Notebooks alone do not make the manifest beside
    them tooling: it describes their environment.
    """
    support = {t: _support(t, stats) for t in typing.primary if t not in typing.resolved}
    idle = [t for t, count in support.items() if count == 0]
    if not idle:
        return
    backed = {t for t in typing.primary if _support(t, stats)}
    if backed == {"jupyter"}:
        return
    if not backed and not CONTENT_TYPES & typing.primary.keys():
        product_sources = sum(stats.product.values())
        if stats.product_prose and stats.product_prose >= PROSE_RATIO * product_sources:
            typing.primary["docs"] = f"{stats.product_prose} prose files and {product_sources} product source files"
            backed = {"docs"}
        else:
            product = _product_type(stats)
            if product:
                typing.primary[product] = f"{product} is most of the product code"
                backed = {product}
    if backed:
        for type_id in idle:
            typing.demote(type_id, f"tooling only (no {type_id} sources outside tests, docs and scripts)")


def _product_type(stats: Survey) -> str | None:
    """The type whose languages hold most of the product source files, when they hold at least 40%."""
    counts: Counter[str] = Counter()
    for name, count in stats.product.items():
        type_id = LANGUAGE_TYPES.get(name)
        if type_id:
            counts[type_id] += count
    total = sum(stats.product.values())
    if not counts:
        return None
    type_id, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return type_id if count / total >= DOMINANT_SHARE else None


def _support(type_id: str, stats: Survey) -> int | None:
    """Product source files of a type's languages; None for types without a language."""
    languages = [name for name, t in LANGUAGE_TYPES.items() if t == type_id]
    if type_id == "deno":
        languages = ["TypeScript", "JavaScript"]
    if not languages or type_id in CONTENT_TYPES or type_id in INFRA_TYPES:
        return None
    return sum(stats.product[name] for name in languages)


def _collection(typing: Typing, root: str, stats: Survey, scanner: Scanner) -> dict[str, str]:
    """Type a root without its own entry point by what its nested projects are.

    Only the outermost nested projects count (a Flutter app's android/ and
    ios/ belong to it). Examples, fixtures, docs sites and tooling count only
    when there is nothing else, dominant language included: their types are
    returned for later instead (a repository of samples). Infrastructure
    counts when the nested projects are nothing else, or when most of them
    are it (a repository of Dockerfiles, or of Compose samples in many
    languages, is a docker repository).
    """
    outermost = [p for p in stats.nested if not any(p.path.startswith(q.path + "/") for q in stats.nested)]
    projects = [p for p in outermost if not _auxiliary(p.path)]
    counts: Counter[str] = Counter()
    for project in projects or outermost:
        counts.update(_project_types(project, os.path.join(root, project.path), stats, scanner))
    total = len(projects or outermost)
    chosen = [t for t, count in counts.most_common() if count >= total * COLLECTION_SHARE]
    languages = [t for t in chosen if t not in INFRA_TYPES]
    kept = [t for t in chosen if t in INFRA_TYPES and counts[t] >= total * INFRA_COLLECTION_SHARE]
    found = {t: f"{counts[t]} of {total} nested projects" for t in [*languages, *kept] or chosen}
    if not projects:
        return found
    for type_id, why in found.items():
        typing.primary.setdefault(type_id, why)
    return {}


def _project_types(project: NestedProject, path: str, stats: Survey, scanner: Scanner) -> set[str]:
    types = {t for hit in project.hits if hit.marker.primary
             for t in _marker_types(hit.marker.types, hit.marker.family, stats)}
    if "dart" in types and _flutter_platforms(scanner.list(path)):
        types.add("flutter")
    return types


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


def _dotfiles(typing: Typing, root: str, listing: Listing, scanner: Scanner, catalog: Catalog) -> None:
    """A repository laid out like a home directory, directly or as packages of one per tool (stow, or topic
    directories of `bashrc`, `gitconfig`, `tmux.conf` that an installer links), is dotfiles.

    Packages are looked for two levels down; a directory that is a project of its own (a container image
    with its `.bashrc`) is no package.
    """
    found = [name for name in listing.files | listing.dirs if _is_dotfile(name)]
    found += [name for name in listing.files if _rc_name(name)]
    pending = [(child, os.path.join(root, child), 1) for child in sorted(listing.dirs - listing.links)]
    while pending and len(found) < 2:
        relative, path, depth = pending.pop(0)
        if relative.rsplit("/", 1)[-1].startswith(".") or catalog.root_hits(path, scanner):
            continue
        inner = scanner.list(path)
        found += [f"{relative}/{name}" for name in sorted(inner.files | inner.dirs) if _is_dotfile(name)]
        found += [f"{relative}/{name}" for name in sorted(inner.files) if _rc_name(name)]
        if depth < DOTFILES_DEPTH:
            pending += [(f"{relative}/{name}", os.path.join(path, name), depth + 1)
                        for name in sorted(inner.dirs - inner.links)]
    if len(found) >= 2:
        typing.primary["dotfiles"] = f"home configuration: {', '.join(sorted(found)[:4])}"


def _is_dotfile(name: str) -> bool:
    return name.startswith(".") and name[1:].lower() in DOTFILE_NAMES


def _rc_name(name: str) -> bool:
    return name.lower().removesuffix(LINK_SUFFIX) in RC_NAMES


def _layout_fallbacks(typing: Typing, root: str, listing: Listing, stats: Survey, scanner: Scanner) -> None:
    """Types for a root with no entry point, no collection and no clearly dominant language."""
    script = None if sum(stats.product.values()) else _lone_script(root, listing, scanner)
    if script:
        typing.primary["shell"] = f"{script} is a script installed without an extension"
        return
    prose = stats.prose_files
    if prose and stats.sources * PROSE_RATIO <= prose + stats.markup_files:
        typing.primary["docs"] = f"{prose} prose files, {stats.markup_files} markup files and {stats.sources} source files"
        return
    if stats.files >= CONFIG_SET_MIN_FILES and stats.sources <= CONFIG_SET_SOURCE_SHARE * stats.files:
        typing.primary["docs"] = f"a collection of {stats.files} configuration and data files"
        return
    counts = stats.product if sum(stats.product.values()) else stats.languages
    typed = [(count, language) for language, count in counts.items() if LANGUAGE_TYPES.get(language)]
    if typed:
        count, language = min(typed, key=lambda item: (-item[0], item[1]))
        type_id = LANGUAGE_TYPES[language]
        if type_id and count >= DOMINANT_SHARE * sum(counts.values()):
            typing.primary[type_id] = f"{language} is most of the {sum(counts.values())} source files"


def _lone_script(root: str, listing: Listing, scanner: Scanner) -> str | None:
    """An extension-less shell script at the root: its shebang says so, or, when it cannot be read, its man
    page sits beside it or in the man and docs folders."""
    candidates = [name for name in sorted(listing.files) if "." not in name and name.lower() not in META_NAMES]
    for name in candidates[:MAX_SCRIPTS_READ]:
        shebang = contents.shebang(os.path.join(root, name))
        if shebang is not None:
            if contents.is_shell_interpreter(shebang):
                return name
            continue
        if _man_page(root, listing, name, scanner):
            return name
    return None


def _man_page(root: str, listing: Listing, name: str, scanner: Scanner) -> bool:
    """Whether a section-1 or section-8 man page of `name` sits at the root or in its man and docs folders."""
    pages = {f"{name}.1", f"{name}.8"}
    if not pages.isdisjoint(listing.files):
        return True
    for folder in MAN_DIRS:
        inner, path = listing, root
        for part in folder.split("/"):
            if part not in inner.dirs:
                break
            path = os.path.join(path, part)
            inner = scanner.list(path)
        else:
            if not pages.isdisjoint(inner.files):
                return True
    return False


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
