"""Messages between agents (or from a person): hand-offs, questions, notices.

A message goes to one client, to a specialist, or to everyone in the session.
Many clients drop server notifications, so a message reaches its recipient in
the recipient's next tool result, once: a client keeps a cursor of the last
message it was given (kept in the store, so a client that reconnects with its
`client_id` gets what it missed, and nothing is lost on restart); a message to
a specialist goes to the first agent working on one of that specialist's tasks.
Every message is in the event log.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from taskweave.core import limits, specialists
from taskweave.core.domain import Change, Domain, Write, session_by_id
from taskweave.core.tool_names import COMPLETE_TASK, READ_ARTIFACT
from taskweave.core.uris import message_uri
from taskweave.core.views import iso
from taskweave.errors import InvalidInput, NotFound, shown
from taskweave.store.records import MessageRow, TaskRow
from taskweave.store.transaction import new_id

EVERYONE = "all"
MESSAGE_CHARS = 4_000
# What one answer carries: a flood of messages never makes one answer large; the rest come in later answers.
DELIVERED_PER_ANSWER = 3
EXCERPT_CHARS = 400


class MessageView(TypedDict):
    message_id: str
    seq: int
    sent_by: str | None
    sender_name: str
    to: str
    text: str
    at: str | None
    task_id: NotRequired[str]
    uri: NotRequired[str]


class Sent(TypedDict):
    message_id: str
    to: str
    delivery: str


class Messages:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def send(
        self,
        session_id: str,
        actor: str | None,
        to: str,
        text: str,
        *,
        task_id: str | None = None,
        sender_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Sent:
        """Send `text` to a client (its client_id), a specialist (its name) or everyone (`all`)."""
        body = limits.text("text", text, MESSAGE_CHARS, required=True) or ""
        recipient = limits.text("to", to, limits.IDEMPOTENCY_KEY, required=True) or ""
        arguments = {"to": recipient, "text": body, "task_id": task_id}
        request = Write(session_id, actor, "send_message", arguments, idempotency_key)

        def send(change: Change) -> Sent:
            kind, addressee, delivery = _recipient(change, recipient)
            if task_id is not None:
                change.task(task_id)
            name = sender_name or _sender_name(change)
            message_id = post(change, kind, addressee, body, task_id=task_id, sender_name=name)
            return {"message_id": message_id, "to": addressee or EVERYONE, "delivery": delivery}

        return self.domain.write(request, send)

    def take(self, session_id: str, client_id: str) -> list[MessageView]:
        """The client's next unread messages (at most `DELIVERED_PER_ANSWER`), marked as given to it."""
        with self.domain.reading() as tx:
            cursor = tx.message_cursor(session_id, client_id)
            if cursor is None:
                return []
            behind = cursor["latest"] > cursor["seen"]
            if not behind and not (cursor["waiting"] and tx.unread_messages(session_id, client_id, 1)):
                return []
        with self.domain.store.transaction() as tx:
            tx.lock_session(session_id)
            rows = tx.unread_messages(session_id, client_id, DELIVERED_PER_ANSWER)
            tx.mark_messages_given(session_id, client_id, rows, self.domain.clock())
        return [message_view(row, excerpt=True) for row in rows]

    def recent(self, session_id: str, limit: int) -> list[MessageView]:
        """The session's latest messages, newest first, whoever they were for."""
        with self.domain.reading() as tx:
            session_by_id(tx, session_id)
            rows = tx.recent_messages(session_id, limit)
        return [message_view(row) for row in rows]

    def message(self, message_id: str) -> MessageView:
        with self.domain.reading() as tx:
            row = tx.message(message_id)
        if row is None:
            raise NotFound(f"No message {shown(message_id)}.", hint="Use a message URI a tool returned.")
        return message_view(row)


def post(
    change: Change, kind: str, addressee: str | None, body: str, *, task_id: str | None = None, sender_name: str
) -> str:
    """Store a message in the change's session and log it; its id."""
    message_id = new_id("m")
    change.tx.insert_message(
        {
            "id": message_id,
            "session_id": change.session_id,
            "sender": change.actor,
            "sender_name": sender_name,
            "recipient_kind": kind,
            "recipient": addressee,
            "task_id": task_id,
            "body": body,
            "created_at": change.now,
        }
    )
    change.event("message.sent", task_id, message_id=message_id, to=addressee or EVERYONE, text=body[:EXCERPT_CHARS])
    return message_id


def tell_holder(change: Change, holder: str, task: TaskRow, what: str) -> None:
    """Let the client whose claim was taken know, in its next tool result."""
    text = (
        f"Your claim on task {task['id']} ({task['title']!r}) was {what} by {change.actor or 'someone'}. "
        f"Stop working on it; you can still hand in what you have with {COMPLETE_TASK}."
    )
    post(change, "client", holder, text, task_id=task["id"], sender_name="taskweave")


def _recipient(change: Change, to: str) -> tuple[str, str | None, str]:
    """(kind, addressee, how it will be delivered) for `to`, or a refusal that lists what exists."""
    if to == EVERYONE:
        return "all", None, "to every other client of the session, in its next tool result"
    client = change.tx.client(to)
    if client is not None:
        if client["session_id"] != change.session_id:
            raise NotFound(f"Client {shown(to)} is not in this session.", hint="Send to a client of this session.")
        return "client", to, "in that client's next tool result (or when it reconnects with its client_id)"
    roles = specialists.available(change.specialist_overrides)
    role = to.strip().lower()
    if role in roles:
        return "specialist", role, f"to the first agent working on a {role} task, in its next tool result"
    if to.startswith("c_"):
        raise NotFound(f"No client {shown(to)}.", hint="Use a client_id from orchestrator_get_status.")
    raise InvalidInput(
        f"{shown(to)} is neither a client_id, a specialist nor {EVERYONE!r}.",
        hint=f"Send to a client_id, to one of: {', '.join(sorted(roles))}, or to {EVERYONE!r}.",
    )


def _sender_name(change: Change) -> str:
    client = change.tx.client(change.actor) if change.actor else None
    return client["name"] if client else "someone"


def message_view(row: MessageRow, *, excerpt: bool = False) -> MessageView:
    text = row["body"]
    view: MessageView = {
        "message_id": row["id"],
        "seq": row["seq"],
        "sent_by": row["sender"],
        "sender_name": row["sender_name"],
        "to": row["recipient"] or EVERYONE,
        "text": text,
        "at": iso(row["created_at"]),
    }
    if row["task_id"]:
        view["task_id"] = row["task_id"]
    if excerpt and len(text) > EXCERPT_CHARS:
        view["text"] = text[:EXCERPT_CHARS] + f"... [cut; read it whole with {READ_ARTIFACT}]"
        view["uri"] = message_uri(row["id"])
    return view

