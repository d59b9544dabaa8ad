"""The HTTP daemon: Streamable HTTP at `/mcp`, behind the edge's checks, served by uvicorn.

`/mcp`, from the outside in: the bearer token (when one is set), the request
body limit, the observer of session ends, then the SDK's Streamable HTTP app
with its Host/Origin checks. An HTTP session that goes quiet for a claim's
lease is ended (its client re-initializes and gets its identity back with its
client_id), so sessions never pile up and a new agent always gets in.
`/metrics` and `/healthz` are the operators' (`metrics.py`), behind the same
token and Host checks. Every other path is the dashboard's
(`taskweave.dashboard`), with checks of its own.
"""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from taskweave.core.limits import REQUEST_BYTES
from taskweave.server.access import Tokens
from taskweave.server.http.bearer_auth import BearerTokenMiddleware
from taskweave.server.http.body_limit import BodyLimitMiddleware
from taskweave.server.http.metrics import OPERATOR_PATHS, Observability
from taskweave.server.http.session_end import SessionEndObserver
from taskweave.server.http.transport_security import security_settings
from taskweave.server.mcp_server import TaskweaveServer

# Open dashboard pages hold event streams; a stop waits this long for them, then closes them.
DASHBOARD_STREAMS_CLOSE_SECONDS = 2


def http_app(app: TaskweaveServer, *, host: str, tokens: Tokens | None) -> ASGIApp:
    # Plain JSON answers: every client must accept them, and they cost far less than an event stream.
    mcp_app = app.server.streamable_http_app(
        transport_security=security_settings(host),
        host=host,
        json_response=True,
        max_request_body_size=REQUEST_BYTES + 1,
        session_idle_timeout=app.orchestrator.settings.lease_seconds,
        max_sessions=None,
    )
    edge: ASGIApp = BodyLimitMiddleware(SessionEndObserver(mcp_app, app.connection_closed))
    operators: ASGIApp = Observability(app, host=host)
    if tokens:
        edge = BearerTokenMiddleware(edge, tokens)
        operators = BearerTokenMiddleware(operators, tokens)
    from taskweave.dashboard.mounting import with_dashboard

    endpoints = {"/mcp": edge, **{path: operators for path in OPERATOR_PATHS}}
    return with_dashboard(mcp_app, endpoints, app.orchestrator, app.run_domain, host=host, tokens=tokens)


async def serve_http(app: TaskweaveServer, *, host: str, port: int, tokens: Tokens | None) -> None:
    config = uvicorn.Config(
        http_app(app, host=host, tokens=tokens), host=host, port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=DASHBOARD_STREAMS_CLOSE_SECONDS,
    )
    await uvicorn.Server(config).serve()
