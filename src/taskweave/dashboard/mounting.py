"""The dashboard beside MCP in one daemon: the daemon's own endpoints (`/mcp`, the operators') go where the daemon
says, as they are; everything else to the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from taskweave.core.orchestrator import Orchestrator
from taskweave.dashboard.app import dashboard_app
from taskweave.server.access import Tokens
from taskweave.server.dispatch import RunDomain


def with_dashboard(
    mcp_app: Starlette,
    endpoints: dict[str, ASGIApp],
    orchestrator: Orchestrator,
    run_domain: RunDomain,
    *,
    host: str,
    tokens: Tokens | None,
) -> Starlette:
    """Each of `endpoints` (paths to apps behind their own checks), the dashboard at `/` calling the domain
    through the daemon's `run_domain`; both lifespans run."""
    dashboard = dashboard_app(orchestrator, host=host, tokens=tokens, run_domain=run_domain)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for app in (mcp_app, dashboard):
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    routes = [Route(path, endpoint) for path, endpoint in endpoints.items()]
    return Starlette(routes=[*routes, Mount("/", dashboard)], lifespan=lifespan)
