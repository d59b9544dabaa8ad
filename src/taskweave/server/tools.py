"""The MCP tool contract: names, compact input schemas, and the domain call behind each.

Each handler is a plain function of a `Call` (who is calling, in which
session) and the checked arguments; it returns the JSON object the tool
answers with. Nothing here knows about JSON-RPC or transports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taskweave.core.model import COMPLETION_STATUSES, PRIORITIES, STATUSES
from taskweave.core.service import ClientInfo, Orchestrator
from taskweave.server.schema import array, boolean, integer, obj, string
from taskweave.workspace import Detection


@dataclass
class Call:
    """One tool call as the domain sees it."""

    orchestrator: Orchestrator
    client: ClientInfo
    session_id: str | None
    client_id: str | None
    detect: Callable[[str | None], Detection]
    bound: dict[str, str] = field(default_factory=dict)

    def bind(self, session_id: str, client_id: str | None) -> None:
        """Ask the server to bind this connection to a session (and client) after the call."""
        self.bound = {"session_id": session_id, **({"client_id": client_id} if client_id else {})}


Handler = Callable[[Call, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]
    handler: Handler
    needs_session: bool = True
    needs_client: bool = False
    read_only: bool = False


# session_id and client_id default to what this connection was bound to by initialize; the
# server instructions say so once instead of every schema repeating it.
_SESSION_ID = string()
_CLIENT_ID = string()
_KEY = string("Same key + same arguments returns the first result.")
_PRIORITY = string(enum=tuple(PRIORITIES))


def _session_props(**properties: Any) -> dict[str, Any]:
    return {**properties, "session_id": _SESSION_ID, "client_id": _CLIENT_ID}


def _initialize(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    workspace = call.detect(args.get("working_directory"))
    result = call.orchestrator.initialize_session(
        workspace,
        session_name=args.get("session_name"),
        new_session=bool(args.get("new_session")),
        client=call.client,
        client_id=args.get("client_id"),
    )
    call.bind(result["session_id"], result["client_id"])
    return result


def _status(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.get_status(
        call.session_id, include_completed=bool(args.get("include_completed")), since=args.get("since")
    )


def _plan(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.plan_task(
        call.session_id,
        call.client_id,
        title=args["title"],
        description=args["description"],
        parent_task_id=args.get("parent_task_id"),
        specialist=args.get("specialist"),
        dependencies=args.get("dependencies") or [],
        priority=args.get("priority"),
        subtasks=args.get("subtasks") or [],
        idempotency_key=args.get("idempotency_key"),
    )


def _execute(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.execute_task(
        call.session_id,
        call.client_id,
        args.get("task_id"),
        lease_seconds=args.get("lease_seconds"),
        specialist=args.get("specialist"),
        idempotency_key=args.get("idempotency_key"),
    )


def _complete(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.complete_task(
        call.session_id,
        call.client_id,
        args["task_id"],
        summary=args["summary"],
        detailed_work=args.get("detailed_work"),
        artifacts=args.get("artifacts") or [],
        status=args.get("status") or "completed",
        idempotency_key=args.get("idempotency_key"),
    )


_UPDATABLE = ("title", "description", "specialist", "priority", "status", "dependencies", "parent_task_id", "summary")


def _update(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    changes = {name: args[name] for name in _UPDATABLE if name in args}
    return call.orchestrator.update_task(
        call.session_id,
        call.client_id,
        args["task_id"],
        changes,
        expected_version=args.get("expected_version"),
        idempotency_key=args.get("idempotency_key"),
    )


def _query(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    status = args.get("status")
    return call.orchestrator.query_tasks(
        call.session_id,
        status=[status] if isinstance(status, str) else status or [],
        specialist=args.get("specialist"),
        parent_task_id=args.get("parent_task_id"),
        text=args.get("text"),
        limit=args.get("limit", 50),
        offset=args.get("offset", 0),
    )


def _cancel(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.cancel_task(
        call.session_id,
        call.client_id,
        args["task_id"],
        reason=args.get("reason"),
        cascade=bool(args.get("cascade")),
        idempotency_key=args.get("idempotency_key"),
    )


def _synthesize(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.synthesize_results(
        call.session_id,
        call.client_id,
        parent_task_id=args.get("parent_task_id"),
        idempotency_key=args.get("idempotency_key"),
    )


def _list_sessions(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    workspace = None if args.get("all") else call.detect(args.get("working_directory"))
    return call.orchestrator.list_sessions(workspace)


def _resume(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    result = call.orchestrator.resume_session(args["session_id"], call.client_id)
    call.bind(args["session_id"], call.client_id)
    return result


def _end(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.orchestrator.end_session(call.session_id, call.client_id)


def _detect(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    return call.detect(args.get("working_directory")).to_dict()


_SUBTASK = obj(
    {
        "title": string(),
        "description": string(),
        "specialist": string(),
        "priority": _PRIORITY,
        "dependencies": array({"anyOf": [{"type": "integer"}, {"type": "string"}]}, "Earlier subtask index or task id."),
    },
    required=("title",),
)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "orchestrator_initialize_session",
        "Attach to this workspace's orchestration session (created if none). Call first; keep the client_id.",
        obj(
            {
                "working_directory": string("Project directory; default: client roots, else server cwd."),
                "session_name": string(),
                "new_session": boolean("Start another session instead of attaching."),
                "client_id": string("Your earlier client_id, to get your identity and claims back."),
            }
        ),
        _initialize,
        needs_session=False,
    ),
    ToolSpec(
        "orchestrator_get_status",
        "Session at a glance: counts, tasks in progress, ready next, recent changes, clients, claims.",
        obj(_session_props(include_completed=boolean(), since=integer("Also list events after this seq."))),
        _status,
        read_only=True,
    ),
    ToolSpec(
        "orchestrator_plan_task",
        "Create a task, or a parent with subtasks, atomically. Subtask dependencies: earlier index or task id.",
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
        _plan,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_execute_task",
        "Claim a task (no task_id: the best ready one) and get its instructions and its dependencies' summaries.",
        obj(
            _session_props(
                task_id=string(),
                specialist=string("Without task_id: only tasks for this role."),
                lease_seconds=integer("Claim lease, renewed by your activity."),
                idempotency_key=_KEY,
            )
        ),
        _execute,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_complete_task",
        "Record a claimed task's result and release it. Long output goes into detailed_work, not summary.",
        obj(
            _session_props(
                task_id=string(),
                summary=string(),
                detailed_work=string(),
                artifacts=array(obj({"name": string(), "content": string(), "mime_type": string()}, ("name", "content"))),
                status=string(enum=COMPLETION_STATUSES),
                idempotency_key=_KEY,
            ),
            ("task_id", "summary"),
        ),
        _complete,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_update_task",
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
        _update,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_query_tasks",
        "Filter and page the session's tasks.",
        obj(
            _session_props(
                status={"anyOf": [string(enum=STATUSES), array(string(enum=STATUSES))]},
                specialist=string(),
                parent_task_id=string(),
                text=string(),
                limit=integer(),
                offset=integer(),
            )
        ),
        _query,
        read_only=True,
    ),
    ToolSpec(
        "orchestrator_cancel_task",
        "Cancel a task; cascade also cancels its open subtasks.",
        obj(_session_props(task_id=string(), reason=string(), cascade=boolean(), idempotency_key=_KEY), ("task_id",)),
        _cancel,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_synthesize_results",
        "Combine completed work of a parent task (or the session) into a Markdown report, kept as an artifact.",
        obj(_session_props(parent_task_id=string(), idempotency_key=_KEY)),
        _synthesize,
        needs_client=True,
    ),
    ToolSpec(
        "orchestrator_list_sessions",
        "Sessions of this workspace (or all): status, counts, last activity, connected clients.",
        obj({"working_directory": string(), "all": boolean()}),
        _list_sessions,
        needs_session=False,
        read_only=True,
    ),
    ToolSpec(
        "orchestrator_resume_session",
        "Bind this connection to a session (reactivating it if ended).",
        obj({"session_id": string(), "client_id": _CLIENT_ID}, ("session_id",)),
        _resume,
        needs_session=False,
    ),
    ToolSpec(
        "orchestrator_end_session",
        "End a session; its data stays and it can be resumed.",
        obj(_session_props()),
        _end,
    ),
    ToolSpec(
        "orchestrator_detect_workspace",
        "Diagnostics: the workspace root, types and evidence for a path.",
        obj({"working_directory": string()}),
        _detect,
        needs_session=False,
        read_only=True,
    ),
)

BY_NAME = {tool.name: tool for tool in TOOLS}
