"""The MCP tool contract: names, compact input schemas, and the domain call behind each.

Each tool declares what it needs to know about its caller through the type
of its handler's first argument: `Anyone` (no session), `InSession` (the
session is known), `Attributed` (the session is known, and the caller's
client when there is one) or `AsClient` (the session and the caller's client
are known: claims are bound to it). The server resolves that much before
calling the handler; a handler is a plain function of it and the checked
arguments, and knows nothing about JSON-RPC or transports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from taskweave.core import tool_names as names
from taskweave.core import uris
from taskweave.core.clients import ClientInfo
from taskweave.core.model import COMPLETION_STATUSES, PRIORITIES, STATUSES
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.reading import DEFAULT_READ_CHARS
from taskweave.core.sessions import DETAILS
from taskweave.core.tasks import DEFAULT_PAGE, TaskChanges, TaskDraft
from taskweave.core.work import ArtifactInput
from taskweave.server.access import Principal
from taskweave.server.arguments import Arguments
from taskweave.server.json_schema import Schema, array, boolean, integer, obj, string
from taskweave.workspace import Detection


@dataclass(frozen=True, kw_only=True)
class Anyone:
    """A caller whose session need not be known; `principal` is who its token stands for (None: no tokens)."""

    orchestrator: Orchestrator
    client: ClientInfo
    client_id: str | None
    detect: Callable[[str | None], Detection]
    principal: Principal | None = None
    bindings: list[tuple[str, str | None]] = field(default_factory=list)

    def check_session(self, session_id: str) -> None:
        """Refuse a session of a workspace the caller's token does not give it."""
        if self.principal is not None and self.principal.workspaces is not None:
            root = self.orchestrator.upkeep.workspace_root(session_id)
            if root is not None:
                self.principal.check(root)

    def bind(self, session_id: str, client_id: str | None) -> None:
        """Ask the server to bind this connection to a session (and client) after the call."""
        self.bindings.append((session_id, client_id))

    def recipient(self) -> tuple[str, str] | None:
        """The session and client the caller's unread messages come from, once the call is done."""
        if not self.bindings:
            return None
        session_id, client_id = self.bindings[-1]
        return (session_id, client_id) if client_id else None


@dataclass(frozen=True, kw_only=True)
class InSession(Anyone):
    session_id: str

    def recipient(self) -> tuple[str, str] | None:
        if self.bindings or self.client_id is None:
            return super().recipient()
        return self.session_id, self.client_id


@dataclass(frozen=True, kw_only=True)
class Attributed(InSession):
    """A write that names its author: on a connection without a client yet, one is registered for it."""


@dataclass(frozen=True, kw_only=True)
class AsClient(Attributed):
    """A claim-bound call: it must know its client, and a stateless request must pass client_id."""

    client_id: str


Caller = TypeVar("Caller", bound=Anyone)


@dataclass(frozen=True)
class Tool(Generic[Caller]):
    name: str
    description: str
    schema: Schema
    scope: type[Caller]
    handler: Callable[[Caller, Arguments], Mapping[str, Any]]
    read_only: bool = False


def _initialize(call: Anyone, args: Arguments) -> Mapping[str, Any]:
    workspace = call.detect(args.optional_text("working_directory"))
    result = call.orchestrator.sessions.initialize(
        workspace,
        session_name=args.optional_text("session_name"),
        new_session=args.flag("new_session"),
        client=call.client,
        client_id=args.optional_text("client_id"),
    )
    call.bind(result["session_id"], result["client_id"])
    return result


