"""The daemon's health and metrics for operators: `GET /healthz` and `GET /metrics` (Prometheus text format).

`PrometheusTelemetry` is the `Telemetry` the daemon installs on its server and
store: tool calls by outcome and their latency, the store's write-lock waits
and hold times, claims taken, finished and lapsed, clients expired,
store errors. Live figures (connected clients, open MCP sessions) are read when
scraped. Only `serve --http` imports this module; stdio servers never load
prometheus-client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio.to_thread
from mcp.server.transport_security import TransportSecurityMiddleware
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from taskweave import __version__
from taskweave.core import tool_names as names
from taskweave.errors import TaskweaveError
from taskweave.server.http.transport_security import security_settings
from taskweave.server.mcp_server import TaskweaveServer
from taskweave.telemetry import Telemetry

OPERATOR_PATHS = ("/metrics", "/healthz")
# Seconds: the session lock is held for a millisecond or so, a call takes a few.
LOCK_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 15.0)
CALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
# What a successful call of these tools does to a claim.
CLAIM_EVENTS = {names.EXECUTE_TASK: "claimed", names.COMPLETE_TASK: "finished"}
STORE_ERRORS = frozenset({"store_error", "store_busy"})


class PrometheusTelemetry(Telemetry):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "taskweave_tool_calls", "Tool calls answered, by tool and outcome (ok, or the error's code).",
            ["tool", "outcome"], registry=registry,
        )
        self.call_seconds = Histogram(
            "taskweave_tool_call_seconds", "How long tool calls took to answer, by tool.", ["tool"],
            buckets=CALL_BUCKETS, registry=registry,
        )
        self.lock_waited = Histogram(
            "taskweave_store_lock_wait_seconds",
            "How long write transactions waited for their lock (SQLite's write lock, or a session's row on PostgreSQL).",
            buckets=LOCK_BUCKETS, registry=registry,
        )
        self.lock_held = Histogram(
            "taskweave_store_lock_held_seconds",
            "How long write transactions held their lock, until their commit was done.",
            buckets=LOCK_BUCKETS, registry=registry,
        )
        self.claims = Counter(
            "taskweave_claims", "Claims taken (claimed), handed in (finished) and lapsed (released by the sweep).", ["event"],
            registry=registry,
        )
        self.clients_expired = Counter(
            "taskweave_clients_expired", "Clients marked expired after a lease without a sign of life.", registry=registry
        )
        self.store_errors = Counter(
            "taskweave_store_errors", "Calls refused because of the store (store_error, store_busy).", ["code"],
            registry=registry,
        )

    def call(self, tool: str, outcome: str, seconds: float) -> None:
        self.calls.labels(tool, outcome).inc()
        self.call_seconds.labels(tool).observe(seconds)
        if outcome == "ok" and tool in CLAIM_EVENTS:
            self.claims.labels(CLAIM_EVENTS[tool]).inc()
        elif outcome in STORE_ERRORS:
            self.store_errors.labels(outcome).inc()

    def write_lock(self, waited: float, held: float) -> None:
        self.lock_waited.observe(waited)
        self.lock_held.observe(held)

    def swept(self, claims: int, clients: int) -> None:
        if claims:
            self.claims.labels("lapsed").inc(claims)
        if clients:
            self.clients_expired.inc(clients)


class _LiveFigures(Collector):
    """What is true now, read when scraped: connected clients (from the store) and open MCP sessions."""

    def __init__(self, app: TaskweaveServer) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("taskweave_info", "This daemon's version and store.", labels=["version", "store"])
        info.add_metric([__version__, self.app.orchestrator.store.describe().get("kind", "")], 1)
        yield info
        yield GaugeMetricFamily(
            "taskweave_mcp_sessions", "MCP connections this daemon holds open.", value=len(self.app.connections.bindings)
        )
        try:
            connected = self.app.orchestrator.upkeep.connected_clients()
        except TaskweaveError:
            return  # the store is unreachable: /healthz says so, and the other figures still count
        yield GaugeMetricFamily(
            "taskweave_clients_connected", "Clients with a sign of life within their lease, in every session.",
            value=connected,
        )


class Observability:
    """Installs the telemetry on `app` and its store; as an ASGI app, answers `GET /metrics` and `GET /healthz`
    (on loopback only to the loopback host names, as `/mcp`)."""

    def __init__(self, app: TaskweaveServer, *, host: str) -> None:
        self.app = app
        self.registry = CollectorRegistry()
        telemetry = PrometheusTelemetry(self.registry)
        self.registry.register(_LiveFigures(app))
        app.telemetry = telemetry
        app.orchestrator.store.telemetry = telemetry
        self.security = TransportSecurityMiddleware(security_settings(host))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if (refused := await self.security.validate_request(request)) is not None:
            await refused(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, "text/plain", b"Method Not Allowed")
        elif scope["path"] == "/metrics":
            body = await anyio.to_thread.run_sync(generate_latest, self.registry)
            await _answer(send, 200, CONTENT_TYPE_LATEST, body)
        else:
            await self._health(send)

    async def _health(self, send: Send) -> None:
        """200 when the store answers a read, 503 with the store's own error when it does not."""
        store = self.app.orchestrator.store
        try:
            await self.app.run_domain(self.app.orchestrator.upkeep.connected_clients)
        except TaskweaveError as error:
            body = {"status": "unavailable", "store": store.describe(), **error.to_dict()}
            await _answer(send, 503, "application/json", json.dumps(body).encode())
            return
        body = {"status": "ok", "version": __version__, "store": store.describe()}
        await _answer(send, 200, "application/json", json.dumps(body).encode())


async def _answer(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})
