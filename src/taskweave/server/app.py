"""The MCP server: a thin layer from JSON-RPC to the orchestration domain.

It owns what only the protocol knows: which connection a call came on (and so
which session and client it is bound to), the client's roots, resources and
their subscriptions, client liveness, and the shape of results and errors.
Everything else is the domain's (`taskweave.core`), which it calls with plain
values.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from taskweave import __version__
from taskweave.core.model import status_uri
from taskweave.core.service import ClientInfo, Orchestrator
from taskweave.errors import NotFound, TaskweaveError
from taskweave.server import schema
from taskweave.server.notifications import RESOURCE_URI, ChangeNotifier
from taskweave.server.prompt import WORKFLOW_PROMPT
from taskweave.server.tools import BY_NAME, TOOLS, Call, ToolSpec
from taskweave.store.snapshots import SnapshotPolicy
from taskweave.workspace import detect_workspace

log = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = -32002
ROOTS_TIMEOUT_SECONDS = 3.0
SWEEP_SECONDS = 5.0

INSTRUCTIONS = (
    "taskweave keeps a durable, shared orchestration session per project. Start with "
    "orchestrator_initialize_session; plan with orchestrator_plan_task, claim with orchestrator_execute_task, "
    "finish with orchestrator_complete_task, combine with orchestrator_synthesize_results. session_id and "
    "client_id default to what initialize bound this connection to; pass them explicitly on stateless HTTP."
)


@dataclass
class Binding:
    """What one connection is attached to, and when it last renewed its client's liveness."""

    session_id: str | None = None
    client_id: str | None = None
    renewed_at: float = 0.0