def _status(call: InSession, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.sessions.status(
        call.session_id,
        include_completed=args.flag("include_completed"),
        since=args.integer("since"),
        detail=args.optional_text("detail") or "brief",
    )


def _draft(args: Arguments) -> TaskDraft:
    return TaskDraft(
        title=args.optional_text("title"),
        description=args.optional_text("description"),
        specialist=args.optional_text("specialist"),
        priority=args.optional_text("priority"),
        dependencies=[d for d in args.list_of("dependencies") if isinstance(d, str | int)],
    )


def _plan(call: Attributed, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.tasks.plan(
        call.session_id,
        call.client_id,
        _draft(args),
        parent_task_id=args.optional_text("parent_task_id"),
        subtasks=[_draft(subtask) for subtask in args.items("subtasks")],
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _execute(call: AsClient, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.work.execute(
        call.session_id,
        call.client_id,
        args.optional_text("task_id"),
        lease_seconds=args.integer("lease_seconds"),
        specialist=args.optional_text("specialist"),
        paths=args.texts("paths") or [],
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _complete(call: AsClient, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.work.complete(
        call.session_id,
        call.client_id,
        args.text("task_id"),
        summary=args.text("summary"),
        detailed_work=args.optional_text("detailed_work"),
        artifacts=[
            ArtifactInput(item.optional_text("name"), item.optional_text("content"), item.optional_text("mime_type"))
            for item in args.items("artifacts")
        ],
        status=args.optional_text("status") or "completed",
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _update(call: Attributed, args: Arguments) -> Mapping[str, Any]:
    changes = TaskChanges(
        title=args.optional_text("title"),
        description=args.optional_text("description"),
        specialist=args.optional_text("specialist"),
        priority=args.optional_text("priority"),
        status=args.optional_text("status"),
        dependencies=args.texts("dependencies"),
        parent_task_id=args.optional_text("parent_task_id"),
        summary=args.optional_text("summary"),
    )
    return call.orchestrator.tasks.update(
        call.session_id,
        call.client_id,
        args.text("task_id"),
        changes,
        expected_version=args.integer("expected_version"),
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _query(call: InSession, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.tasks.query(
        call.session_id,
        status=args.texts("status") or [],
        specialist=args.optional_text("specialist"),
        parent_task_id=args.optional_text("parent_task_id"),
        text=args.optional_text("text"),
        limit=args.integer_or("limit", DEFAULT_PAGE),
        offset=args.integer_or("offset", 0),
        detail=args.optional_text("detail") or "brief",
    )


def _cancel(call: Attributed, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.tasks.cancel(
        call.session_id,
        call.client_id,
        args.text("task_id"),
        reason=args.optional_text("reason"),
        cascade=args.flag("cascade"),
        force=args.flag("force"),
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _synthesize(call: Attributed, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.reports.synthesize(
        call.session_id,
        call.client_id,
        parent_task_id=args.optional_text("parent_task_id"),
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _list_sessions(call: Anyone, args: Arguments) -> Mapping[str, Any]:
    workspace = None if args.flag("all") else call.detect(args.optional_text("working_directory"))
    return call.orchestrator.sessions.listing(workspace, within=call.principal.workspaces if call.principal else None)


def _resume(call: Anyone, args: Arguments) -> Mapping[str, Any]:
    session_id = args.text("session_id")
    result = call.orchestrator.sessions.resume(session_id, call.client_id)
    call.bind(session_id, call.client_id)
    return result


def _end(call: InSession, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.sessions.end(call.session_id, call.client_id)


def _detect(call: Anyone, args: Arguments) -> Mapping[str, Any]:
    return call.detect(args.optional_text("working_directory")).to_dict()


def _send_message(call: Attributed, args: Arguments) -> Mapping[str, Any]:
    return call.orchestrator.messages.send(
        call.session_id,
        call.client_id,
        args.text("to"),
        args.text("text"),
        task_id=args.optional_text("task_id"),
        idempotency_key=args.optional_text("idempotency_key"),
    )


def _read_artifact(call: Anyone, args: Arguments) -> Mapping[str, Any]:
    uri = args.optional_text("uri") or uris.artifact_uri(args.optional_text("artifact_id") or "")
    if session_id := call.orchestrator.reading.session_of(uri):
        call.check_session(session_id)
    return call.orchestrator.reading.page(
        uri=args.optional_text("uri"),
        artifact_id=args.optional_text("artifact_id"),
        offset=args.integer_or("offset", 0),
        max_chars=args.integer_or("max_chars", DEFAULT_READ_CHARS),
    )


# session_id and client_id default to what this connection was bound to by initialize, and what
# an idempotency_key does: the server instructions say so once instead of every schema repeating it.
_SESSION_ID = string()
_CLIENT_ID = string()
_KEY = string()
_PRIORITY = string(enum=tuple(PRIORITIES))
_DETAIL = string(enum=DETAILS)


def _session_props(**properties: Schema) -> Schema:
    return {**properties, "session_id": _SESSION_ID, "client_id": _CLIENT_ID}


def _claim_props(**properties: Schema) -> Schema:
    return {**_session_props(**properties), "client_id": string("Yours; required on stateless HTTP.")}


_SUBTASK = obj(
    {
        "title": string(),
        "description": string(),
        "specialist": string(),
        "priority": _PRIORITY,
        "dependencies": array(
            {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "0-based index of an earlier subtask, or a task id."
        ),
    },
    required=("title",),
)

TOOLS: tuple[Tool[Any], ...] = (
    Tool(
        names.INITIALIZE_SESSION,
        "Attach to this workspace's orchestration session (created if none). Call first. Keep session_id and "
        "client_id; on stateless HTTP pass them to every call.",
        obj(
            {
                "working_directory": string("Project directory; default: client roots, else server cwd."),
                "session_name": string(),
                "new_session": boolean("Start another session instead of attaching."),
                "client_id": string("Your earlier client_id, to get your identity and claims back."),
            }
        ),
        Anyone,
        _initialize,
    ),
    Tool(
        names.GET_STATUS,
        "Session at a glance: counts, tasks in progress, ready, to synthesize, recent changes, live clients.",
        obj(
            _session_props(
                include_completed=boolean(), since=integer("Also list events after this seq."), detail=_DETAIL
            )
        ),
        InSession,
        _status,
        read_only=True,
    ),
    Tool(
        names.PLAN_TASK,
        "Create a task, or a parent with subtasks, atomically. A parent is done by synthesizing it.",
        obj(
            _session_props(
                title=string(),
                description=string(),
                parent_task_id=string(),
                specialist=string("architect, implementer, tester, reviewer, debugger, documenter, researcher"),
                dependencies=array(string(), "Task ids that must complete first."),
                priority=_PRIORITY,
                subtasks=array(_SUBTASK),
                idempotency_key=_KEY,
            ),
            required=("title", "description"),
        ),
        Attributed,
        _plan,
    ),
    Tool(
        names.EXECUTE_TASK,
        "Claim a task (no task_id: the best ready one) and get its instructions and its dependencies' summaries.",
        obj(
            _claim_props(
                task_id=string(),
                specialist=string("Without task_id: only tasks for this role."),
                lease_seconds=integer("Claim lease, renewed by your activity."),
                paths=array(string(), "Globs to reserve, relative to the workspace root."),
                idempotency_key=_KEY,
            )
        ),
        AsClient,
        _execute,
    ),
    Tool(
        names.COMPLETE_TASK,
        "Record a claimed task's result and release it. Long output goes into detailed_work, not summary.",
        obj(
            _claim_props(
                task_id=string(),
                summary=string(),
                detailed_work=string(),
                artifacts=array(obj({"name": string(), "content": string(), "mime_type": string()}, ("name", "content"))),
                status=string(enum=COMPLETION_STATUSES),
                idempotency_key=_KEY,
            ),
            ("task_id", "summary"),
        ),
        AsClient,
        _complete,
    ),
    Tool(
        names.UPDATE_TASK,
        "Change task fields; expected_version rejects a stale write.",
        obj(
            _session_props(
                task_id=string(),
                expected_version=integer(),
                title=string(),
                description=string(),
                specialist=string(),
                priority=_PRIORITY,
                status=string(enum=("pending", "blocked")),
                dependencies=array(string()),
                parent_task_id=string(),
                summary=string(),
                idempotency_key=_KEY,
            ),
            ("task_id",),
        ),
        Attributed,
        _update,
    ),
    Tool(
        names.QUERY_TASKS,
        "Filter and page the session's tasks.",
        obj(
            _session_props(
                status={"anyOf": [string(enum=STATUSES), array(string(enum=STATUSES))]},
                specialist=string(),
                parent_task_id=string(),
                text=string("words that begin words of the title, description or summary"),
                limit=integer(),
                offset=integer(),
                detail=_DETAIL,
            )
        ),
        InSession,
        _query,
        read_only=True,
    ),
    Tool(
        names.CANCEL_TASK,
        "Cancel a task; cascade also cancels its open subtasks; force takes it from an agent working on it.",
        obj(
            _session_props(task_id=string(), reason=string(), cascade=boolean(), force=boolean(), idempotency_key=_KEY),
            ("task_id",),
        ),
        Attributed,
        _cancel,
    ),
    Tool(
        names.SYNTHESIZE_RESULTS,
        "Combine a parent's (or the session's) work into a Markdown report, kept as an artifact; completes a "
        "parent whose subtasks are finished.",
        obj(_session_props(parent_task_id=string(), idempotency_key=_KEY)),
        Attributed,
        _synthesize,
    ),
    Tool(
        names.LIST_SESSIONS,
        "Sessions of this workspace (or all): status, counts, last activity, connected clients.",
        obj({"working_directory": string(), "all": boolean()}),
        Anyone,
        _list_sessions,
        read_only=True,
    ),
    Tool(
        names.RESUME_SESSION,
        "Bind this connection to a session (reactivating it if ended).",
        obj({"session_id": string(), "client_id": _CLIENT_ID}, ("session_id",)),
        Anyone,
        _resume,
    ),
    Tool(
        names.END_SESSION,
        "End a session; its data stays and it can be resumed.",
        obj(_session_props()),
        InSession,
        _end,
    ),
    Tool(
        names.DETECT_WORKSPACE,
        "Diagnostics: the workspace root, types and evidence for a path.",
        obj({"working_directory": string()}),
        Anyone,
        _detect,
        read_only=True,
    ),
    Tool(
        names.SEND_MESSAGE,
        "Message a client_id, a specialist or all; it arrives under messages in their next tool result.",
        obj(_session_props(to=string(), text=string(), task_id=string(), idempotency_key=_KEY), ("to", "text")),
        Attributed,
        _send_message,
    ),
    Tool(
        names.READ_ARTIFACT,
        "Read an artifact, a task or a status by its taskweave:// URI (or an artifact_id), page by page.",
        obj({"uri": string(), "artifact_id": string(), "offset": integer(), "max_chars": integer()}),
        Anyone,
        _read_artifact,
        read_only=True,
    ),
)

BY_NAME: dict[str, Tool[Any]] = {tool.name: tool for tool in TOOLS}

# Tools that look at the caller's workspace (and so at its roots) when no working_directory is given.
USE_ROOTS = frozenset({names.INITIALIZE_SESSION, names.DETECT_WORKSPACE, names.LIST_SESSIONS})
