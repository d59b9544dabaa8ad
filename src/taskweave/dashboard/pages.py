"""The pages and the fragments htmx loads into them: every one a bounded read of the store."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from taskweave.core.model import STATUSES
from taskweave.dashboard.graph_layout import layout
from taskweave.dashboard.live import ChangeFeed
from taskweave.dashboard.reads import Cursor, Reads
from taskweave.dashboard.rendering import Templates
from taskweave.errors import InvalidInput
from taskweave.server.dispatch import RunDomain
from taskweave.server.http.bearer_auth import principal_of

NO_STORE = {"cache-control": "no-store"}


def _number(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise InvalidInput(f"'{name}' is {raw!r}.", hint=f"Give {name} as a whole number.")
    return int(raw)


class Pages:
    def __init__(self, reads: Reads, templates: Templates, run_domain: RunDomain, feed: ChangeFeed) -> None:
        self.reads = reads
        self.templates = templates
        self.run_domain = run_domain
        self.feed = feed

    def _context(self, request: Request, **extra: Any) -> dict[str, Any]:
        return {"csrf": request.state.csrf_token, "now": self.reads.now, **extra}

    def _html(self, text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers={**NO_STORE, **(headers or {})})

    def _part(self, macro: str, **arguments: Any) -> HTMLResponse:
        return self._html(self.templates.part(macro, now=self.reads.now, **arguments))

    async def sessions(self, request: Request) -> Response:
        principal = principal_of(request.scope)
        within = principal.workspaces if principal else None
        listing = await self.run_domain(lambda: self.reads.orchestrator.sessions.listing(None, within=within))
        workspaces: dict[str, list[Any]] = {}
        for entry in listing["sessions"]:
            workspaces.setdefault(entry["workspace_root"], []).append(entry)
        return self._html(self.templates.render("sessions.html", workspaces=workspaces, **self._context(request)))

    async def session(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        task_id = request.query_params.get("task")
        view = await self.run_domain(self._session_view, session_id, task_id)
        return self._html(self.templates.render("session.html", sid=session_id, **view, **self._context(request)))

    def _session_view(self, session_id: str, task_id: str | None) -> dict[str, Any]:
        reads = self.reads
        head = reads.head(session_id)  # first: the page's event number is no later than what it shows
        view: dict[str, Any] = {
            "head": head,
            "seq": head.session["last_event_seq"],
            "columns": reads.board(session_id),
            "roots": reads.roots(session_id, 0),
            "claims": reads.claims(session_id),
            "clients": reads.clients(session_id),
            "mailbox": reads.mailbox(session_id),
            "timeline": reads.timeline(session_id, None),
            "detail": reads.detail(session_id, task_id) if task_id else None,
        }
        newest_parent = view["roots"].nodes[0].task["id"] if view["roots"].nodes else None
        view["graph"] = self._graph(session_id, None if task_id else newest_parent, task_id)
        return view

    def _graph(self, session_id: str, parent_id: str | None, task_id: str | None) -> dict[str, Any]:
        part = self.reads.graph(session_id, parent_id=parent_id, task_id=task_id)
        drawing = layout([t["id"] for t in part.nodes], part.edges)
        return {
            "part": part,
            "drawing": drawing,
            "rows": {t["id"]: t for t in part.nodes},
            "scope": "task" if task_id else "parent" if parent_id else "session",
        }

    async def column(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        status = request.path_params["status"]
        if status not in STATUSES:
            raise InvalidInput(f"No column {status!r}.", hint=f"Use one of: {', '.join(STATUSES)}.")
        after = Cursor.parse(request.query_params.get("after"))
        column = await self.run_domain(self.reads.column, session_id, status, after)
        return self._part("more_cards_page", col=column, sid=session_id)

    async def tree(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        parent_id = request.query_params.get("parent")
        offset = _number(request, "offset") or 0
        if parent_id:
            branch = await self.run_domain(self.reads.children, session_id, parent_id, offset)
        else:
            branch = await self.run_domain(self.reads.roots, session_id, offset)
        return self._part("branch_items", b=branch, parent=parent_id, sid=session_id)

    async def detail(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        detail = await self.run_domain(self.reads.detail, session_id, request.path_params["task_id"])
        return self._part("detail", d=detail, sid=session_id)

    async def artifact(self, request: Request) -> Response:
        found = await self.run_domain(self.reads.artifact, request.path_params["session_id"], request.path_params["artifact_id"])
        return self._part("artifact", a=found)

    async def graph(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        graph = await self.run_domain(
            self._graph, session_id, request.query_params.get("parent") or None, request.query_params.get("task") or None
        )
        return self._part("graph", g=graph, sid=session_id)

    async def timeline(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        timeline = await self.run_domain(self.reads.timeline, session_id, _number(request, "before"))
        return self._part("older_events_page", timeline=timeline, sid=session_id)

    async def reload(self, request: Request) -> Response:
        """Asked by a page whose stream says it fell too far behind: htmx reloads it."""
        return Response(status_code=200, headers={**NO_STORE, "HX-Refresh": "true"})

    async def live(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        await self.run_domain(self.reads.head, session_id)
        since = request.headers.get("last-event-id") or request.query_params.get("since") or ""
        if not since.isdigit():
            raise InvalidInput(f"'since' is {since!r}.", hint="Open the session's page; it names its event number.")
        subscriber, receive = await self.feed.subscribe(session_id, int(since))
        return StreamingResponse(
            self.feed.stream(subscriber, receive), media_type="text/event-stream",
            headers={**NO_STORE, "x-accel-buffering": "no"},
        )
