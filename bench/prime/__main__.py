"""What `taskweave prime` costs a session-start hook: its output's size and its wall time, at three session sizes.

    python -m bench.prime              # 15 runs per size
    python -m bench.prime --runs 30

For stores whose one session holds 10, 1,000 and 10,000 tasks (filled through
taskweave's domain layer like the other benchmarks: plans of up to 100 tasks,
60% completed, 3 in progress), it runs `taskweave prime` as a real process in
the session's workspace, as a client's hook does, sizes interleaved and the
order rotated every round, after one untimed run per size. The reference is
`taskweave --version` (the interpreter and the command line starting), so the
ratio shows what prime adds. Targets: at most 6,000 bytes at every size, a
median under 1 s, and at 10,000 tasks at most 1.5x the median at 10. The exit
status is 0 only when every target is met.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    make_git_workspace,
    percentile,
    populate,
    print_environment,
    rotated,
    session_writer,
    table,
    taskweave_command,
    verdict,
)

SIZES = [10, 1_000, 10_000]
MAX_BYTES = 6_000
MAX_MEDIAN_SECONDS = 1.0
FLAT_RATIO = 1.5


def timed(command: list[str], cwd: Path) -> tuple[float, bytes]:
    """One run's wall time, from spawn to exit, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=True, timeout=60)
    return time.perf_counter() - started, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prime", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per size (default 15)")
    args = parser.parse_args(argv)
    print_environment()
    with tempfile.TemporaryDirectory(prefix="taskweave-prime-") as scratch:
        root = Path(scratch)
        commands: dict[str, list[str]] = {"--version": taskweave_command("--version")}
        workspaces: dict[str, Path] = {"--version": root}
        for size in SIZES:
            print(f"filling a store with {size:,} tasks ...", file=sys.stderr, flush=True)
            workspace = make_git_workspace(root / f"project-{size}")
            store = root / f"prime-{size}.db"
            with session_writer(store, workspace) as writer:
                populate(writer, size)
            commands[f"{size:,}"] = taskweave_command("prime", "--store", str(store))
            workspaces[f"{size:,}"] = workspace
        samples: dict[str, list[float]] = {name: [] for name in commands}
        sizes: dict[str, int] = {}
        for name, command in commands.items():
            sizes[name] = len(timed(command, workspaces[name])[1])
        for round_number in range(args.runs):
            for name in rotated(list(commands), round_number):
                seconds, output = timed(commands[name], workspaces[name])
                samples[name].append(seconds)
                sizes[name] = max(sizes[name], len(output))

    reference = statistics.median(samples.pop("--version"))
    medians = {name: statistics.median(runs) for name, runs in samples.items()}
    flat = medians[f"{SIZES[-1]:,}"] / medians[f"{SIZES[0]:,}"]
    rows, passed = [], True
    for name, runs in samples.items():
        ok = sizes[name] <= MAX_BYTES and medians[name] <= MAX_MEDIAN_SECONDS
        passed &= ok
        rows.append((
            name, f"{sizes[name]:,}", str(len(runs)), f"{medians[name] * 1000:.0f}", f"{percentile(runs, 0.95) * 1000:.0f}",
            f"{medians[name] / reference:.2f}x", verdict(ok),
        ))
    passed &= flat <= FLAT_RATIO
    header = ("tasks", "bytes", "n", "median ms", "p95 ms", "vs --version", "result")
    print(f"taskweave prime, one process per run (targets: <= {MAX_BYTES:,} bytes, median <= {MAX_MEDIAN_SECONDS * 1000:.0f} ms)")
    print("\n".join(table(header, rows)))
    print(f"reference: `taskweave --version` median {reference * 1000:.0f} ms (the interpreter and the command line starting)")
    print(f"10,000 tasks / 10 tasks: {flat:.2f}x (target <= {FLAT_RATIO}x) {verdict(flat <= FLAT_RATIO)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