class TaskweaveServer:
    """Builds the low-level MCP `Server` around one `Orchestrator`."""

    def __init__(self, orchestrator: Orchestrator, *, transport: str, snapshots: SnapshotPolicy | None = None) -> None:
        self.orchestrator = orchestrator
        self.transport = transport
        self.snapshots = snapshots
        # A stdio process serves one client, and a store whose transactions queue on one connection
        # serves one call at a time: either way a domain call runs on the event loop itself, as a
        # worker-thread hop would cost more than the call. Only the HTTP daemon on a pooled store
        # gains from threads, which let one client's slow round trip leave the others running.
        inline = transport == "stdio" or not orchestrator.store.concurrent_transactions
        self.run_domain = _run_inline if inline else anyio.to_thread.run_sync
        self.bindings: dict[str, Binding] = {}
        self.notifier = ChangeNotifier(orchestrator, self.run_domain)
        # Renewing liveness is a write; a client's requests renew it at most this often.
        self.renew_interval = orchestrator.lease_seconds / 10
        self._tools = [
            types.Tool(
                name=spec.name,
                description=spec.description,
                input_schema=spec.schema,
                annotations=types.ToolAnnotations(read_only_hint=True) if spec.read_only else None,
            )
            for spec in TOOLS
        ]
        self.server: Server[Any] = Server(
            "taskweave",
            version=__version__,
            instructions=INSTRUCTIONS,
            lifespan=self._lifespan,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_resource_templates,
            on_read_resource=self._read_resource,
            on_subscribe_resource=self._subscribe,
            on_unsubscribe_resource=self._unsubscribe,
            on_subscriptions_listen=self.notifier.listen,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
        )
        self.server.middleware.append(self._renew_liveness)

    @asynccontextmanager
    async def _lifespan(self, _: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        """Background work for as long as the server serves; on stdio, also the connection's end."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.notifier.run)
            group.start_soon(self._sweep)
            try:
                yield {}
            finally:
                group.cancel_scope.cancel()
                if self.transport == "stdio":
                    with anyio.CancelScope(shield=True):
                        await self.connection_closed("stdio")

    async def _sweep(self) -> None:
        """Release lapsed claims, expire silent clients, take due snapshots; any server process may do it."""
        while True:
            await anyio.sleep(SWEEP_SECONDS)
            try:
                await self.run_domain(self.orchestrator.expire_stale)
                if self.snapshots is not None:
                    await anyio.to_thread.run_sync(self.snapshots.take_if_due, self.orchestrator.store)
            except Exception:
                log.exception("background upkeep failed")
            self._forget_idle_bindings()

    def _forget_idle_bindings(self) -> None:
        horizon = time.monotonic() - 2 * self.orchestrator.lease_seconds
        for key in [k for k, b in self.bindings.items() if k != "stdio" and b.renewed_at < horizon]:
            del self.bindings[key]
            self.notifier.unsubscribe(key)

    async def connection_closed(self, key: str) -> None:
        """The connection ended: its client is disconnected (claims stay until their leases lapse)."""
        binding = self.bindings.pop(key, None)
        self.notifier.unsubscribe(key)
        if binding and binding.client_id:
            try:
                await self.run_domain(self.orchestrator.disconnect_client, binding.client_id)
            except Exception:
                log.exception("marking client %s disconnected failed", binding.client_id)

    async def _renew_liveness(self, ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
        """Every request, pings included, is a sign of life for the connection's client."""
        result = await call_next(ctx)
        binding = self.bindings.get(self._connection_key(ctx) or "")
        now = time.monotonic()
        if binding and binding.client_id and binding.session_id and now - binding.renewed_at >= self.renew_interval:
            binding.renewed_at = now
            try:
                await self.run_domain(self.orchestrator.renew_client, binding.client_id, binding.session_id)
            except Exception:
                log.exception("renewing client %s failed", binding.client_id)
        return result

    # -- connections ------------------------------------------------------

    @staticmethod
    def _connection_key(ctx: ServerRequestContext[Any]) -> str | None:
        """Stdio serves one connection per process; HTTP names its connections by Mcp-Session-Id."""
        if ctx.request is None:
            return "stdio"
        session_header = ctx.request.headers.get("mcp-session-id")
        return f"http:{session_header}" if session_header else None

    def _client_info(self, ctx: ServerRequestContext[Any]) -> ClientInfo:
        params = ctx.session.client_params
        info = params.client_info if params else None
        return ClientInfo(
            name=info.name if info else "unknown",
            version=info.version if info else "",
            transport=self.transport,
        )

    async def _roots(self, ctx: ServerRequestContext[Any]) -> list[str]:
        capabilities = ctx.session.client_capabilities
        if capabilities is None or capabilities.roots is None or not ctx.session.can_send_request:
            return []
        try:
            with warnings.catch_warnings(), anyio.fail_after(ROOTS_TIMEOUT_SECONDS):
                warnings.simplefilter("ignore")
                result = await ctx.session.list_roots()
        except Exception as error:  # a client that cannot answer roots/list just has no roots
            log.info("roots/list failed: %s", error)
            return []
        return [str(root.uri) for root in result.roots]

    async def _prepare(self, ctx: ServerRequestContext[Any], spec: ToolSpec, args: dict[str, Any]) -> Call:
        binding = self.bindings.get(self._connection_key(ctx) or "", Binding())
        roots: list[str] | None = None

        async def roots_once() -> list[str]:
            nonlocal roots
            if roots is None:
                roots = await self._roots(ctx)
            return roots

        needs_detection = spec.name in ("orchestrator_initialize_session", "orchestrator_detect_workspace") or (
            spec.name == "orchestrator_list_sessions" and not args.get("all")
        )
        if needs_detection and not args.get("working_directory"):
            await roots_once()
        session_id = args.get("session_id") or binding.session_id
        if spec.needs_session and session_id is None:
            workspace = await self.run_domain(partial(detect_workspace, roots=await roots_once()))
            session_id = await self.run_domain(self.orchestrator.active_session_id, workspace)
            if session_id is None:
                raise NotFound(
                    f"No active session in the workspace {workspace.root}.",
                    hint="Call orchestrator_initialize_session first.",
                )
        client_id = args.get("client_id") or binding.client_id
        if args.get("client_id") and spec.name != "orchestrator_initialize_session":
            await self.run_domain(self.orchestrator.require_client, args["client_id"])
        client = self._client_info(ctx)
        if spec.needs_client and client_id is None:
            client_id = await self.run_domain(self.orchestrator.register_client, session_id, client)
            self._bind(ctx, session_id, client_id)
        resolved_roots = roots or []
        return Call(
            orchestrator=self.orchestrator,
            client=client,
            session_id=session_id,
            client_id=client_id,
            detect=lambda directory: detect_workspace(directory, roots=resolved_roots),
        )

    def _bind(self, ctx: ServerRequestContext[Any], session_id: str | None, client_id: str | None) -> None:
        key = self._connection_key(ctx)
        if key is not None:
            binding = self.bindings.setdefault(key, Binding())
            binding.session_id = session_id or binding.session_id
            binding.client_id = client_id or binding.client_id
            binding.renewed_at = time.monotonic()

    # -- tools ------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self._tools)

    async def _call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = BY_NAME.get(params.name)
        args = params.arguments or {}
        try:
            if spec is None:
                raise NotFound(f"Unknown tool {params.name!r}.", hint="Call tools/list for the tools this server has.")
            schema.check(args, spec.schema)
            call = await self._prepare(ctx, spec, args)
            result = await self.run_domain(spec.handler, call, args)
            if call.bound:
                self._bind(ctx, call.bound["session_id"], call.bound.get("client_id"))
        except TaskweaveError as error:
            log.info("tool %s refused: %s", params.name, error.message)
            return _tool_result(error.to_dict(), is_error=True)
        except Exception:
            log.exception("tool %s failed", params.name)
            return _tool_result(
                {
                    "error": {
                        "code": "internal",
                        "message": f"{params.name} failed because of an internal error; nothing was changed.",
                        "hint": "Retry once; if it fails again, report it with the server's log (stderr).",
                    }
                },
                is_error=True,
            )
        return _tool_result(result)

    # -- resources --------------------------------------------------------

    async def _list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        binding = self.bindings.get(self._connection_key(ctx) or "")
        resources = []
        if binding and binding.session_id:
            resources.append(
                types.Resource(
                    uri=status_uri(binding.session_id),
                    name="session-status",
                    description="This connection's orchestration session at a glance.",
                    mime_type="application/json",
                )
            )
        return types.ListResourcesResult(resources=resources)

    async def _list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template="taskweave://sessions/{session_id}/status", name="session-status", mime_type="application/json"
                ),
                types.ResourceTemplate(uri_template="taskweave://tasks/{task_id}", name="task", mime_type="application/json"),
                types.ResourceTemplate(uri_template="taskweave://artifacts/{artifact_id}", name="artifact"),
            ]
        )

    async def _read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        match = RESOURCE_URI.match(uri)
        try:
            if match is None:
                raise NotFound(f"Unknown resource {uri!r}.", hint="Use a taskweave:// URI a tool returned.")
            if match["session"]:
                body = await self.run_domain(self.orchestrator.get_status, match["session"])
                return _json_resource(uri, body)
            if match["task"]:
                return _json_resource(uri, await self.run_domain(self.orchestrator.read_task, match["task"]))
            artifact = await self.run_domain(self.orchestrator.read_artifact, match["artifact"])
        except TaskweaveError as error:
            raise MCPError(code=RESOURCE_NOT_FOUND, message=error.message, data=error.to_dict()["error"]) from None
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, text=artifact["content"], mime_type=artifact["mime_type"])]
        )

    async def _subscribe(self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams) -> types.EmptyResult:
        uri = str(params.uri)
        await self._read_resource(ctx, types.ReadResourceRequestParams(uri=uri))
        key = self._connection_key(ctx) or f"anonymous:{id(ctx.session)}"
        await self.notifier.subscribe(key, ctx.session, uri)
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self.notifier.unsubscribe(self._connection_key(ctx) or "", str(params.uri))
        return types.EmptyResult()

    # -- prompts ----------------------------------------------------------

    async def _list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[types.Prompt(name="taskweave-workflow", description="How to plan, execute, complete and synthesize work.")]
        )

    async def _get_prompt(self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != "taskweave-workflow":
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt {params.name!r}; use 'taskweave-workflow'.")
        return types.GetPromptResult(
            description="The taskweave workflow",
            messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=WORKFLOW_PROMPT))],
        )


async def _run_inline(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


def _tool_result(body: dict[str, Any], *, is_error: bool = False) -> types.CallToolResult:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=body, is_error=is_error)


def _json_resource(uri: str, body: dict[str, Any]) -> types.ReadResourceResult:
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, text=json.dumps(body, ensure_ascii=False), mime_type="application/json")]
    )
