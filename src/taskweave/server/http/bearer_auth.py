"""Bearer tokens: a daemon bound off loopback refuses every request without `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from taskweave.server.error_mapping import http_error_body


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                body = http_error_body(
                    "unauthorized", "Missing or wrong bearer token.", "Send Authorization: Bearer <TASKWEAVE_TOKEN>."
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
