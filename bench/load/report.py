"""Figures and tables of the load benchmark: per configuration, per tool, and the verdict against the target."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile, table
from bench.load.lock import LockFigures
from bench.load.workload import CONFLICT, ERROR, MUTATING, OK, Sample

TARGET_CLIENTS = 32
TARGET_MUTATING_PER_SECOND = 500.0


@dataclass
class Outcome:
    """One configuration's measurements and its invariant check."""

    transport: str
    clients: int
    instances: int
    store_kind: str
    seconds: float
    samples: list[Sample]
    problems: list[str]
    error_messages: dict[str, int]
    cpu: dict[str, float | None] = field(default_factory=dict)
    task_counts: dict[str, int] = field(default_factory=dict)
    lock: LockFigures | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.samples if s.outcome == outcome)

    @property
    def mutating(self) -> int:
        return sum(1 for s in self.samples if s.outcome == OK and s.tool in MUTATING)

    @property
    def label(self) -> str:
        """e.g. `stdio`, `http x2`, `http x3 pg`: transport, instances beyond one, a store other than SQLite."""
        instances = "" if self.instances == 1 else f" x{self.instances}"
        store = "" if self.store_kind == "sqlite" else f" {self.store_kind}"
        return f"{self.transport}{instances}{store}"

    def meets_target(self) -> bool:
        return not self.problems and self.count(ERROR) == 0 and self.mutating / self.seconds >= TARGET_MUTATING_PER_SECOND

    def to_json(self) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "clients": self.clients,
            "instances": self.instances,
            "store": self.store_kind,
            "seconds": self.seconds,
            "calls": len(self.samples),
            "mutating_ok": self.mutating,
            "conflicts": self.count(CONFLICT),
            "errors": self.count(ERROR),
            "error_messages": self.error_messages,
            "invariant_problems": self.problems,
            "cpu_seconds": self.cpu,
            "task_counts": self.task_counts,
            "write_lock": self.lock.to_json() if self.lock else None,
            "per_tool": {tool: _tool_json(group) for tool, group in _by_tool(self.samples).items()},
        }


def _by_tool(samples: list[Sample]) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.tool, []).append(sample)
    return dict(sorted(groups.items()))


def _tool_json(samples: list[Sample]) -> dict[str, Any]:
    return {
        "ok": sum(1 for s in samples if s.outcome == OK),
        "conflicts": sum(1 for s in samples if s.outcome == CONFLICT),
        "errors": sum(1 for s in samples if s.outcome == ERROR),
        "latencies_ms": [round(s.seconds * 1000, 3) for s in samples],
    }


def _ms(samples: list[Sample], fraction: float) -> str:
    return f"{percentile([s.seconds for s in samples], fraction) * 1000:.1f}" if samples else "-"


def configurations_table(outcomes: list[Outcome]) -> str:
    header = ("transport", "clients", "secs", "calls", "mut ops/s", "all ops/s", "p50 ms", "p99 ms",
              "conflicts", "errors", "invariants")
    rows = [
        (
            o.label, str(o.clients), f"{o.seconds:.1f}", str(len(o.samples)), f"{o.mutating / o.seconds:.0f}",
            f"{len(o.samples) / o.seconds:.0f}", _ms(o.samples, 0.5), _ms(o.samples, 0.99),
            str(o.count(CONFLICT)), str(o.count(ERROR)), "ok" if not o.problems else f"{len(o.problems)} FAILED",
        )
        for o in outcomes
    ]
    return "\n".join(table(header, rows, left_aligned=2))


def tools_table(outcomes: list[Outcome]) -> str:
    header = ("configuration", "tool", "calls", "ok", "conflicts", "errors", "p50 ms", "p99 ms")
    rows = [
        (
            f"{o.label}/{o.clients}", tool.removeprefix("orchestrator_"), str(len(group)),
            str(sum(1 for s in group if s.outcome == OK)), str(sum(1 for s in group if s.outcome == CONFLICT)),
            str(sum(1 for s in group if s.outcome == ERROR)), _ms(group, 0.5), _ms(group, 0.99),
        )
        for o in outcomes
        for tool, group in _by_tool(o.samples).items()
    ]
    return "\n".join(table(header, rows, left_aligned=2))


def details(outcomes: list[Outcome]) -> list[str]:
    """CPU split, errors and invariant problems: what a failing row needs explained."""
    cores = os.cpu_count()
    lines = []
    for o in outcomes:
        name = f"{o.label}/{o.clients}"
        servers, generator, machine = (o.cpu.get(k) for k in ("servers", "generator", "machine"))
        if servers is not None and generator is not None and machine is not None and cores is not None:
            lines.append(
                f"{name}: CPU s over {o.seconds:.1f} s ({cores} cores = {cores * o.seconds:.0f} s): "
                f"servers {servers:.1f}, load generator {generator:.1f}, other processes {max(0.0, machine - servers - generator):.1f}"
            )
        if o.lock is not None:
            lines.append(f"{name}: {o.lock.describe()}")
        lines += [f"{name}: error x{n}: {message}" for message, n in o.error_messages.items()]
        lines += [f"{name}: INVARIANT: {problem}" for problem in o.problems]
    return lines


def verdicts(outcomes: list[Outcome]) -> list[tuple[str, bool]]:
    """One line per transport at the target's client count: errors, invariants, mutating throughput."""
    lines = []
    for o in (o for o in outcomes if o.clients == TARGET_CLIENTS):
        passed = o.meets_target()
        lines.append(
            (
                f"{'PASS' if passed else 'FAIL'}  {o.label}, {o.clients} clients: {o.mutating / o.seconds:.0f} mutating ops/s "
                f"(target >= {TARGET_MUTATING_PER_SECOND:.0f}), {o.count(ERROR)} errors besides "
                f"{o.count(CONFLICT)} clean conflicts, invariants {'ok' if not o.problems else 'VIOLATED'}",
                passed,
            )
        )
    return lines
