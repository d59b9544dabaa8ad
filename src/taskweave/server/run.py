"""Starting the server: stdio for one client window, Streamable HTTP for a shared daemon.

The store is opened before serving starts, so a store that cannot be opened
or trusted stops the server with a clear message instead of a half-started
connection. In stdio mode stdout belongs to JSON-RPC; every log line goes to
stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from taskweave.core.domain import DEFAULT_LEASE_SECONDS, Settings
from taskweave.errors import InvalidInput
from taskweave.server.access import Tokens
from taskweave.server.http.transport_security import is_loopback

if TYPE_CHECKING:
    from taskweave.server.mcp_server import TaskweaveServer

log = logging.getLogger("taskweave")


def configure_logging() -> None:
    """Log lines go to stderr only (stdout may be the JSON-RPC stream), at `TASKWEAVE_LOG_LEVEL`."""
    level = os.environ.get("TASKWEAVE_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise InvalidInput(f"{name} is {raw!r}.", hint=f"Set {name} to a number of seconds above 0, or unset it.")
    return value


def settings_from_env(environ: Mapping[str, str] = os.environ) -> tuple[Settings, float]:
    """The claim lease (`TASKWEAVE_LEASE_SECONDS`) and the sweep interval (`TASKWEAVE_SWEEP_SECONDS`)."""
    from taskweave.server.mcp_server import SWEEP_SECONDS

    lease = _env_number(environ, "TASKWEAVE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    return Settings(lease_seconds=max(1, round(lease))), _env_number(environ, "TASKWEAVE_SWEEP_SECONDS", SWEEP_SECONDS)


def network_tokens(host: str, what: str, environ: Mapping[str, str] = os.environ) -> Tokens | None:
    """The tokens an HTTP server bound to `host` takes: a tokens file (`TASKWEAVE_TOKENS_FILE`, a token per
    person), else the one shared `TASKWEAVE_TOKEN`, else none, which only loopback allows."""
    tokens = None
    if path := environ.get("TASKWEAVE_TOKENS_FILE"):
        tokens = Tokens.load(path)
    elif token := environ.get("TASKWEAVE_TOKEN"):
        tokens = Tokens.single(token)
    if tokens is None and not is_loopback(host):
        raise InvalidInput(
            f"Serving {what} on {host} would expose the store to the network without authentication.",
            hint="Set TASKWEAVE_TOKEN to a secret bearer token (or TASKWEAVE_TOKENS_FILE to a tokens file), "
            "or bind to 127.0.0.1.",
        )
    return tokens


def serve(*, store: str | None, http: bool, host: str, port: int) -> None:
    configure_logging()
    settings, sweep_seconds = settings_from_env()
    tokens = network_tokens(host, "HTTP") if http else None

    import anyio

    from taskweave.core.orchestrator import Orchestrator
    from taskweave.server.mcp_server import TaskweaveServer

    with Orchestrator.open(store, settings=settings) as orchestrator, orchestrator.store.serving():
        log.info("store: %s", orchestrator.store.describe())
        snapshots = orchestrator.store.snapshot_policy()
        app = TaskweaveServer(
            orchestrator, transport="http" if http else "stdio", snapshots=snapshots, sweep_seconds=sweep_seconds
        )
        if http:
            from taskweave.server.http.daemon import serve_http

            anyio.run(lambda: serve_http(app, host=host, port=port, tokens=tokens))
        else:
            anyio.run(_serve_stdio, app)


async def _serve_stdio(app: TaskweaveServer) -> None:
    from taskweave.server.stdio import pipe_stdio

    server = app.server
    async with app.background(), pipe_stdio() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
