"""What every section of the server benchmark shares: the servers it spawns, the clock, the statistics, the table.

Both servers are spawned with the Python running the bench, so taskweave and
the baseline always run on the same interpreter and the same MCP SDK.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_SCRIPT = BENCH_DIR / "server" / "baseline.py"
NOOP_TOOL = "noop"


class ToolFailed(RuntimeError):
    """A tool answered with isError: the workload is wrong or the product broke, and the figures would lie."""


def _child_env() -> dict[str, str] | None:
    """The SDK passes children only a few safe variables; keep PYTHONPATH so an uninstalled checkout works too."""
    python_path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": python_path} if python_path else None


def taskweave_params(store: Path, cwd: Path | None = None) -> StdioServerParameters:
    """`taskweave serve` on stdio, exactly as a user's MCP client would launch it."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "taskweave", "serve", "--store", str(store)],
        env=_child_env(),
        cwd=cwd,
    )


def baseline_params() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(BASELINE_SCRIPT)], env=_child_env())


@asynccontextmanager
async def connect(params: StdioServerParameters) -> AsyncIterator[Client]:
    """A client that always performs the initialize handshake, so every run pays for the same protocol steps."""
    async with Client(params, mode="legacy") as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool and return its JSON body; an error result stops the bench."""
    result = await client.call_tool(tool, arguments or {})
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise ToolFailed(f"{tool} failed: {text}")
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(text) if text.startswith("{") else {"text": text}


async def timed_call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
    """One round trip in seconds, with the body it returned."""
    start = time.perf_counter()
    body = await call(client, tool, arguments)
    return time.perf_counter() - start, body


def make_git_workspace(path: Path) -> Path:
    """A small Python project under git: what an agent's working_directory usually looks like."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "pyproject.toml").write_text('[project]\nname = "bench-project"\nversion = "0.1.0"\n')
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("def main() -> None:\n    print('hello')\n")
    return path


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with few samples it reports a value that really happened."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Measured:
    """A named set of timings and, optionally, the figure its median is compared to."""

    name: str
    samples: list[float]
    reference: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.95)

    @property
    def ratio(self) -> float | None:
        return self.median / self.reference if self.reference else None


@dataclass
class Row(Measured):
    """One line of a result table: a measurement, what it is compared to, and its target."""

    target: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio <= self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "median_s": self.median,
            "p95_s": self.p95,
            "reference_s": self.reference,
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "samples_s": self.samples,
            **self.extra,
        }


@dataclass
class Section:
    title: str
    reference_label: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "reference": self.reference_label, "rows": [r.to_json() for r in self.rows], "notes": self.notes}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def render(section: Section) -> str:
    """A fixed-width table: milliseconds, the ratio to the reference, and the verdict against the target."""
    header = ("", "n", "median ms", "p95 ms", f"ref ({section.reference_label}) ms", "ratio", "target", "result")
    lines = [
        (
            row.name + (f"  [{row.note}]" if row.note else ""),
            str(len(row.samples)),
            _ms(row.median),
            _ms(row.p95),
            _ms(row.reference),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            "-" if row.target is None else f"<= {row.target:g}x",
            {True: "PASS", False: "FAIL", None: ""}[row.passed],
        )
        for row in section.rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest]).rstrip()

    rule = "-" * len(fmt(header))
    body = [section.title, rule, fmt(header), rule, *map(fmt, lines), rule, *section.notes]
    return "\n".join(body)
