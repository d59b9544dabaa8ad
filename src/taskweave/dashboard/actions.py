"""The dashboard's actions: each one call of the domain, as the person's own client, so it is in the event log.

The guard has already checked the request's CSRF token. A refusal of the
domain (a live claim, a stale version...) is shown to the person with its
message and hint, as the tools show it to agents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from taskweave.core.clients import ClientInfo
from taskweave.core.model import PRIORITIES
from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskChanges
from taskweave.dashboard.rendering import Templates
from taskweave.errors import Conflict, InvalidInput, NotFound, TaskweaveError
from taskweave.server.access import Forbidden
from taskweave.server.dispatch import RunDomain
from taskweave.server.http.bearer_auth import principal_of

REFUSAL_STATUS = {InvalidInput: 400, NotFound: 404, Conflict: 409, Forbidden: 403}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    hint: str = ""


class Actions:
    def __init__(self, orchestrator: Orchestrator, templates: Templates, run_domain: RunDomain) -> None:
        self.orchestrator = orchestrator
        self.templates = templates
        self.run_domain = run_domain
        self._actors: dict[tuple[str, str | None], str] = {}

    def actor(self, session_id: str, person: str | None) -> str:
        """The client the dashboard acts as for `person` (the token's principal; None without tokens)
        in `session_id`, registered at their first action there."""
        key = (session_id, person)
        if key not in self._actors:
            client = ClientInfo(name="dashboard", transport="dashboard", principal=person)
            self._actors[key] = self.orchestrator.upkeep.register_client(session_id, client)
        return self._actors[key]

    async def _act(self, request: Request, act: Callable[[str, str, str, dict[str, str]], str]) -> Response:
        session_id = request.path_params["session_id"]
        task_id = request.path_params.get("task_id", "")
        form = dict(parse_qsl((await request.body()).decode()))
        principal = principal_of(request.scope)
        status = 200
        try:
            actor = await self.run_domain(self.actor, session_id, principal.name if principal else None)
            outcome = Outcome(True, await self.run_domain(act, session_id, actor, task_id, form))
        except TaskweaveError as error:
            outcome = Outcome(False, error.message, error.hint)
            status = next((code for kind, code in REFUSAL_STATUS.items() if isinstance(error, kind)), 400)
        body = self.templates.part("flash", outcome=outcome)
        return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})

    async def release(self, request: Request) -> Response:
        return await self._act(request, self._release)

    async def cancel(self, request: Request) -> Response:
        return await self._act(request, self._cancel)

    async def priority(self, request: Request) -> Response:
        return await self._act(request, self._priority)

    async def send_message(self, request: Request) -> Response:
        return await self._act(request, self._send_message)

    def _send_message(self, session_id: str, actor: str, _: str, form: dict[str, str]) -> str:
        sent = self.orchestrator.messages.send(
            session_id, actor, form.get("to", ""), form.get("text", ""), task_id=form.get("task_id") or None
        )
        return f"Sent to {sent['to']}: delivered {sent['delivery']}."

    def _release(self, session_id: str, actor: str, task_id: str, form: dict[str, str]) -> str:
        done = self.orchestrator.work.release(session_id, actor, task_id, force=_flag(form, "force"))
        how = "stale claim" if done["stale"] else "claim"
        return f"Released the {how} of {done['released_from']} on {task_id}: it is pending again."

    def _cancel(self, session_id: str, actor: str, task_id: str, form: dict[str, str]) -> str:
        done = self.orchestrator.tasks.cancel(
            session_id,
            actor,
            task_id,
            reason=form.get("reason") or None,
            cascade=_flag(form, "cascade"),
            force=_flag(form, "force"),
        )
        also = f" (and {len(done['cancelled']) - 1} subtask(s))" if len(done["cancelled"]) > 1 else ""
        return f"Cancelled {task_id}{also}."

    def _priority(self, session_id: str, actor: str, task_id: str, form: dict[str, str]) -> str:
        priority = form.get("priority", "")
        if priority not in PRIORITIES:
            raise InvalidInput(f"Priority {priority!r} is not one of {', '.join(PRIORITIES)}.", hint="Pick one from the list.")
        version = form.get("expected_version", "")
        updated = self.orchestrator.tasks.update(
            session_id,
            actor,
            task_id,
            TaskChanges(priority=priority),
            expected_version=int(version) if version.isdigit() else None,
        )
        return f"{task_id} is now of {updated['priority']} priority."


def _flag(form: dict[str, str], name: str) -> bool:
    return form.get(name) in ("1", "on", "true")
