"""Bearer tokens: with tokens configured, every request must carry `Authorization: Bearer <token>`.

The principal the token stands for goes with the request (`principal_of`), for the
server to check which workspaces it may use.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from taskweave.server.access import Principal, Tokens
from taskweave.server.error_mapping import http_error_body

STATE_KEY = "taskweave_principal"


def principal_of(scope: Any) -> Principal | None:
    """The principal a request's token stood for; None when the daemon takes no tokens."""
    state = scope.get("state") or {}
    principal = state.get(STATE_KEY)
    return principal if isinstance(principal, Principal) else None


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, tokens: Tokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = given.partition(" ")
            principal = self.tokens.principal(token.strip()) if scheme.lower() == "bearer" else None
            if principal is None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                body = http_error_body(
                    "unauthorized",
                    "Missing or wrong bearer token.",
                    "Send Authorization: Bearer <your token> (TASKWEAVE_TOKEN, or the one you were given).",
                )
                await send({"type": "http.response.body", "body": body})
                return
            scope.setdefault("state", {})[STATE_KEY] = principal
        await self.app(scope, receive, send)
