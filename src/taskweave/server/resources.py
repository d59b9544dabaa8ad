"""The resources: a session's status, each task and each artifact, by their `taskweave://` URIs."""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext

from taskweave.core import uris
from taskweave.core.orchestrator import Orchestrator
from taskweave.errors import TaskweaveError
from taskweave.server.connections import Connections, connection_key
from taskweave.server.dispatch import RunDomain
from taskweave.server.error_mapping import request_error
from taskweave.server.http.bearer_auth import principal_of
from taskweave.server.notifications import ChangeNotifier

Ctx = ServerRequestContext[Any, Any]

TEMPLATES = [
    types.ResourceTemplate(uri_template=uris.STATUS_TEMPLATE, name="session-status", mime_type="application/json"),
    types.ResourceTemplate(uri_template=uris.TASK_TEMPLATE, name="task", mime_type="application/json"),
    types.ResourceTemplate(uri_template=uris.ARTIFACT_TEMPLATE, name="artifact"),
]


class Resources:
    def __init__(
        self, orchestrator: Orchestrator, connections: Connections, notifier: ChangeNotifier, run_domain: RunDomain
    ) -> None:
        self.orchestrator = orchestrator
        self.connections = connections
        self.notifier = notifier
        self.run_domain = run_domain

    async def list_resources(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        session_id = self.connections.get(connection_key(ctx)).session_id
        resources = []
        if session_id:
            resources.append(
                types.Resource(
                    uri=uris.status_uri(session_id),
                    name="session-status",
                    description="This connection's orchestration session at a glance.",
                    mime_type="application/json",
                )
            )
        return types.ListResourcesResult(resources=resources)

    async def list_templates(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)

    async def read(self, ctx: Ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            await self.run_domain(self._check_access, ctx, uri)
            return await self._read(uri)
        except TaskweaveError as error:
            raise request_error(error) from None

    def _check_access(self, ctx: Ctx, uri: str) -> None:
        """Refuse a resource of a workspace the caller's token does not give it."""
        principal = principal_of(ctx.request.scope) if ctx.request is not None else None
        if principal is None or principal.workspaces is None:
            return
        session_id = self.orchestrator.reading.session_of(uri)
        root = self.orchestrator.upkeep.workspace_root(session_id) if session_id else None
        if root is not None:
            principal.check(root)

    async def _read(self, uri: str) -> types.ReadResourceResult:
        found = await self.run_domain(self.orchestrator.reading.resource, uri)
        contents = types.TextResourceContents(uri=found.uri, text=found.text, mime_type=found.media_type)
        return types.ReadResourceResult(contents=[contents])

    async def subscribe(self, ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        uri = str(params.uri)
        await self.read(ctx, types.ReadResourceRequestParams(uri=uri))
        key = connection_key(ctx) or f"anonymous:{id(ctx.session)}"
        await self.notifier.subscribe(key, ctx.session, uri)
        return types.EmptyResult()

    async def unsubscribe(self, ctx: Ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self.notifier.unsubscribe(connection_key(ctx) or "", str(params.uri))
        return types.EmptyResult()

