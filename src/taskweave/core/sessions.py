"""Sessions: attaching to one, seeing it at a glance, listing, ending and resuming them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from taskweave.core import limits, specialists
from taskweave.core.clients import ClientInfo, bind_client
from taskweave.core.domain import Domain, session_by_id, specialist_overrides
from taskweave.core.rules import next_steps
from taskweave.core.tool_names import (
    COMPLETE_TASK,
    EXECUTE_TASK,
    INITIALIZE_SESSION,
    PLAN_TASK,
    RESUME_SESSION,
    SYNTHESIZE_RESULTS,
)
from taskweave.core.uris import status_uri
from taskweave.core.views import (
    ClaimView,
    ClientView,
    EventView,
    Progress,
    Summary,
    TaskBrief,
    claim_view,
    client_view,
    event_view,
    fit,
    iso,
    progress,
    summary,
    task_brief,
)
from taskweave.errors import Conflict, InvalidInput, NotFound, shown
from taskweave.store import Transaction

if TYPE_CHECKING:
    from taskweave.workspace import Detection

DEFAULT_SESSION_NAME = "main"
SESSIONS_LIMIT = 50


@dataclass(frozen=True)
class Sizes:
    """How many of each kind of entry an answer lists: answers stay small at any session size."""

    in_progress: int
    ready: int
    to_synthesize: int
    recent: int
    clients: int
    events: int


# Every default answer stays within a few kilobytes; `detail="full"` asks for the long lists.
BRIEF = Sizes(in_progress=8, ready=5, to_synthesize=3, recent=3, clients=5, events=20)
FULL = Sizes(in_progress=50, ready=20, to_synthesize=20, recent=20, clients=50, events=200)
DETAILS = ("brief", "full")

GUIDANCE = (
    "This session is shared and durable: every agent in this workspace sees the same plan. "
    f"Plan work with {PLAN_TASK} (a parent with subtasks in one call), claim a task with "
    f"{EXECUTE_TASK}, finish it with {COMPLETE_TASK} (long output goes into "
    f"detailed_work), and combine a parent's results with {SYNTHESIZE_RESULTS}, which completes it. "
    f"Keep client_id: pass it to {INITIALIZE_SESSION} after a reconnect to keep your claims."
)


class WorkspaceView(TypedDict):
    id: str
    root: str
    types: list[str]
    vcs: str | None
    warnings: list[str]


class Attachment(TypedDict):
    """The answer of `orchestrator_initialize_session`."""

    session_id: str
    session_name: str
    attached: bool
    client_id: str
    workspace: WorkspaceView
    summary: Summary
    active_tasks: list[TaskBrief]
    ready_tasks: list[TaskBrief]
    to_synthesize: list[TaskBrief]
    your_claims: list[str]
    status_uri: str
    guidance: str
    next_steps: list[str]
    cut: NotRequired[dict[str, int]]


class HeldClaim(ClaimView):
    task_id: str


class StatusTasks(TypedDict):
    in_progress: list[TaskBrief]
    ready: list[TaskBrief]
    to_synthesize: list[TaskBrief]
    recently_updated: list[TaskBrief]


class ClientCounts(TypedDict):
    connected: int
    listed: int


class Status(TypedDict):
    """The session at a glance (`orchestrator_get_status` and the status resource)."""

    session_id: str
    session_name: str
    session_status: str
    workspace_root: str | None
    counts: dict[str, int]
    progress: Progress
    tasks: StatusTasks
    clients: list[ClientView]
    last_event_seq: int
    last_activity_at: str | None
    claims: NotRequired[list[HeldClaim]]
    events: NotRequired[list[EventView]]
    events_truncated: NotRequired[bool]
    next_since: NotRequired[int]
    cut: NotRequired[dict[str, int]]


class Ended(TypedDict):
    session_id: str
    status: str
    summary: Summary
    ended_at: str | None


class SessionEntry(TypedDict):
    session_id: str
    name: str
    status: str
    workspace_root: str
    counts: dict[str, int]
    created_at: str | None
    last_activity_at: str | None
    connected_clients: int


class SessionList(TypedDict):
    workspace_root: str | None
    sessions: list[SessionEntry]
    cut: NotRequired[dict[str, int]]


class Sessions:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def initialize(
        self,
        workspace: Detection,
        *,
        session_name: str | None = None,
        new_session: bool = False,
        client: ClientInfo = ClientInfo(),
        client_id: str | None = None,
    ) -> Attachment:
        """Attach to the workspace's session, creating one only when none fits; register the client."""
        name = limits.text("session_name", session_name, limits.NAME)
        refuse_too_wide(workspace.root)
        now = self.domain.clock()
        overrides = specialists.specialist_overrides(workspace.config)
        with self.domain.store.transaction() as tx:
            ws = tx.upsert_workspace(workspace.identity, workspace.root, list(workspace.types), workspace.vcs, now)
            tx.lock_workspace(ws["id"])
            session = None if new_session else tx.active_session(ws["id"], name)
            attached = session is not None
            if session is None:
                if new_session and name and tx.active_session(ws["id"], name):
                    raise Conflict(
                        f"An active session named {shown(name)} already exists in this workspace.",
                        hint="Omit new_session to attach to it, or choose another session_name.",
                    )
                final_name = name or _free_session_name(tx, ws["id"], new_session)
                session = tx.insert_session(ws["id"], final_name, {"specialists": overrides}, now)
                tx.append_event(session["id"], "session.created", client_id, now, name=final_name)
            else:
                tx.lock_session(session["id"])
            if attached and specialist_overrides(session) != overrides:
                tx.set_session_metadata(session["id"], {**json.loads(session["metadata"]), "specialists": overrides})
            client_row = bind_client(tx, session["id"], client, client_id, now)
            figures = summary(tx.work_counts(session["id"]))
            in_progress = tx.tasks_with_status(session["id"], "in_progress", BRIEF.in_progress)
            ready = tx.ready_tasks(session["id"], BRIEF.ready)
            parents_done = tx.to_synthesize(session["id"], BRIEF.to_synthesize)
            mine = [t["id"] for t in tx.claims_of(session["id"], client_row["id"])]
        warnings = [str(w) for w in workspace.evidence.get("warnings", [])]
        attachment: Attachment = {
            "session_id": session["id"],
            "session_name": session["name"],
            "attached": attached,
            "client_id": client_row["id"],
            "workspace": {
                "id": ws["id"],
                "root": workspace.root,
                "types": list(workspace.types),
                "vcs": workspace.vcs,
                "warnings": warnings,
            },
            "summary": figures,
            "active_tasks": [task_brief(t, now) for t in in_progress],
            "ready_tasks": [task_brief(t, now) for t in ready],
            "to_synthesize": [task_brief(t, now) for t in parents_done],
            "your_claims": mine,
            "status_uri": status_uri(session["id"]),
            "guidance": GUIDANCE,
            "next_steps": [*_root_warning(workspace), *next_steps(figures, mine, ready, parents_done)],
        }
        lists = {"active_tasks": attachment["active_tasks"], "ready_tasks": attachment["ready_tasks"]}
        if cut := fit(attachment, lists):
            attachment["cut"] = cut
        return attachment

    def active_session_id(self, workspace: Detection) -> str | None:
        with self.domain.reading() as tx:
            ws = tx.workspace_by_identity(workspace.identity)
            session = tx.active_session(ws["id"], None) if ws else None
        return session["id"] if session else None

    def status(
        self, session_id: str, *, include_completed: bool = False, since: int | None = None, detail: str = "brief"
    ) -> Status:
        """The session at a glance, at a cost and a size that do not grow with the number of tasks.

        `detail="full"` lists more of each kind, every client with its details, and the claims apart.
        """
        if detail not in DETAILS:
            raise InvalidInput(f"'detail' is {shown(detail)}.", hint=f"Use one of: {', '.join(DETAILS)}.")
        if since is not None:
            limits.between("since", since, 0, limits.EVENT_SEQ_MAX)
        sizes = FULL if detail == "full" else BRIEF
        now = self.domain.clock()
        lease = self.domain.settings.lease_seconds
        with self.domain.reading() as tx:
            session = session_by_id(tx, session_id)
            ws = tx.workspace(session["workspace_id"])
            counts = tx.work_counts(session_id)
            in_progress = tx.tasks_with_status(session_id, "in_progress", sizes.in_progress)
            ready = tx.ready_tasks(session_id, sizes.ready)
            parents_done = tx.to_synthesize(session_id, sizes.to_synthesize)
            listed = {t["id"] for t in (*in_progress, *ready, *parents_done)}
            recent = [
                t for t in tx.recently_updated(session_id, sizes.recent + len(listed), include_completed)
                if t["id"] not in listed
            ][: sizes.recent]
            clients = tx.clients(session_id, sizes.clients, connected_since=None if detail == "full" else now - lease)
            events = tx.events_since(session_id, since, sizes.events + 1) if since is not None else None
        figures = summary(counts)
        result: Status = {
            "session_id": session_id,
            "session_name": session["name"],
            "session_status": session["status"],
            "workspace_root": ws["root"] if ws else None,
            "counts": figures["counts"],
            "progress": progress(figures),
            "tasks": {
                "in_progress": [task_brief(t, now) for t in in_progress],
                "ready": [task_brief(t, now) for t in ready],
                "to_synthesize": [task_brief(t, now) for t in parents_done],
                "recently_updated": [task_brief(t, now) for t in recent],
            },
            "clients": [client_view(c, now, lease, brief=detail != "full") for c in clients],
            "last_event_seq": session["last_event_seq"],
            "last_activity_at": iso(session["last_activity_at"]),
        }
        if detail == "full":
            result["claims"] = [
                {**claim, "task_id": t["id"]} for t in in_progress if (claim := claim_view(t, now)) is not None
            ]
        listed_events = [event_view(e) for e in events[: sizes.events]] if events is not None else []
        if events is not None:
            result["events"] = listed_events
        if detail != "full":
            tasks = result["tasks"]
            lists: dict[str, list[Any]] = {
                "in_progress": tasks["in_progress"],
                "ready": tasks["ready"],
                "recently_updated": tasks["recently_updated"],
                "events": listed_events,
            }
            if cut := fit(result, lists):
                result["cut"] = cut
        if events is not None:
            result["events_truncated"] = len(listed_events) < len(events)
            if result["events_truncated"]:
                result["next_since"] = listed_events[-1]["seq"] if listed_events else since or 0
        return result

    def resume(self, session_id: str, actor: str | None) -> Status:
        now = self.domain.clock()
        with self.domain.store.transaction() as tx:
            session = session_by_id(tx, session_id)
            # Like initialize: one writer at a time decides which session of a name is the active one.
            tx.lock_workspace(session["workspace_id"])
            if session["status"] != "active":
                if tx.active_session(session["workspace_id"], session["name"]):
                    raise Conflict(
                        f"Another active session in this workspace is already named {session['name']!r}.",
                        hint="End that session first, or keep working in it.",
                    )
                tx.set_session_status(session_id, "active", now)
                tx.append_event(session_id, "session.resumed", actor, now)
            if actor is not None:
                tx.touch_client(actor, session_id, now)
        return self.status(session_id)

    def end(self, session_id: str, actor: str | None) -> Ended:
        now = self.domain.clock()
        with self.domain.store.transaction() as tx:
            session = session_by_id(tx, session_id)
            if session["status"] == "ended":
                raise Conflict(
                    f"Session {session_id} has already ended.",
                    hint=f"Resume it with {RESUME_SESSION} to work in it again.",
                )
            tx.set_session_status(session_id, "ended", now)
            tx.append_event(session_id, "session.ended", actor, now)
            counts = tx.work_counts(session_id)
        return {"session_id": session_id, "status": "ended", "summary": summary(counts), "ended_at": iso(now)}

    def listing(
        self, workspace: Detection | None, *, within: tuple[str, ...] | None = None, limit: int = SESSIONS_LIMIT
    ) -> SessionList:
        """The sessions of `workspace` (None: of every workspace, or of those under `within`), most recent first."""
        now = self.domain.clock()
        seen_since = now - self.domain.settings.lease_seconds
        with self.domain.reading() as tx:
            workspace_id = None
            if workspace is not None:
                ws = tx.workspace_by_identity(workspace.identity)
                if ws is None:
                    return {"workspace_root": workspace.root, "sessions": []}
                workspace_id = ws["id"]
            sessions: list[SessionEntry] = [
                {
                    "session_id": s["id"],
                    "name": s["name"],
                    "status": s["status"],
                    "workspace_root": s["workspace_root"],
                    "counts": summary(tx.work_counts(s["id"]))["counts"],
                    "created_at": iso(s["created_at"]),
                    "last_activity_at": iso(s["last_activity_at"]),
                    "connected_clients": tx.connected_client_count(s["id"], seen_since),
                }
                for s in tx.sessions(workspace_id, limit, within)
            ]
        listing: SessionList = {"workspace_root": workspace.root if workspace else None, "sessions": sessions}
        if cut := fit(listing, {"sessions": sessions}):
            listing["cut"] = cut
        return listing


