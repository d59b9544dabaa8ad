"""Detection speed: in-process time on the benchmark cases and on a large tree, and `taskweave detect` wall time.

    python -m bench.detection [CASES.json ...] [--runs N] [--large-files N] [--cli-runs N]

CASES default to this benchmark's three halves (`bench/detection/cases/`) and,
when it is there, the shared benchmark's `../shared/workspace-bench/dev.json`
next to the repository. Every case is materialized as empty files under a
temporary directory (with an empty `.git/` directory standing for `git init`,
and once more without it), as the benchmark's evaluator does; the large tree
is generated. Everything is removed at the end. Targets: median under 20 ms
in-process on the cases, `taskweave detect` wall time under 200 ms. The exit
status is 0 only when both are met.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from taskweave.workspace import detect_workspace  # noqa: E402

DEFAULT_CASES = [
    REPO / "bench" / "detection" / "cases" / "tuning.json",
    REPO / "bench" / "detection" / "cases" / "validation.json",
    REPO / "bench" / "detection" / "cases" / "holdout.json",
    REPO.parent / "shared" / "workspace-bench" / "dev.json",
]
CASES_TARGET_MS = 20.0
CLI_TARGET_MS = 200.0
LARGE_EXTENSIONS = (".py", ".py", ".py", ".ts", ".md", ".json", ".c", ".h", ".txt", ".sh")


def materialize(cases: list[dict], base: Path) -> list[Path]:
    """Create every case in both variants; return the start directories."""
    starts = []
    for case in cases:
        for variant in ("git", "nogit"):
            root = base / f"{case['id']}-{variant}"
            for relative in case["files"]:
                path = root / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            for relative in [*case.get("submodules", []), *case["start_dirs"]]:
                (root / relative).mkdir(parents=True, exist_ok=True)
            if variant == "git":
                (root / ".git").mkdir()
            starts += [root / start for start in case["start_dirs"]]
    return starts


def large_tree(root: Path, files: int) -> Path:
    """A Python-and-TypeScript monorepo with `files` files, 100 per directory, four levels deep."""
    (root / ".git").mkdir(parents=True)
    (root / "pyproject.toml").touch()
    (root / "web").mkdir()
    (root / "web" / "package.json").touch()
    for index in range(files // 100):
        directory = root / f"pkg{index // 100:02d}" / f"mod{index // 10 % 10}" / f"part{index % 10}"
        if index % 7 == 0:
            directory = root / "web" / "src" / f"area{index}"
        directory.mkdir(parents=True, exist_ok=True)
        for name in range(100):
            (directory / f"f{name}{LARGE_EXTENSIONS[name % len(LARGE_EXTENSIONS)]}").touch()
    return root


def time_calls(paths: list[Path], runs: int) -> list[float]:
    """Milliseconds per in-process detection, each path `runs` times, after one warm-up pass."""
    for path in paths:
        detect_workspace(str(path), environ={})
    samples = []
    for _ in range(runs):
        for path in paths:
            started = time.perf_counter()
            detect_workspace(str(path), environ={})
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("taskweave")
    return [str(script)] if script.exists() else [sys.executable, "-m", "taskweave"]


def time_cli(paths: list[Path], runs: int) -> list[float]:
    """Milliseconds of wall time per `taskweave detect DIR --json` process."""
    command = cli_command()
    samples = []
    for index in range(runs):
        path = paths[index % len(paths)]
        started = time.perf_counter()
        subprocess.run([*command, "detect", str(path), "--json"], check=True, capture_output=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ranked = sorted(samples)
    return ranked[max(0, round(0.95 * len(ranked)) - 1)]


def report(label: str, samples: list[float], target: float | None = None) -> bool:
    median = statistics.median(samples)
    verdict = "" if target is None else ("  PASS" if median < target else "  FAIL") + f" (target < {target:.0f} ms)"
    print(f"{label:<34} median {median:8.2f} ms   p95 {p95(samples):8.2f} ms   n={len(samples)}{verdict}")
    return target is None or median < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", type=Path, help="case files (default: see above)")
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the cases (default 3)")
    parser.add_argument("--large-files", type=int, default=100_000, help="files in the generated tree")
    parser.add_argument("--cli-runs", type=int, default=20, help="taskweave detect processes to time")
    args = parser.parse_args()
    paths = args.cases or [path for path in DEFAULT_CASES if path.is_file()]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        parser.error(f"case file(s) not found: {', '.join(missing)}")
    cases = [case for path in paths for case in json.loads(path.read_text())["cases"]]

    base = Path(tempfile.mkdtemp(prefix="taskweave-bench-detect-"))
    try:
        started = time.perf_counter()
        starts = materialize(cases, base / "cases")
        large = large_tree(base / "large", args.large_files)
        print(f"{len(cases)} cases from {', '.join(path.name for path in paths)}, {len(starts)} start directories, "
              f"large tree of {args.large_files:,} files (set up in {time.perf_counter() - started:.1f} s)\n")
        ok = report("in-process, benchmark cases", time_calls(starts, args.runs), CASES_TARGET_MS)
        deep = large / "pkg00" / "mod0" / "part1"
        report("in-process, large tree", time_calls([large, deep, large / "web"], max(args.runs, 5)))
        ok &= report("taskweave detect, benchmark cases", time_cli(starts[::7], args.cli_runs), CLI_TARGET_MS)
        ok &= report("taskweave detect, large tree", time_cli([large], max(5, args.cli_runs // 2)), CLI_TARGET_MS)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1
