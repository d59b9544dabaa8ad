"""The dashboard's edge: the MCP endpoint's Host/Origin rules, the token, and cross-site request forgery.

- Host and Origin: on loopback only the loopback names and origins of
  `taskweave.server.http.transport_security` are answered (no DNS rebinding);
  off loopback an Origin, when sent, must be the page's own.
- Tokens (`TASKWEAVE_TOKEN`, or a token per person in `TASKWEAVE_TOKENS_FILE`;
  required off loopback): the person opens `/?token=...` once and gets an
  HttpOnly, SameSite=Strict cookie naming a login of this process (never the
  token); scripts may send `Authorization: Bearer <token>` instead. The
  principal the token stands for goes with the request (`principal_of`), so
  the dashboard shows and changes only the workspaces that token may use.
- Actions are POSTs that must carry the page's CSRF token: an HMAC, under a
  key of this process, of a random browser id kept in another HttpOnly,
  SameSite=Strict cookie. A cross-site page can neither read the token nor
  send the cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from html import escape
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskweave.server.access import Principal, Tokens
from taskweave.server.http.bearer_auth import STATE_KEY
from taskweave.server.http.transport_security import is_loopback, security_settings

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_PARAMETER = "token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Every answer: nothing from another origin, no inline script or style, never framed, no referrer (a token link).
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def _matches(value: str, patterns: list[str]) -> bool:
    """`value` is one of `patterns`, where a pattern ending in `:*` stands for any port."""
    return any(value == p or (p.endswith(":*") and value.startswith(p[:-1]) and value[len(p) - 1 :].isdigit()) for p in patterns)


class Refusal(Exception):
    def __init__(self, status: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


class Guard:
    """The rules, for one dashboard bound to `host`; `DashboardGuard` applies them to every request."""

    def __init__(self, *, host: str, tokens: Tokens | None) -> None:
        self.loopback = is_loopback(host)
        settings = security_settings(host)
        self.allowed_hosts = settings.allowed_hosts if self.loopback else []
        self.allowed_origins = settings.allowed_origins if self.loopback else []
        self.tokens = tokens
        self._logins: dict[str, Principal] = {}
        self._csrf_key = secrets.token_bytes(32)

    def cookie_names(self, scope: Scope) -> tuple[str, str]:
        """The login and browser-id cookies; named by port, as cookies are shared by every port of a host."""
        server = scope.get("server") or ("", 0)
        return f"taskweave_login_{server[1]}", f"taskweave_browser_{server[1]}"

    def csrf_token(self, browser_id: str) -> str:
        return hmac.new(self._csrf_key, browser_id.encode(), hashlib.sha256).hexdigest()

    def check_origin(self, headers: Headers, scheme: str) -> None:
        host = headers.get("host", "")
        if self.loopback and not _matches(host, self.allowed_hosts):
            raise Refusal(421, f"This dashboard does not answer to the host name {host!r}.", "Open it at http://127.0.0.1:PORT/.")
        origin = headers.get("origin")
        if origin is None:
            return
        own = f"{scheme}://{host}"
        if origin != own and not _matches(origin, self.allowed_origins):
            raise Refusal(403, f"Requests from the page at {origin} are refused.", "Use the dashboard's own page.")

    def log_in(self, token: str) -> str | None:
        """A new login for the principal `token` stands for (the value of its cookie); None for a wrong token."""
        principal = self.tokens.principal(token) if self.tokens else None
        if principal is None:
            return None
        # One login per principal, however often its link is opened.
        login = next((known for known, who in self._logins.items() if who == principal), None)
        if login is None:
            login = secrets.token_urlsafe(32)
            self._logins[login] = principal
        return login

    def principal(self, headers: Headers, cookies: dict[str, str], login_cookie: str) -> Principal | None:
        """Who the request comes from: by its bearer token, else by its login cookie; None when unknown."""
        assert self.tokens is not None
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and (found := self.tokens.principal(token.strip())) is not None:
            return found
        return self._logins.get(cookies.get(login_cookie, ""))

    def check_csrf(self, browser_id: str | None, given: str | None) -> None:
        if not browser_id or not given or not hmac.compare_digest(given.encode(), self.csrf_token(browser_id).encode()):
            raise Refusal(
                403,
                "Refused: this action did not come with the dashboard page's CSRF token.",
                "Reload the dashboard page and try again; actions are accepted only from its own page.",
            )


class DashboardGuard:
    """ASGI middleware applying `Guard` to every HTTP request of the dashboard."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        login_cookie, browser_cookie = self.guard.cookie_names(scope)
        try:
            self.guard.check_origin(headers, scope.get("scheme", "http"))
        except Refusal as refusal:
            await _refuse(send, refusal, headers)
            return
        secure = scope.get("scheme") == "https"
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        given_token = query.get(TOKEN_PARAMETER)
        if given_token is not None and scope["method"] in SAFE_METHODS:
            login = self.guard.log_in(given_token)
            if login is not None:
                await _sign_in(send, scope, query, login_cookie, login, secure)
                return
        state = scope.setdefault("state", {})
        if self.guard.tokens is not None:
            state[STATE_KEY] = self.guard.principal(headers, cookies, login_cookie)
        if self.guard.tokens is not None and state[STATE_KEY] is None:
            await _refuse(
                send,
                Refusal(
                    401,
                    "This dashboard needs its token.",
                    "Open /?token=<your token> once (TASKWEAVE_TOKEN, or the one you were given); "
                    "the browser then keeps a login cookie for this dashboard.",
                ),
                headers,
            )
            return
        browser_id = cookies.get(browser_cookie)
        new_browser = browser_id is None
        if browser_id is None:
            browser_id = secrets.token_urlsafe(24)
        state["browser_id"] = browser_id
        state["csrf_token"] = self.guard.csrf_token(browser_id)
        if scope["method"] not in SAFE_METHODS:
            try:
                self.guard.check_csrf(None if new_browser else browser_id, headers.get(CSRF_HEADER))
            except Refusal as refusal:
                await _refuse(send, refusal, headers)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                added = [*SECURITY_HEADERS]
                if new_browser:
                    added.append((b"set-cookie", _cookie(browser_cookie, browser_id, secure)))
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in headers.getlist("cookie"):
        try:
            jar.load(header)
        except Exception:
            continue
    return {name: morsel.value for name, morsel in jar.items()}


def _cookie(name: str, value: str, secure: bool) -> bytes:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict{'; Secure' if secure else ''}".encode()


async def _sign_in(send: Send, scope: Scope, query: dict[str, str], name: str, value: str, secure: bool) -> None:
    """Keep the login in a cookie and send the browser on to the same page, without the token in its address."""
    rest = urlencode({k: v for k, v in query.items() if k != TOKEN_PARAMETER})
    location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"set-cookie", _cookie(name, value, secure)),
                (b"cache-control", b"no-store"),
                (b"referrer-policy", b"no-referrer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, refusal: Refusal, headers: Headers) -> None:
    """A page saying why, or for htmx (which shows it where the action's answer goes) the same as a notice."""
    message, hint = escape(refusal.message), escape(refusal.hint)
    if headers.get("hx-request"):
        body = f'<p class="flash refused">{message} <span class="hint">{hint}</span></p>'.encode()
    else:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>taskweave: refused</title>"
            f"<body><h1>{message}</h1><p>{hint}</p></body></html>"
        ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"cache-control", b"no-store"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
