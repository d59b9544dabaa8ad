"""`taskweave prime`: a brief of the workspace's session for an agent's context.

Agents forget that the project has a task plan. A client's session-start hook
runs `taskweave prime`, and what it prints goes into the agent's context: what
taskweave is, who works on what and which paths their claims reserve, what is
ready, what is stuck, the latest messages between agents, and the calls to
continue. It runs at every session start, so it stays fast (it reads through
the domain, never the MCP stack), small (at most `MAX_BYTES` however large the
session: lists are cut, and say how many entries they left out), and quiet:
whatever goes wrong, it prints one line saying so and the command exits 0, so
a broken store never breaks the agent's start. It never creates or changes a
store: a SQLite file that is missing, unreadable or of another schema version
is reported before the store is opened.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from taskweave.core.messages import MessageView
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.sessions import FULL, Status
from taskweave.core.tasks import ListingPage
from taskweave.core.tool_names import (
    COMPLETE_TASK,
    EXECUTE_TASK,
    GET_STATUS,
    INITIALIZE_SESSION,
    PLAN_TASK,
    QUERY_TASKS,
    SYNTHESIZE_RESULTS,
)
from taskweave.core.views import ClaimView, TaskBrief
from taskweave.errors import TaskweaveError
from taskweave.store import POSTGRES_SCHEMES, store_location
from taskweave.workspace import detect_workspace

MAX_BYTES = 6_000
# How many of each list are read from the store; the byte budget then decides how many are shown.
STALLED_LIMIT = 20
MESSAGES_LIMIT = 10
TITLE_CHARS = 80
SUMMARY_CHARS = 120
MESSAGE_CHARS = 200
FIELD_CHARS = 160
CONNECTED_NAMES = 8


@dataclass
class Section:
    """A titled list the budget may shorten from its end; `more` counts the entries not shown."""

    title: str
    lines: list[str]
    more: int = 0
    open_ended: bool = False
    """The store was asked for no more entries than it gave: there may be more than `more`."""
    where: str = f"`{GET_STATUS}` lists them"

    def render(self) -> list[str]:
        if not self.lines and not self.more:
            return []
        rendered = ["", f"## {self.title}", *self.lines]
        if self.open_ended:
            rendered.append(f"- ... and {f'at least {self.more}' if self.more else 'maybe'} more: {self.where}.")
        elif self.more:
            rendered.append(f"- ... and {self.more} more: {self.where}.")
        return rendered


@dataclass
class Brief:
    head: list[str]
    sections: list[Section] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [*self.head]
        for section in self.sections:
            lines += section.render()
        return "\n".join([*lines, *self.tail]) + "\n"

    def fit(self, max_bytes: int = MAX_BYTES) -> str:
        """The text, shortened from the longest list until it is within `max_bytes`; whole lines only."""
        text = self.text()
        while len(text.encode()) > max_bytes:
            longest = max(self.sections, key=lambda section: len(section.lines), default=None)
            if longest is None or not longest.lines:
                break
            longest.lines.pop()
            longest.more += 1
            text = self.text()
        return text


# --- reading the store ------------------------------------------------------------------------


def prime(directory: str | None, store: str | None, *, clock: Callable[[], float] = time.time) -> str:
    """The brief of the active session of `directory`'s workspace, or a short text saying why there is none.

    The store is opened read-only: a hook never creates, migrates or changes it.
    """
    try:
        workspace = detect_workspace(directory)
    except TaskweaveError as error:
        return f"taskweave: prime could not tell the workspace ({one_line(error.message)}).\n"
    location = store_location(store)
    if not location.startswith(POSTGRES_SCHEMES) and not Path(location).expanduser().exists():
        return no_session(workspace.root, f"the store {Path(location).expanduser()} does not exist yet")
    try:
        with Orchestrator.open(location, read_only=True) as orchestrator:
            session_id = orchestrator.sessions.active_session_id(workspace)
            if session_id is None:
                return no_session(workspace.root)
            status = orchestrator.sessions.status(session_id, detail="full")
            stalled = orchestrator.tasks.query(session_id, status=["blocked", "failed"], limit=STALLED_LIMIT)
            messages = orchestrator.messages.recent(session_id, MESSAGES_LIMIT)
    except TaskweaveError as error:
        return (
            f"taskweave: prime could not read the store: {one_line(error.message)}. {one_line(error.hint)}. "
            "`taskweave check` tells more.\n"
        )
    return render(status, stalled, messages, clock())


# --- the text ------------------------------------------------------------------------------------

INTRO = (
    "This project coordinates its coding agents with taskweave (MCP server `taskweave`): a durable plan of tasks, "
    "who works on what, and the results, shared by every agent in this workspace and kept across restarts. "
    f"Work from that plan: claim a task with `{EXECUTE_TASK}`, hand it in with `{COMPLETE_TASK}`."
)


def no_session(root: str, why: str | None = None) -> str:
    reason = f" ({why})" if why else ""
    return (
        f"# taskweave\nNo taskweave session in this workspace yet: {clip(root, FIELD_CHARS)}{reason}.\n"
        "This project can coordinate its coding agents with taskweave (MCP server `taskweave`), a durable task plan "
        f'shared by every agent here. To start one: `{INITIALIZE_SESSION}` with working_directory "{clip(root, FIELD_CHARS)}", '
        f"then `{PLAN_TASK}`.\n"
    )


def render(status: Status, stalled: ListingPage, messages: Sequence[MessageView], now: float) -> str:
    """The brief of `status` (`detail="full"`), its blocked and failed tasks and its latest messages, within `MAX_BYTES`."""
    tasks = status["tasks"]
    names = {client["client_id"]: client["name"] for client in status["clients"]}
    counts = status["counts"]
    root = clip(status["workspace_root"] or "", FIELD_CHARS)
    progress = status["progress"]
    figures = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n) or "no tasks yet"
    head = [
        "# taskweave",
        INTRO,
        "",
        f'Session "{clip(status["session_name"], FIELD_CHARS)}" ({status["session_id"]}) of {root}: '
        f"{progress['total']} tasks, {progress['percent_complete']}% complete ({figures}).",
    ]
    connected = [clip(c["name"], 40) for c in status["clients"] if c["state"] == "connected"]
    if connected:
        others = f" and {len(connected) - CONNECTED_NAMES} more" if len(connected) > CONNECTED_NAMES else ""
        head.append(f"Agents connected: {', '.join(connected[:CONNECTED_NAMES])}{others}.")

    in_progress = tasks["in_progress"]
    ready = tasks["ready"]
    to_synthesize = tasks["to_synthesize"]
    stalled_tasks = stalled["tasks"]
    sections = [
        Section(
            f"In progress ({counts.get('in_progress', 0)})",
            [_working(task, names, now) for task in in_progress],
            more=max(counts.get("in_progress", 0) - len(in_progress), 0),
        ),
        Section(
            "Reserved paths (leave them to their holder until the claim ends)",
            [_reserved(task, claim, names) for task in in_progress if (claim := task.get("claim")) and _reserves(claim)],
            open_ended=counts.get("in_progress", 0) > len(in_progress),
        ),
        Section(
            "Ready next",
            [f"- {_task(task['title'], task['task_id'], task['specialist'], task['priority'])}" for task in ready],
            open_ended=len(ready) >= FULL.ready,
            where=f'`{GET_STATUS}` with detail "full" lists them',
        ),
        Section(
            f"Ready to synthesize (subtasks finished: `{SYNTHESIZE_RESULTS}` completes them)",
            [f"- {_task(task['title'], task['task_id'])}" for task in to_synthesize],
            open_ended=len(to_synthesize) >= FULL.to_synthesize,
            where=f'`{GET_STATUS}` with detail "full" lists them',
        ),
        Section(
            f"Blocked or failed ({stalled['total']})",
            [
                _stalled(task["status"], _task(task["title"], task["task_id"], task["specialist"]), task["summary"])
                for task in stalled_tasks
            ],
            more=stalled["total"] - len(stalled_tasks),
            where=f'`{QUERY_TASKS}` with status ["blocked", "failed"] lists them',
        ),
        Section(
            "Messages (latest first)",
            [_message(message, names, now) for message in messages],
            open_ended=len(messages) >= MESSAGES_LIMIT,
            where="each agent gets those meant for it in its next taskweave tool result",
        ),
    ]
    brief = Brief(head, sections, ["", "## To continue", *_next_calls(status, stalled["total"])])
    return brief.fit()


def _next_calls(status: Status, stalled: int) -> list[str]:
    tasks = status["tasks"]
    root = clip(status["workspace_root"] or "", FIELD_CHARS)
    calls = [
        f'`{INITIALIZE_SESSION}` with working_directory "{root}" attaches you to this session; pass the client_id '
        "it gave you before, if you have one, to get your claims back."
    ]
    if tasks["to_synthesize"]:
        parent = tasks["to_synthesize"][0]
        calls.append(f'`{SYNTHESIZE_RESULTS}` with task_id "{parent["task_id"]}" reports on its finished subtasks and completes it.')
    if tasks["ready"]:
        calls.append(
            f"`{EXECUTE_TASK}` without task_id claims the best ready task and returns its instructions "
            "(`paths` reserves the files you will change)."
        )
    elif tasks["in_progress"] or stalled:
        calls.append(f"`{GET_STATUS}` shows what the others are doing; nothing is ready to claim right now.")
    else:
        calls.append(f"`{PLAN_TASK}` plans the next piece of work (a parent with its subtasks in one call).")
    return [f"{number}. {call}" for number, call in enumerate(calls[:3], start=1)]


def _task(title: str, task_id: str, *details: str) -> str:
    return f'"{clip(title, TITLE_CHARS)}" ({", ".join([*details, task_id])})'


def _working(task: TaskBrief, names: dict[str, str], now: float) -> str:
    line = f"- {_task(task['title'], task['task_id'], task['specialist'])}"
    claim = task.get("claim")
    if claim is None:
        return line
    holder = clip(names.get(claim["client_id"], claim["client_id"]), 40)
    return f"{line}: {holder}, {lease_left(claim['expires_at'], now)}"


def _stalled(status: str, task: str, summary: str | None) -> str:
    why = f": {clip(summary, SUMMARY_CHARS)}" if summary else ""
    return f"- {status}: {task}{why}"


def _reserves(claim: ClaimView) -> bool:
    """A live claim with paths: a lapsed one no longer keeps anyone out."""
    return claim["live"] and bool(claim.get("paths"))


def _reserved(task: TaskBrief, claim: ClaimView, names: dict[str, str]) -> str:
    holder = clip(names.get(claim["client_id"], claim["client_id"]), 40)
    return f"- {clip(', '.join(claim.get('paths', [])), FIELD_CHARS)}: {holder} on {task['task_id']}"


def _message(message: MessageView, names: dict[str, str], now: float) -> str:
    to = clip(names.get(message["to"], message["to"]), 40)
    about = f" about {message['task_id']}" if "task_id" in message else ""
    when = f", {ago(message['at'], now)}" if message["at"] else ""
    return f"- {clip(message['sender_name'], 40)} to {to}{about}{when}: {clip(message['text'], MESSAGE_CHARS)}"


def lease_left(expires_at: str | None, now: float) -> str:
    """How long a claim lasts without its holder's activity: "4 min left", or "lease lapsed 2 min ago"."""
    if expires_at is None:
        return "no lease"
    left = datetime.fromisoformat(expires_at).timestamp() - now
    if left < 0:
        return f"lease lapsed {duration(-left)} ago"
    return f"{duration(left)} left"


def ago(at: str, now: float) -> str:
    return f"{duration(max(now - datetime.fromisoformat(at).timestamp(), 0))} ago"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def clip(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def one_line(message: str) -> str:
    """An error message fit to sit in parentheses inside a sentence."""
    return clip(message, 2 * FIELD_CHARS).rstrip(".")


def hook_output(text: str, client: str | None) -> str:
    """What a client's session-start hook prints for `text` to reach the agent's context.

    Claude Code and Codex add plain stdout to the context. Gemini CLI reads only JSON from a hook, and takes
    `hookSpecificOutput.additionalContext`; Cursor takes `additional_context`.
    """
    if client == "gemini":
        return json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}}) + "\n"
    if client == "cursor":
        return json.dumps({"additional_context": text}) + "\n"
    return text
