"""The `taskweave://` resource URI scheme: how the domain names a resource, and how a URI is read back."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "taskweave://"
STATUS_TEMPLATE = "taskweave://sessions/{session_id}/status"
TASK_TEMPLATE = "taskweave://tasks/{task_id}"
ARTIFACT_TEMPLATE = "taskweave://artifacts/{artifact_id}"
MESSAGE_TEMPLATE = "taskweave://messages/{message_id}"

_URI = re.compile(
    r"^taskweave://(?:sessions/(?P<session>[^/]+)/status|tasks/(?P<task>[^/]+)|artifacts/(?P<artifact>[^/]+)"
    r"|messages/(?P<message>[^/]+))$"
)


def status_uri(session_id: str) -> str:
    return STATUS_TEMPLATE.format(session_id=session_id)


def task_uri(task_id: str) -> str:
    return TASK_TEMPLATE.format(task_id=task_id)


def artifact_uri(artifact_id: str) -> str:
    return ARTIFACT_TEMPLATE.format(artifact_id=artifact_id)


def message_uri(message_id: str) -> str:
    return MESSAGE_TEMPLATE.format(message_id=message_id)


@dataclass(frozen=True)
class ResourceName:
    """What a `taskweave://` URI names: exactly one of a session's status, a task, an artifact, a message."""

    session_id: str | None = None
    task_id: str | None = None
    artifact_id: str | None = None
    message_id: str | None = None


def parse(uri: str) -> ResourceName | None:
    match = _URI.match(uri)
    if match is None:
        return None
    return ResourceName(
        session_id=match["session"], task_id=match["task"], artifact_id=match["artifact"], message_id=match["message"]
    )
