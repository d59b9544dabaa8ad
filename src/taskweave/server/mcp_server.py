"""The MCP server: a thin layer from JSON-RPC to the orchestration domain.

It owns what only the protocol knows: which connection a call came on (and so
which session and client it is bound to), the client's roots, resources and
their subscriptions, client liveness, and the shape of results and errors.
Everything else is the domain's (`taskweave.core`), which it calls with plain
values. The transport that serves it (`taskweave.server.run`) runs its
background work with `background()`.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal, TypedDict

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from taskweave import __version__
from taskweave.core import tool_names
from taskweave.core.clients import ClientInfo
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.sessions import no_active_session
from taskweave.errors import InvalidInput, NotFound, TaskweaveError, shown
from taskweave.server import json_schema
from taskweave.server.access import Forbidden, Principal
from taskweave.server.arguments import Arguments
from taskweave.server.connections import Binding, Connections, StreamConnection, connection_key
from taskweave.server.dispatch import runner_for
from taskweave.server.error_mapping import internal_tool_error, tool_error, tool_result
from taskweave.server.http.bearer_auth import principal_of
from taskweave.server.notifications import ChangeNotifier
from taskweave.server.prompt import WORKFLOW_PROMPT
from taskweave.server.resources import Resources
from taskweave.server.tools import BY_NAME, TOOLS, USE_ROOTS, Anyone, AsClient, Attributed, InSession, Tool
from taskweave.store.snapshots import SnapshotPolicy
from taskweave.store.waiting import WouldBlock
from taskweave.telemetry import NOTHING, Telemetry
from taskweave.workspace import Detection, detect_workspace

log = logging.getLogger(__name__)

Ctx = ServerRequestContext[Any, Any]
Transport = Literal["stdio", "http"]

ROOTS_TIMEOUT_SECONDS = 2.0
SWEEP_SECONDS = 5.0
PROMPT_NAME = "taskweave-workflow"

INSTRUCTIONS = (
    "taskweave keeps a durable, shared orchestration session per project. Start with "
    f"{tool_names.INITIALIZE_SESSION}; plan with {tool_names.PLAN_TASK}, claim with {tool_names.EXECUTE_TASK}, "
    f"finish with {tool_names.COMPLETE_TASK}, combine a parent's subtasks with {tool_names.SYNTHESIZE_RESULTS} "
    "(that completes the parent). session_id and client_id default to what initialize bound this connection "
    "to; on stateless HTTP (no Mcp-Session-Id) pass both to every call. A retry with the same idempotency_key "
    f"and arguments returns the first answer. Read artifacts and tasks with {tool_names.READ_ARTIFACT}."
)


class _CallerFields(TypedDict):
    orchestrator: Orchestrator
    client: ClientInfo
    detect: Callable[[str | None], Detection]
    principal: Principal | None


class TaskweaveServer:
    """Builds the low-level MCP `Server` around one `Orchestrator`.

    Over HTTP the server's lifespan is the daemon's, and runs the background
    work; over a pair of streams (stdio, in memory) each run of the server is
    one connection, and its lifespan ends that connection.
    """

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        transport: Transport,
        snapshots: SnapshotPolicy | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.orchestrator = orchestrator
        self.transport = transport
        #: Where calls are measured: nothing, unless the daemon installs its metrics.
        self.telemetry: Telemetry = NOTHING
        self.snapshots = snapshots
        self.sweep_seconds = sweep_seconds
        self.run_domain = runner_for(orchestrator.store, serves_many=transport == "http")
        self.connections = Connections(
            orchestrator.upkeep, self.run_domain, lease_seconds=orchestrator.settings.lease_seconds
        )
        self.notifier = ChangeNotifier(orchestrator.store, orchestrator.upkeep, self.run_domain)
        self.resources = Resources(orchestrator, self.connections, self.notifier, self.run_domain)
        self._tools = [
            types.Tool(
                name=tool.name,
                description=tool.description,
                input_schema=tool.schema,
                annotations=types.ToolAnnotations(read_only_hint=True) if tool.read_only else None,
            )
            for tool in TOOLS
        ]
        self.server: Server[Any] = Server(
            "taskweave",
            version=__version__,
            instructions=INSTRUCTIONS,
            lifespan=self._lifespan,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self.resources.list_resources,
            on_list_resource_templates=self.resources.list_templates,
            on_read_resource=self.resources.read,
            on_subscribe_resource=self.resources.subscribe,
            on_unsubscribe_resource=self.resources.unsubscribe,
            on_subscriptions_listen=self.notifier.listen,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
        )
        self.server.middleware.append(self._renew_liveness)

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Change notifications and the sweep, for as long as the block runs."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.notifier.run)
            group.start_soon(self._sweep)
            try:
                yield
            finally:
                group.cancel_scope.cancel()

    @asynccontextmanager
    async def _lifespan(self, _: Server[Any]) -> AsyncIterator[Any]:
        if self.transport == "http":
            async with self.background():
                yield {}
            return
        connection = StreamConnection()
        try:
            yield connection
        finally:
            with anyio.CancelScope(shield=True):
                await self.connection_closed(connection.key)

    async def _sweep(self) -> None:
        """Release lapsed claims, expire silent clients, take due snapshots; any server process may do it."""
        while True:
            await anyio.sleep(self.sweep_seconds)
            try:
                swept = await self.run_domain(self.orchestrator.upkeep.expire_stale)
                self.telemetry.swept(swept["claims"], swept["clients"])
                if self.snapshots is not None:
                    await anyio.to_thread.run_sync(self.snapshots.take_if_due)
            except Exception:
                log.exception("background upkeep failed")
            for key in self.connections.forget_idle():
                self.notifier.unsubscribe(key)

    async def connection_closed(self, key: str) -> None:
        """The connection ended: its client is disconnected (claims stay until their leases lapse)."""
        self.notifier.unsubscribe(key)
        await self.connections.close(key)

    async def _renew_liveness(self, ctx: Ctx, call_next: CallNext) -> HandlerResult:
        """Every request, pings included, is a sign of life for the connection's client."""
        result = await call_next(ctx)
        await self.connections.renew(connection_key(ctx))
        return result

    # -- tools ------------------------------------------------------------

    async def _list_tools(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self._tools)

    async def _call_tool(self, ctx: Ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        started = time.perf_counter()
        result, outcome = await self._answer(ctx, params)
        tool = params.name if params.name in BY_NAME else "unknown"
        self.telemetry.call(tool, outcome, time.perf_counter() - started)
        return result

    async def _answer(self, ctx: Ctx, params: types.CallToolRequestParams) -> tuple[types.CallToolResult, str]:
        """The tool's result, and its outcome: "ok", or the error's code."""
        tool = BY_NAME.get(params.name)
        raw = params.arguments or {}
        try:
            if tool is None:
                raise NotFound(f"Unknown tool {params.name!r}.", hint="Call tools/list for the tools this server has.")
            json_schema.check(raw, tool.schema)
            args = Arguments(raw)
            call = await self._caller(ctx, tool, args)
            result = await self.run_domain(self._handled, tool, call, args)
            for session_id, client_id in call.bindings:
                self.connections.bind(connection_key(ctx), session_id, client_id)
        except TaskweaveError as error:
            log.info("tool %s refused: %s", params.name, error.message)
            return tool_error(error), error.code
        except Exception:
            log.exception("tool %s failed", params.name)
            return internal_tool_error(params.name), "internal"
        return tool_result(result), "ok"

    def _handled(self, tool: Tool[Any], call: Anyone, args: Arguments) -> Mapping[str, Any]:
        """The tool's answer, with the caller's unread messages under `messages` (many clients drop
        notifications): one domain call, so where calls go to a worker thread, one trip there."""
        result = tool.handler(call, args)
        recipient = call.recipient()
        if recipient is None:
            return result
        session_id, client_id = recipient
        try:
            unread = self.orchestrator.messages.take(session_id, client_id)
        except WouldBlock:
            # The tool's change is made: this call must not be run again elsewhere. Unread, the messages
            # come with the next answer.
            return result
        except TaskweaveError as error:
            log.info("messages for %s not taken: %s", client_id, error.message)
            return result
        return {**result, "messages": unread} if unread else result

    async def _caller(self, ctx: Ctx, tool: Tool[Any], args: Arguments) -> Anyone:
        """Resolve as much of the caller as the tool's scope needs (its session, its client), and refuse
        what its token does not give it."""
        key = connection_key(ctx)
        binding = self.connections.get(key)
        principal = principal_of(ctx.request.scope) if ctx.request is not None else None
        roots: list[str] | None = None

        async def roots_once() -> list[str]:
            nonlocal roots
            if roots is None:
                roots = await self._roots(ctx, binding)
            return roots

        uses_roots = tool.name in USE_ROOTS and not (tool.name == tool_names.LIST_SESSIONS and args.flag("all"))
        if uses_roots and "working_directory" not in args:
            await roots_once()
        given_client = args.optional_text("client_id")
        if given_client:
            owner = await self.run_domain(self.orchestrator.upkeep.client_principal, given_client)
            if principal is not None and owner is not None and owner != principal.name:
                raise Forbidden(
                    f"The client {shown(given_client)} acts for someone else.",
                    hint="Use the client_id your own initialize returned, or omit it.",
                )
        client_id = given_client or binding.client_id
        client = self._client_info(ctx, principal)
        found_roots = roots or []
        detect: Callable[[str | None], Detection] = lambda directory: self._detect(directory, found_roots, principal)
        orchestrator = self.orchestrator
        common = Anyone(orchestrator=orchestrator, client=client, detect=detect, client_id=client_id, principal=principal)
        if given_session := args.optional_text("session_id"):
            await self.run_domain(common.check_session, given_session)
        if tool.scope is Anyone:
            return common
        session_id = given_session or binding.session_id
        if session_id is None:
            if key is None:
                raise InvalidInput(
                    f"This request does not say which session {tool.name} is for.",
                    hint=f"Pass the session_id {tool_names.INITIALIZE_SESSION} returned: a stateless request "
                    "has no connection to remember it.",
                )
            workspace = await self.run_domain(self._detect, None, await roots_once(), principal)
            session_id = await self.run_domain(orchestrator.sessions.active_session_id, workspace)
            if session_id is None:
                raise no_active_session(workspace.root)
        fields: _CallerFields = {"orchestrator": orchestrator, "client": client, "detect": detect, "principal": principal}
        if not issubclass(tool.scope, Attributed):
            return InSession(**fields, client_id=client_id, session_id=session_id)
        if client_id is None and key is not None:
            client_id = await self.run_domain(orchestrator.upkeep.register_client, session_id, client)
            self.connections.bind(key, session_id, client_id)
        if tool.scope is Attributed:
            return Attributed(**fields, client_id=client_id, session_id=session_id)
        if client_id is None:
            raise InvalidInput(
                f"{tool.name} works on a claim, and claims belong to a client: this request names none.",
                hint=f"Pass the client_id {tool_names.INITIALIZE_SESSION} returned: a stateless request has no "
                "connection to remember it.",
            )
        return AsClient(**fields, client_id=client_id, session_id=session_id)

    def _detect(self, directory: str | None, roots: list[str], principal: Principal | None) -> Detection:
        """The caller's workspace. A daemon serves many projects: its own directory is nobody's workspace."""
        found = detect_workspace(directory, roots=roots)
        if self.transport == "http" and found.source in ("env", "cwd"):
            raise InvalidInput(
                "This daemon serves many projects, and the request does not say which one is yours: "
                "it has no working_directory and the client gave no roots.",
                hint="Pass working_directory (your project's absolute path).",
            )
        if principal is not None:
            principal.check(found.root)
        return found

    def _client_info(self, ctx: Ctx, principal: Principal | None) -> ClientInfo:
        params = ctx.session.client_params
        info = params.client_info if params else None
        return ClientInfo(
            name=info.name if info else "unknown",
            version=info.version if info else "",
            transport=self.transport,
            principal=principal.name if principal else None,
        )

    async def _roots(self, ctx: Ctx, binding: Binding) -> list[str]:
        """The client's roots, asked once per call that needs them (the roots can change meanwhile).

        Over HTTP the request goes over the client's standing event stream; a client that offers
        roots but keeps no such stream cannot answer, and is not asked again on that connection.
        """
        capabilities = ctx.session.client_capabilities
        if capabilities is None or capabilities.roots is None or binding.roots_unanswered:
            return []
        try:
            with warnings.catch_warnings(), anyio.fail_after(ROOTS_TIMEOUT_SECONDS):
                warnings.simplefilter("ignore")
                result = await ctx.session.list_roots()
        except Exception as error:  # a client that cannot answer roots/list just has no roots
            log.info("roots/list failed: %s", error)
            binding.roots_unanswered = True
            return []
        return [str(root.uri) for root in result.roots]

    # -- prompts ----------------------------------------------------------

    async def _list_prompts(self, ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[types.Prompt(name=PROMPT_NAME, description="How to plan, execute, complete and synthesize work.")]
        )

    async def _get_prompt(self, ctx: Ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != PROMPT_NAME:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt {params.name!r}; use {PROMPT_NAME!r}.")
        return types.GetPromptResult(
            description="The taskweave workflow",
            messages=[types.PromptMessage(role="user", content=types.TextContent(type="text", text=WORKFLOW_PROMPT))],
        )
