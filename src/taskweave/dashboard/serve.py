"""`taskweave dashboard`: the dashboard alone, over a store, without serving MCP."""

from __future__ import annotations

import sys

import uvicorn

from taskweave.core.orchestrator import Orchestrator
from taskweave.dashboard.app import dashboard_app
from taskweave.server.run import configure_logging, network_tokens

# Open pages hold their event streams; a stop waits this long for them, then closes them.
SHUTDOWN_SECONDS = 2


def serve_dashboard(*, store: str | None, host: str, port: int) -> None:
    configure_logging()
    tokens = network_tokens(host, "the dashboard")
    with Orchestrator.open(store) as orchestrator:
        app = dashboard_app(orchestrator, host=host, tokens=tokens)
        print(f"taskweave dashboard: http://{_shown(host)}:{port}/", file=sys.stderr)
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=SHUTDOWN_SECONDS
        )
        uvicorn.Server(config).run()


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
