"""The end of an HTTP session: a DELETE of its `Mcp-Session-Id` disconnects its client.

Sessions that simply go quiet are not seen here; their clients expire when their lease lapses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send


class SessionEndObserver:
    def __init__(self, app: ASGIApp, on_end: Callable[[str], Awaitable[None]]) -> None:
        self.app = app
        self.on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "DELETE":
            session_id = dict(scope["headers"]).get(b"mcp-session-id")
            if session_id:
                await self.on_end(f"http:{session_id.decode()}")
