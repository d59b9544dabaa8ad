"""The dashboard as one Starlette application over an `Orchestrator`: routes, guard, live feed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from taskweave.core.orchestrator import Orchestrator
from taskweave.dashboard.actions import REFUSAL_STATUS, Actions, Outcome
from taskweave.dashboard.guard import DashboardGuard, Guard
from taskweave.dashboard.live import ChangeFeed, Updates
from taskweave.dashboard.pages import Pages
from taskweave.dashboard.reads import Reads
from taskweave.dashboard.rendering import Templates
from taskweave.errors import TaskweaveError
from taskweave.server.access import Forbidden, Tokens
from taskweave.server.dispatch import RunDomain, runner_for
from taskweave.server.http.bearer_auth import principal_of

SESSION_PATH = re.compile(r"^/sessions/([^/]+)")


class Dashboard:
    """What one dashboard holds: its reads, templates, live feed and actions."""

    def __init__(
        self, orchestrator: Orchestrator, *, host: str, tokens: Tokens | None, run_domain: RunDomain | None = None
    ) -> None:
        self.run_domain = run_domain or runner_for(orchestrator.store, serves_many=True)
        self.reads = Reads(orchestrator)
        self.templates = Templates()
        self.feed = ChangeFeed(orchestrator.store, self.run_domain, Updates(self.reads, self.templates))
        self.pages = Pages(self.reads, self.templates, self.run_domain, self.feed)
        self.actions = Actions(orchestrator, self.templates, self.run_domain)
        self.guard = Guard(host=host, tokens=tokens)

    def routes(self) -> list[Route | Mount]:
        pages, actions = self.pages, self.actions
        task = "/sessions/{session_id}/tasks/{task_id}"
        return [
            Route("/", pages.sessions),
            Route("/sessions/{session_id}", pages.session),
            Route("/sessions/{session_id}/live", pages.live),
            Route("/sessions/{session_id}/reload", pages.reload),
            Route("/sessions/{session_id}/columns/{status}", pages.column),
            Route("/sessions/{session_id}/tree", pages.tree),
            Route("/sessions/{session_id}/graph", pages.graph),
            Route("/sessions/{session_id}/timeline", pages.timeline),
            Route("/sessions/{session_id}/artifacts/{artifact_id}", pages.artifact),
            Route(task, pages.detail),
            Route(f"{task}/release", actions.release, methods=["POST"]),
            Route(f"{task}/cancel", actions.cancel, methods=["POST"]),
            Route(f"{task}/priority", actions.priority, methods=["POST"]),
            Route("/sessions/{session_id}/messages", actions.send_message, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("taskweave.dashboard", "static")]), name="static"),
        ]

    async def refused(self, request: Request, error: Exception) -> Response:
        """A domain error while reading (an unknown session or task): its message and hint, as a page or a fragment."""
        assert isinstance(error, TaskweaveError)
        status = next((code for kind, code in REFUSAL_STATUS.items() if isinstance(error, kind)), 400)
        outcome = Outcome(False, error.message, error.hint)
        if request.headers.get("hx-request"):
            return HTMLResponse(self.templates.part("flash", outcome=outcome), status_code=status)
        page = self.templates.render("refused.html", outcome=outcome)
        return HTMLResponse(page, status_code=status)

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            async with anyio.create_task_group() as group:
                group.start_soon(self.feed.run)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()

        return Starlette(
            routes=self.routes(),
            middleware=[Middleware(DashboardGuard, guard=self.guard), Middleware(SessionAccess, dashboard=self)],
            exception_handlers={TaskweaveError: self.refused},
            lifespan=lifespan,
        )


class SessionAccess:
    """Refuse every page and action of a session whose workspace the request's token does not give it."""

    def __init__(self, app: ASGIApp, dashboard: Dashboard) -> None:
        self.app = app
        self.dashboard = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope) if scope["type"] == "http" else None
        found = SESSION_PATH.match(scope.get("path", "")) if principal is not None else None
        if principal is not None and principal.workspaces is not None and found is not None:
            root = await self.dashboard.run_domain(self.dashboard.reads.orchestrator.upkeep.workspace_root, found[1])
            if root is not None and not principal.may_use(root):
                request = Request(scope)
                try:
                    principal.check(root)
                except Forbidden as error:
                    await (await self.dashboard.refused(request, error))(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def dashboard_app(
    orchestrator: Orchestrator, *, host: str, tokens: Tokens | None, run_domain: RunDomain | None = None
) -> Starlette:
    """The dashboard for `orchestrator`'s store, bound to `host`; `tokens` are required off loopback. Beside MCP
    in one daemon it calls the domain through the daemon's `run_domain`, so the process has one queue."""
    return Dashboard(orchestrator, host=host, tokens=tokens, run_domain=run_domain).app()
