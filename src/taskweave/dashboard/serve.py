"""`taskweave dashboard`: the dashboard alone, over a store, without serving MCP."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from taskweave.core.orchestrator import Orchestrator
from taskweave.dashboard.app import dashboard_app
from taskweave.errors import InvalidInput
from taskweave.server.access import Tokens
from taskweave.server.http.transport_security import is_loopback

# Open pages hold their event streams; a stop waits this long for them, then closes them.
SHUTDOWN_SECONDS = 2


def serve_dashboard(*, store: str | None, host: str, port: int) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("TASKWEAVE_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    tokens = _tokens()
    if not is_loopback(host) and tokens is None:
        raise InvalidInput(
            f"Serving the dashboard on {host} would show the store to the network without authentication.",
            hint="Set TASKWEAVE_TOKEN to a secret token (or TASKWEAVE_TOKENS_FILE to a tokens file), or bind to 127.0.0.1.",
        )
    with Orchestrator.open(store) as orchestrator:
        app = dashboard_app(orchestrator, host=host, tokens=tokens)
        print(f"taskweave dashboard: http://{_shown(host)}:{port}/", file=sys.stderr)
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=SHUTDOWN_SECONDS
        )
        uvicorn.Server(config).run()


def _tokens() -> Tokens | None:
    """The daemon's rule: a tokens file (a token per person), else the one shared token, else none."""
    if path := os.environ.get("TASKWEAVE_TOKENS_FILE"):
        return Tokens.load(path)
    if token := os.environ.get("TASKWEAVE_TOKEN"):
        return Tokens.single(token)
    return None


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