def _free_session_name(tx: Transaction, workspace_id: str, new_session: bool) -> str:
    if not new_session and tx.active_session(workspace_id, DEFAULT_SESSION_NAME) is None:
        return DEFAULT_SESSION_NAME
    taken = tx.session_names(workspace_id)
    number = len(taken) + 1
    while f"session-{number}" in taken:
        number += 1
    return f"session-{number}"


def no_active_session(workspace_root: str, hint: str = f"Call {INITIALIZE_SESSION} first.") -> NotFound:
    return NotFound(f"No active session in the workspace {workspace_root}.", hint=hint)


def refuse_too_wide(root: str) -> None:
    """A session never spans the whole filesystem or a home directory: that is not a project."""
    home = os.path.realpath(os.path.expanduser("~"))
    if root in (os.sep, home):
        where = "the filesystem root" if root == os.sep else "your home directory"
        raise InvalidInput(
            f"The workspace would be {root}, {where}, not a project.",
            hint=f"Pass working_directory (your project's directory) to {INITIALIZE_SESSION}, "
            "or start your client in the project.",
        )


def _root_warning(workspace: Detection) -> list[str]:
    """The first next step when the root was chosen for want of any project marker."""
    if workspace.evidence.get("rule") != "start":
        return []
    return [
        f"Check the workspace: {workspace.root} holds no version control or project marker, so it was taken "
        f"as is. If your project is elsewhere, call {INITIALIZE_SESSION} again with working_directory."
    ]
