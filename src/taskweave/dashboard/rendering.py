"""The templates and the small formatting helpers they use: times, durations, bars."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from taskweave.core.model import PRIORITY_NAMES, STATUSES
from taskweave.core.views import Summary
from taskweave.dashboard.graph_layout import NODE_HEIGHT, NODE_WIDTH
from taskweave.dashboard.reads import claim_paths

# How a status is named on the board.
STATUS_LABELS = {
    "pending": "Pending",
    "in_progress": "In progress",
    "blocked": "Blocked",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
# Statuses in the order a progress bar stacks them: done first.
BAR_ORDER = ("completed", "in_progress", "blocked", "failed", "pending", "cancelled")


@dataclass(frozen=True)
class Segment:
    status: str
    x: float
    width: float
    count: int


def segments(figures: Summary) -> list[Segment]:
    """A progress bar 100 units wide, one segment per status present."""
    total = figures["total"]
    if not total:
        return []
    found: list[Segment] = []
    x = 0.0
    for status in BAR_ORDER:
        count = figures["counts"].get(status, 0)
        if count:
            width = 100 * count / total
            found.append(Segment(status, round(x, 3), round(width, 3), count))
            x += width
    return found


def span(seconds: float) -> str:
    """A duration as people say it: 40 s, 12 min, 3 h 5 min, 2 d."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours:.0f} h {rest // 60:.0f} min" if rest >= 60 else f"{hours:.0f} h"
    return f"{seconds // 86400:.0f} d"


def short_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M:%S")


def iso_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shorten(text: str | None, limit: int) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def event_data(raw: str) -> dict[str, Any]:
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("taskweave.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.filters.update(
        span=span,
        short_time=short_time,
        iso_time=iso_time,
        shorten=shorten,
        event_data=event_data,
        segments=segments,
        paths=claim_paths,
    )
    environment.globals.update(
        STATUSES=STATUSES,
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_NAMES=PRIORITY_NAMES,
        NODE_WIDTH=NODE_WIDTH,
        NODE_HEIGHT=NODE_HEIGHT,
        tojson=json.dumps,
    )
    return environment


class Templates:
    def __init__(self) -> None:
        self.environment = _environment()

    def render(self, name: str, **context: Any) -> str:
        return self.environment.get_template(name).render(**context)

    def part(self, macro: str, **arguments: Any) -> str:
        """One macro of `parts.html` (a card, a tree node, a panel): the same markup as in the whole page."""
        module = self.environment.get_template("parts.html").module
        return str(getattr(module, macro)(**arguments))
