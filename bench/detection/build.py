"""Rebuild the detection benchmark's case files from the repository list and bare git clones.

    python -m bench.detection.build --clones DIR [--halves HALF,...] [--review]

`repos.txt` lists one `owner/name@commit half` per line. Each repository is read
from `DIR/owner/name.git` (or `DIR/owner/name`), a git directory: a bare clone,
a clone's `.git`, or a symbolic link to either. Only trees are needed, so a
blobless clone is enough:

    git clone --bare --filter=blob:none https://github.com/owner/name DIR/owner/name.git

The labels follow `labels.py` plus the judgement calls in `overrides.json`.
The cases go to `cases/<half>.json` as the list says (`tuning`, `validation` or
`holdout`); a repository added without a half is dealt to tuning or validation
by a hash of its name, stratified by ecosystem, so the split never depends on a
detector's results. The holdout half is only ever given explicitly. `--halves`
rebuilds only the named halves (and needs only their clones). `--review` prints
every case's labels and the rule behind each expected id instead of writing the
files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.detection.cases import make_case
from bench.detection.labels import Tree, label

HERE = Path(__file__).resolve().parent
REPOS = HERE / "repos.txt"
OVERRIDES = HERE / "overrides.json"
CASES = HERE / "cases"
HALVES = ("tuning", "validation", "holdout")
DEALT = ("tuning", "validation")
"""The halves a repository listed without one is dealt to; `holdout` is only given explicitly."""


def read_list(path: Path) -> list[tuple[str, str, str | None]]:
    """The `(owner/name, commit, half or None)` entries of a repository list (`#` comments skipped)."""
    entries = []
    for line in path.read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            repo, _, commit = fields[0].partition("@")
            half = fields[1] if len(fields) > 1 else None
            if half not in (None, *HALVES):
                raise SystemExit(f"{path}: {repo}: unknown half {half!r}")
            entries.append((repo, commit, half))
    return entries


def clone_of(clones: Path, repo: str) -> Path | None:
    """The git directory of `repo` under `clones`: `owner/name.git` or `owner/name`, bare or with a `.git`."""
    for candidate in (clones / f"{repo}.git", clones / repo):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    return None


def read_tree(clone: Path, commit: str) -> tuple[Tree, str]:
    """The path list (files and submodules) of `commit`, and its commit date."""
    listing = subprocess.run(["git", "-C", str(clone), "ls-tree", "-r", "-z", "--full-tree", commit],
                             check=True, capture_output=True).stdout.decode("utf-8", "surrogateescape")
    files, submodules = [], []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        (submodules if meta.split()[1] == "commit" else files).append(path)
    date = subprocess.run(["git", "-C", str(clone), "show", "-s", "--format=%cI", commit],
                          check=True, capture_output=True, text=True).stdout.strip()
    return Tree(files, submodules), date


def split(cases: list[dict[str, Any]], given: dict[str, str | None]) -> dict[str, list[dict[str, Any]]]:
    """The halves: each repository keeps the half the list gives it; new ones are dealt out by stratum
    (their rarest expected id), in the order of a hash of the repository, so that both halves cover
    each ecosystem and the split never depends on what a detector says."""
    frequency = Counter(t for case in cases for t in case["expected_types"])
    halves: dict[str, list[dict[str, Any]]] = {half: [] for half in HALVES if half in set(given.values()) | set(DEALT)}
    strata: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        half = given.get(case["repo"])
        if half:
            halves[half].append(case)
        else:
            stratum = min(case["expected_types"], key=lambda t: (frequency[t], t), default="")
            strata.setdefault(stratum, []).append(case)
    odd = 0
    for stratum in sorted(strata):
        members = sorted(strata[stratum], key=lambda c: hashlib.sha256(c["repo"].encode()).hexdigest())
        for index, case in enumerate(members):
            halves[DEALT[(index + odd) % 2]].append(case)
        odd += len(members) % 2
    return {half: sorted(members, key=lambda c: c["id"].lower()) for half, members in halves.items()}


def write_half(path: Path, half: str, cases: list[dict[str, Any]]) -> None:
    """A case file in the shared benchmark's format, one case per line."""
    head = {
        "format": "workspace-detection-bench/v1",
        "split": half,
        "n_cases": len(cases),
        "notes": "Real public repositories reduced to path names; built by bench/detection/build.py "
                 "(see bench/detection/README.md).",
    }
    lines = [json.dumps(head)[:-1] + ', "cases": [']
    lines += [json.dumps(case, ensure_ascii=False) + ("," if index < len(cases) - 1 else "")
              for index, case in enumerate(cases)]
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def review(repo: str, tree: Tree, case: dict[str, Any]) -> str:
    rules = label(tree).notes
    note = f"  [override: {case['label_note']}]" if "label_note" in case else ""
    return (f"{repo:55} {','.join(case['expected_types']) or '-':22} opt={','.join(case['optional_types'])}"
            f"{note}\n    {'; '.join(rules)}  tags={','.join(case['tags'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clones", required=True, type=Path, help="directory of bare clones, DIR/owner/name.git")
    parser.add_argument("--list", type=Path, default=REPOS, help="repository list (default: repos.txt)")
    parser.add_argument("--halves", default=",".join(HALVES),
                        help="comma-separated halves to rebuild (default: all); the others' case files stay as they are")
    parser.add_argument("--review", action="store_true", help="print the labels instead of writing the cases")
    args = parser.parse_args()

    wanted = set(args.halves.split(","))
    if wanted - set(HALVES):
        parser.error(f"unknown half: {', '.join(sorted(wanted - set(HALVES)))}")
    listed = read_list(args.list)
    entries = [entry for entry in listed if entry[2] in wanted or (entry[2] is None and wanted & set(DEALT))]
    overrides = json.loads(OVERRIDES.read_text())
    missing = [repo for repo, _, _ in entries if clone_of(args.clones, repo) is None]
    if missing:
        print(f"{len(missing)} clone(s) missing under {args.clones}; make each with", file=sys.stderr)
        for repo in missing:
            print(f"  git clone --bare --filter=blob:none https://github.com/{repo} {args.clones}/{repo}.git",
                  file=sys.stderr)
        return 1
    unknown = sorted(set(overrides) - {repo for repo, _, _ in listed})
    if unknown:
        print(f"overrides for repositories not in the list: {', '.join(unknown)}", file=sys.stderr)
        return 1

    cases = []
    for repo, commit, _ in entries:
        clone = clone_of(args.clones, repo)
        assert clone is not None
        tree, date = read_tree(clone, commit)
        case = make_case(repo, commit, date, tree, overrides.get(repo))
        if args.review:
            print(review(repo, tree, case))
        cases.append(case)
    if args.review:
        return 0
    CASES.mkdir(exist_ok=True)
    for half, members in split(cases, {repo: half for repo, _, half in entries}).items():
        if half not in wanted:
            continue
        write_half(CASES / f"{half}.json", half, members)
        types = {t for case in members for t in case["expected_types"]}
        print(f"{half}: {len(members)} repositories, {len(types)} ecosystems -> {CASES / half}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
