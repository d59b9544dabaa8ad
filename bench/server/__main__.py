"""Benchmark of the taskweave MCP server core, side by side with a bare MCP SDK server.

Run from the repository root with the Python that has taskweave installed:

    python -m bench.server            # full run
    python -m bench.server --quick    # fewer runs, for a quick check
    python -m bench.server --json results.json

Three sections, each printed as a table with its target and PASS/FAIL per row:
cold start, per-tool round trip, and re-attaching to a large session. Every
file it creates lives in a temporary directory that is removed at the end;
the only traffic is on the pipes of the server processes it spawns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.common import Section, make_git_workspace, print_environment, render, run_in_temporary_directory
from bench.server import coldstart, reattach, tools

DEFAULT_SIZES = [10, 1_000, 10_000]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and iterations (well under 2 minutes)")
    parser.add_argument("--runs", type=int, help="process spawns per variant for sections 1 and 3 (default 20, quick 5)")
    parser.add_argument("--iterations", type=int, help="timed calls per tool in section 2 (default 200, quick 30)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    args.runs = args.runs or (5 if args.quick else 20)
    args.iterations = args.iterations or (30 if args.quick else 200)
    return args


async def run_sections(tmp: Path, args: argparse.Namespace) -> list[Section]:
    workspace = make_git_workspace(tmp / "project")
    measures: list[tuple[str, Callable[[], Awaitable[Section]]]] = [
        ("cold start", lambda: coldstart.run(tmp, args.runs)),
        ("per-tool latency", lambda: tools.run(tmp, workspace, args.iterations)),
        ("re-attach at scale", lambda: reattach.run(tmp, workspace, DEFAULT_SIZES, args.runs)),
    ]
    sections = []
    for label, measure in measures:
        started = time.perf_counter()
        print(f"running {label} ...", file=sys.stderr, flush=True)
        section = await measure()
        section.notes.append(f"section time: {time.perf_counter() - started:.0f} s")
        print(render(section) + "\n", flush=True)
        sections.append(section)
    return sections


def failures(sections: list[Section]) -> list[str]:
    return [
        f"{row.name} ({row.ratio:.2f}x > {row.target:g}x)"
        for section in sections
        for row in section.rows
        if row.passed is False
    ]


def summary(sections: list[Section]) -> str:
    """One line: how many targets were met, and which were not."""
    judged = sum(row.passed is not None for section in sections for row in section.rows)
    failed = failures(sections)
    head = f"SUMMARY: {judged - len(failed)}/{judged} targets met"
    return head + (f"; FAIL: {'; '.join(failed)}" if failed else "; all PASS")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    env = print_environment()
    sections = run_in_temporary_directory("taskweave-bench-", lambda tmp: run_sections(tmp, args))
    if sections is None:
        return 2
    line = summary(sections)
    print(line)
    print(f"total time: {time.perf_counter() - started:.0f} s")
    if args.json:
        figures = {
            "environment": env,
            "settings": {"runs": args.runs, "iterations": args.iterations, "quick": args.quick},
            "sections": [s.to_json() for s in sections],
            "summary": line,
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if failures(sections) else 0


if __name__ == "__main__":
    sys.exit(main())
