"""The session lock as the daemons measure it: their `/metrics` before and after a run, the difference.

Each daemon reports how long its write transactions waited for their lock and
held it (`taskweave_store_lock_*_seconds`, histograms); summed over the daemons
of a configuration, the difference between two scrapes covers the run alone.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

HELD = "taskweave_store_lock_held_seconds"
WAITED = "taskweave_store_lock_wait_seconds"


@dataclass
class Histogram:
    """Cumulative bucket counts by upper bound, with the count and the sum."""

    buckets: dict[float, float] = field(default_factory=dict)
    count: float = 0.0
    total: float = 0.0

    def __sub__(self, other: Histogram) -> Histogram:
        return Histogram(
            {bound: n - other.buckets.get(bound, 0.0) for bound, n in self.buckets.items()},
            self.count - other.count,
            self.total - other.total,
        )

    def add(self, other: Histogram) -> None:
        for bound, n in other.buckets.items():
            self.buckets[bound] = self.buckets.get(bound, 0.0) + n
        self.count += other.count
        self.total += other.total

    def quantile_bound(self, fraction: float) -> float:
        """The upper bound of the bucket that holds the `fraction` quantile (an upper estimate)."""
        rank = fraction * self.count
        return next((bound for bound, n in sorted(self.buckets.items()) if n >= rank), float("inf"))


@dataclass
class LockFigures:
    held: Histogram
    waited: Histogram

    def describe(self) -> str:
        if not self.held.count:
            return "no write measured"
        mean_held = self.held.total / self.held.count * 1000
        mean_waited = self.waited.total / self.waited.count * 1000 if self.waited.count else 0.0
        return (
            f"{self.held.count:.0f} writes: lock held mean {mean_held:.2f} ms, p50 <= {self.held.quantile_bound(0.5) * 1000:g} ms, "
            f"p99 <= {self.held.quantile_bound(0.99) * 1000:g} ms; waited mean {mean_waited:.2f} ms"
        )

    def to_json(self) -> dict[str, float]:
        return {
            "writes": self.held.count,
            "held_mean_ms": self.held.total / self.held.count * 1000 if self.held.count else 0.0,
            "held_p50_bound_ms": self.held.quantile_bound(0.5) * 1000,
            "held_p99_bound_ms": self.held.quantile_bound(0.99) * 1000,
            "waited_mean_ms": self.waited.total / self.waited.count * 1000 if self.waited.count else 0.0,
        }


def _scrape(mcp_url: str) -> dict[str, Histogram]:
    with urllib.request.urlopen(mcp_url.removesuffix("/mcp") + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found: dict[str, Histogram] = {HELD: Histogram(), WAITED: Histogram()}
    for family in text_string_to_metric_families(text):
        if family.name not in found:
            continue
        histogram = found[family.name]
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                histogram.buckets[float(sample.labels["le"])] = sample.value
            elif sample.name.endswith("_count"):
                histogram.count = sample.value
            elif sample.name.endswith("_sum"):
                histogram.total = sample.value
    return found


async def scrape(urls: Sequence[str]) -> dict[str, Histogram]:
    """The lock histograms summed over the daemons at `urls`."""
    summed: dict[str, Histogram] = {HELD: Histogram(), WAITED: Histogram()}
    for found in await asyncio.gather(*(asyncio.to_thread(_scrape, url) for url in urls)):
        for name, histogram in found.items():
            summed[name].add(histogram)
    return summed


def difference(after: dict[str, Histogram], before: dict[str, Histogram]) -> LockFigures:
    return LockFigures(held=after[HELD] - before[HELD], waited=after[WAITED] - before[WAITED])
