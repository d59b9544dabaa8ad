"""Every call an agent makes stays flat as its session grows: 1,000 against 100,000 tasks, half of them blocked.

    python -m bench.scale                                   # SQLite, 1,000 and 100,000 tasks
    python -m bench.scale --stores sqlite,postgresql://USER@127.0.0.1:5432/DB
    python -m bench.scale --sizes 1000,10000 --rounds 20     # a quick look
    python -m bench.scale --json scale.json                 # also every sample

For each size it fills a new SQLite store with one session (`bench/scale/
session.py`: plans of 100 tasks through taskweave's domain layer, half of the
tasks waiting on one unfinished gate task); for each PostgreSQL URL it copies
that store into a new database (what `taskweave migrate-store` does, then
ANALYZE, as autovacuum soon would). Then it times in-process, through the
domain, what agents call: claim the next ready task, complete it, get the
status, and query tasks by status, by specialist, by text (a rare word and a
common one) and a count with two filters. Sizes and stores are interleaved,
the order rotated every round, after a few untimed rounds; every store's
`check()` runs at the end. Target: for every call, the median at the largest
size at most 1.5x the median at the smallest. The exit status is 0 only when
every target is met.

A PostgreSQL URL's user must be allowed to CREATE DATABASE: each size gets a
new database, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    make_git_repository,
    percentile,
    postgres_database,
    print_environment,
    rotated,
    table,
    verdict,
)
from bench.scale.session import COMMON_WORD, NEEDLES, RARE_WORD, Filled, fill
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import COUNTED_MAX
from taskweave.store.transfer import copy_location

DEFAULT_SIZES = [1_000, 100_000]
DEFAULT_ROUNDS = 40
WARMUP_ROUNDS = 3
FLAT_RATIO = 1.5


@dataclass
class Subject:
    """One filled session on one store, and the task its client claimed last."""

    store: str
    size: int
    orchestrator: Orchestrator
    filled: Filled
    claimed: str | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)
    matches: dict[str, str] = field(default_factory=dict)


def _claim_next(subject: Subject) -> str | None:
    order = subject.orchestrator.work.execute(subject.filled.session_id, subject.filled.client_id, None)
    subject.claimed = order["task"]["task_id"]
    return None


def _complete(subject: Subject) -> str | None:
    assert subject.claimed is not None
    subject.orchestrator.work.complete(subject.filled.session_id, subject.filled.client_id, subject.claimed, summary="Done.")
    subject.claimed = None
    return None


def _status(subject: Subject) -> str | None:
    subject.orchestrator.sessions.status(subject.filled.session_id)
    return None


def _query(**filters: Any) -> Callable[[Subject], str | None]:
    """A query_tasks call; it returns the total the answer gives (with + when it is a lower bound)."""

    def query(subject: Subject) -> str | None:
        page = subject.orchestrator.tasks.query(subject.filled.session_id, **filters)
        return f"{page['total']:,}" + ("+" if page.get("total_is_lower_bound") else "")

    return query


# In this order in every round: each completion hands in the task claimed just before it.
OPERATIONS: list[tuple[str, Callable[[Subject], str | None]]] = [
    ("claim next (execute_task)", _claim_next),
    ("complete_task", _complete),
    ("get_status", _status),
    ("query status=pending", _query(status=["pending"])),
    ("query specialist=tester", _query(specialist="tester")),
    (f"query text, rare word ({NEEDLES} tasks)", _query(text=RARE_WORD)),
    ("query text, common word (10%)", _query(text=COMMON_WORD)),
    ("count pending + tester", _query(status=["pending"], specialist="tester", limit=1)),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stores", default="sqlite",
        help="comma-separated: sqlite (a new file per size) and/or postgresql:// URLs (a new database per size, "
        "created through the URL); default sqlite",
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated session sizes; the largest is compared with the smallest (default 1000,100000)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help=f"timed calls per operation, size and store (default {DEFAULT_ROUNDS})")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every sample to this file")
    args = parser.parse_args(argv)
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")})
    if len(args.sizes) < 2 or args.sizes[0] < 2:
        parser.error("--sizes needs two sizes or more, each of 2 tasks or more")
    return args


def store_label(store: str) -> str:
    return "sqlite" if store == "sqlite" else "pg"


def copy_to_postgres(source: Path, url: str) -> float:
    """Copy the SQLite store into the empty database at `url` as `taskweave migrate-store` does, then ANALYZE
    it as autovacuum would soon after; the seconds it took."""
    import psycopg

    started = time.perf_counter()
    copy_location(str(source), url)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")
    return time.perf_counter() - started


@dataclass
class Prepared:
    """Every store to measure, per size, and what preparing them took."""

    locations: dict[tuple[str, int], str] = field(default_factory=dict)
    filled: dict[int, Filled] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def prepare(stack: ExitStack, stores: list[str], sizes: list[int], root: Path) -> Prepared:
    """Fill one SQLite store per size through the domain, and copy it into a new database of each PostgreSQL."""
    prepared = Prepared()
    for size in sizes:
        print(f"filling {size:,} tasks ...", file=sys.stderr, flush=True)
        source = root / f"scale-{size}.db"
        with Orchestrator.open(str(source)) as orchestrator:
            filled = fill(orchestrator, make_git_repository(root / f"project-{size}"), size)
        prepared.filled[size] = filled
        prepared.locations[("sqlite", size)] = str(source)
        prepared.lines.append(
            f"{size:,} tasks: filled in {filled.seconds:.1f} s through the domain on SQLite "
            f"({filled.blocked:,} waiting on the gate, {filled.completed:,} completed)"
        )
    for store in stores:
        if store == "sqlite":
            continue
        for size in sizes:
            url = stack.enter_context(postgres_database(store, f"scale_{size}"))
            print(f"copying {size:,} tasks to PostgreSQL ...", file=sys.stderr, flush=True)
            seconds = copy_to_postgres(Path(prepared.locations[("sqlite", size)]), url)
            prepared.locations[(store, size)] = url
            prepared.lines.append(f"{size:,} tasks: copied to PostgreSQL and analyzed in {seconds:.1f} s")
    return prepared


def open_subject(stack: ExitStack, store: str, size: int, location: str, filled: Filled) -> Subject:
    orchestrator = stack.enter_context(Orchestrator.open(location))
    found = orchestrator.tasks.query(filled.session_id, text=RARE_WORD)["total"]
    if found != filled.needles:
        raise RuntimeError(f"{store_label(store)} {size:,}: the rare word is in {found} tasks, not {filled.needles}")
    return Subject(store, size, orchestrator, filled)


def measure(subjects: list[Subject], rounds: int) -> None:
    for subject in subjects:
        subject.samples = {name: [] for name, _ in OPERATIONS}
    for round_number in range(-WARMUP_ROUNDS, rounds):
        for subject in rotated(subjects, round_number):
            for name, operation in OPERATIONS:
                started = time.perf_counter()
                matches = operation(subject)
                elapsed = time.perf_counter() - started
                if round_number >= 0:
                    subject.samples[name].append(elapsed)
                if matches is not None:
                    subject.matches[name] = matches


def report(subjects: list[Subject], sizes: list[int]) -> tuple[list[str], bool, list[dict[str, Any]]]:
    """The result table's lines, whether every target was met, and the rows for the JSON report."""
    by_key = {(s.store, s.size): s for s in subjects}
    stores = list(dict.fromkeys(s.store for s in subjects))
    small, large = sizes[0], sizes[-1]
    header = ("store", "operation", "n", *(f"{size:,} ms" for size in sizes), f"p95 {large:,} ms", "ratio", "target", "result", "total")
    rows, results, passed = [], [], True
    for store in stores:
        for name, _ in OPERATIONS:
            samples = {size: by_key[(store, size)].samples[name] for size in sizes}
            medians = {size: statistics.median(runs) for size, runs in samples.items()}
            ratio = medians[large] / medians[small]
            ok = ratio <= FLAT_RATIO
            passed &= ok
            rows.append((
                store_label(store), name, str(len(samples[large])), *(f"{medians[size] * 1000:.2f}" for size in sizes),
                f"{percentile(samples[large], 0.95) * 1000:.2f}", f"{ratio:.2f}x", f"<= {FLAT_RATIO:g}x", verdict(ok),
                " / ".join(by_key[(store, size)].matches.get(name, "") for size in sizes).strip(" /"),
            ))
            results.append({
                "store": store_label(store), "operation": name, "ratio": ratio, "target": FLAT_RATIO, "passed": ok,
                "median_s": {str(size): medians[size] for size in sizes},
                "totals": {str(size): by_key[(store, size)].matches.get(name) for size in sizes},
                "samples_s": {str(size): runs for size, runs in samples.items()},
            })
    return table(header, rows, left_aligned=2), passed, results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    env = print_environment()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="taskweave-scale-") as scratch, ExitStack() as stack:
        prepared = prepare(stack, args.stores, args.sizes, Path(scratch))
        notes = prepared.lines
        subjects = [
            open_subject(stack, store, size, prepared.locations[(store, size)], prepared.filled[size])
            for store in args.stores
            for size in args.sizes
        ]
        print(f"timing {args.rounds} rounds ...", file=sys.stderr, flush=True)
        timed = time.perf_counter()
        measure(subjects, args.rounds)
        notes.append(f"timed calls: {time.perf_counter() - timed:.0f} s")
        for subject in subjects:
            checked = time.perf_counter()
            found = subject.orchestrator.store.check()
            problems += [f"{store_label(subject.store)} {subject.size:,}: {problem}" for problem in found]
            notes.append(
                f"{store_label(subject.store)} {subject.size:,} tasks: check() afterwards "
                f"{'sound' if not found else 'found problems'} ({time.perf_counter() - checked:.1f} s)"
            )

    lines, passed, results = report(subjects, args.sizes)
    print(f"In-process calls through the domain; sessions of {' and '.join(f'{s:,}' for s in args.sizes)} tasks, "
          f"half of them waiting on one unfinished gate task (target: largest / smallest <= {FLAT_RATIO:g}x)")
    print("\n".join(lines))
    print("total: what each query answered as its total, per size; a filter beyond status is counted up to "
          f"{COUNTED_MAX + 1:,} rows (+: a lower bound), so those counts grow until the cap, then stay")
    print("\n".join(notes))
    for problem in problems:
        print(f"check: {problem}")
    passed &= not problems
    print(f"total time: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({
            "environment": env, "sizes": args.sizes, "rounds": args.rounds, "notes": notes, "problems": problems,
            "rows": results,
        }, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
