"""Starting the server: stdio for one client window, Streamable HTTP for a shared daemon.

The store is opened before serving starts, so a store that cannot be opened
or trusted stops the server with a clear message instead of a half-started
connection. In stdio mode stdout belongs to JSON-RPC; every log line goes to
stderr.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import sys
from typing import Any

from taskweave.errors import InvalidInput

log = logging.getLogger("taskweave")

LOOPBACK_NAMES = {"localhost"}


def _configure_logging() -> None:
    level = os.environ.get("TASKWEAVE_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(*, store: str | None, http: bool, host: str, port: int) -> None:
    _configure_logging()
    token = os.environ.get("TASKWEAVE_TOKEN") or None
    if http and not is_loopback(host) and token is None:
        raise InvalidInput(
            f"Serving HTTP on {host} would expose the store to the network without authentication.",
            hint="Set TASKWEAVE_TOKEN to a secret bearer token, or bind to 127.0.0.1.",
        )

    import anyio

    from taskweave.core.service import Orchestrator
    from taskweave.server.app import TaskweaveServer

    with Orchestrator.open(store) as orchestrator, orchestrator.store.serving():
        log.info("store: %s", orchestrator.store.describe())
        app = TaskweaveServer(orchestrator, transport="http" if http else "stdio", snapshots=_snapshot_policy(orchestrator))
        if http:
            anyio.run(_serve_http, app, host, port, token)
        else:
            anyio.run(_serve_stdio, app)


def _snapshot_policy(orchestrator: Any) -> Any:
    """Automatic snapshots for a SQLite store; a database server has its own backup tools."""
    from taskweave.store.sqlite import SQLiteStore

    if not isinstance(orchestrator.store, SQLiteStore):
        return None
    from taskweave.store.snapshots import SnapshotPolicy

    return SnapshotPolicy.from_env(orchestrator.store)


async def _serve_stdio(app: Any) -> None:
    from taskweave.server.stdio import pipe_stdio

    server = app.server
    async with pipe_stdio() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def _serve_http(app: Any, host: str, port: int, token: str | None) -> None:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    if is_loopback(host):
        security = TransportSecuritySettings(
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    else:
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    # Plain JSON answers: every client must accept them, and they cost far less than an event stream.
    starlette_app = app.server.streamable_http_app(transport_security=security, host=host, json_response=True)
    asgi = SessionEndObserver(starlette_app, app)
    asgi = BearerTokenMiddleware(asgi, token) if token else asgi
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()


class SessionEndObserver:
    """Marks a client disconnected when its HTTP session is ended with DELETE.

    Sessions that simply go quiet are not seen here; their clients expire when their lease lapses.
    """

    def __init__(self, asgi: Any, app: Any) -> None:
        self.asgi = asgi
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.asgi(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "DELETE":
            session_id = dict(scope["headers"]).get(b"mcp-session-id")
            if session_id:
                await self.app.connection_closed(f"http:{session_id.decode()}")


class BearerTokenMiddleware:
    """Refuses HTTP requests that do not carry `Authorization: Bearer <TASKWEAVE_TOKEN>`."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                body = b'{"error":{"code":"unauthorized","message":"Missing or wrong bearer token.","hint":"Send Authorization: Bearer <TASKWEAVE_TOKEN>."}}'
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
