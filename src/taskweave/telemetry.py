"""What a server measures about itself for its operators; by default nothing, at no cost.

The store and the MCP layer report to a `Telemetry`. The HTTP daemon installs
one that keeps Prometheus metrics (`taskweave.server.http.metrics`); a stdio
server keeps this one, whose methods do nothing, and never imports a metrics
library.
"""

from __future__ import annotations


class Telemetry:
    def call(self, tool: str, outcome: str, seconds: float) -> None:
        """A tool call was answered: `outcome` is "ok" or the error's code."""

    def write_lock(self, waited: float, held: float) -> None:
        """A write transaction waited `waited` seconds for its lock (SQLite's write lock, or on PostgreSQL the
        session's or workspace's row) and held it `held` seconds, until its commit was done."""

    def swept(self, claims: int, clients: int) -> None:
        """The sweep released `claims` lapsed claims and marked `clients` silent clients expired."""


NOTHING = Telemetry()
