"""Reading what a `taskweave://` URI names, as text: for resources, and for clients that have only tools."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypedDict

from taskweave.core import limits, uris
from taskweave.core.messages import Messages
from taskweave.core.reports import Reports
from taskweave.core.sessions import Sessions
from taskweave.core.tasks import Tasks
from taskweave.core.tool_names import GET_STATUS, QUERY_TASKS
from taskweave.errors import InvalidInput, NotFound, shown

DEFAULT_READ_CHARS = 3_000
MAX_READ_CHARS = 100_000


@dataclass(frozen=True)
class Text:
    uri: str
    text: str
    media_type: str


class Page(TypedDict):
    uri: str
    media_type: str
    text: str
    offset: int
    total_chars: int
    next_offset: int | None


class Reading:
    def __init__(self, sessions: Sessions, tasks: Tasks, reports: Reports, messages: Messages) -> None:
        self.sessions = sessions
        self.tasks = tasks
        self.reports = reports
        self.messages = messages

    def resource(self, uri: str) -> Text:
        """The status, task or artifact `uri` names; statuses and tasks as JSON."""
        name = uris.parse(uri)
        if name is None:
            raise NotFound(
                f"Unknown resource {shown(uri)}.",
                hint=f"Use a taskweave:// URI a tool returned ({GET_STATUS} and {QUERY_TASKS} list them).",
            )
        if name.session_id:
            return Text(uri, json.dumps(self.sessions.status(name.session_id), ensure_ascii=False), "application/json")
        if name.task_id:
            return Text(uri, json.dumps(self.tasks.detail(name.task_id), ensure_ascii=False), "application/json")
        if name.message_id:
            return Text(uri, self.messages.message(name.message_id)["text"], "text/plain")
        assert name.artifact_id is not None
        artifact = self.reports.artifact(name.artifact_id)
        return Text(uri, artifact["content"], artifact["mime_type"])

    def session_of(self, uri: str) -> str | None:
        """The session whose data `uri` names; None when it names nothing."""
        name = uris.parse(uri)
        if name is None:
            return None
        if name.session_id:
            return name.session_id
        with self.tasks.domain.reading() as tx:
            if name.task_id:
                task = tx.task(name.task_id)
                return task["session_id"] if task else None
            if name.artifact_id:
                artifact = tx.artifact(name.artifact_id)
                return artifact["session_id"] if artifact else None
            message = tx.message(name.message_id or "")
            return message["session_id"] if message else None

    def page(self, *, uri: str | None, artifact_id: str | None, offset: int, max_chars: int) -> Page:
        """`max_chars` characters of what `uri` (or `artifact_id`) names, from `offset`; `next_offset` goes on."""
        if (uri is None) == (artifact_id is None):
            raise InvalidInput("Pass exactly one of 'uri' and 'artifact_id'.", hint="For example uri=taskweave://artifacts/a_...")
        limits.between("offset", offset, 0, limits.EVENT_SEQ_MAX)
        limits.between("max_chars", max_chars, 1, MAX_READ_CHARS)
        found = self.resource(uri if uri is not None else uris.artifact_uri(artifact_id or ""))
        end = offset + max_chars
        total = len(found.text)
        return {
            "uri": found.uri,
            "media_type": found.media_type,
            "text": found.text[offset:end],
            "offset": offset,
            "total_chars": total,
            "next_offset": end if end < total else None,
        }
