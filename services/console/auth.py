"""Who may open the console: a token per role, derived from the run folder's admin key, in the URL
`gameday console` prints (as Jupyter does); then a cookie, so the token leaves the address bar.

Two roles: the candidate (every page; the interviewer panel only when no blind drill is on) and the
interviewer (also /interviewer: the fault forms and what a blind drill hides). The tokens are
HMACs of the admin key: they open the console and nothing else — the services' admin endpoints
still want the key itself — and change when the key does. Every request is also held to the rule
of the stack's admin listeners (runtime/admin_key.py): no foreign Origin, and on loopback no Host
that is not a loopback name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from http.cookies import SimpleCookie
from typing import Callable
from urllib.parse import parse_qsl, urlencode

from ..config import Settings
from ..runtime.admin_key import TOKEN_FILE, admin_token, refuse_origin

CANDIDATE, INTERVIEWER = "candidate", "interviewer"
ROLES = (CANDIDATE, INTERVIEWER)
# What needs no token: the packaged scripts and styles (public code; the 401 page uses the styles).
PUBLIC_PREFIXES = ("/static/",)


def console_token(settings: Settings, role: str) -> str:
    digest = hmac.new(admin_token(settings).encode(), f"mlgameday-console:{role}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def cookie_name(port: int, role: str) -> str:
    """Per port and role: two consoles (two run folders) on one host, or both roles in one browser."""
    return f"gameday-console-{port}-{role}"


class Guard:
    """ASGI middleware: origin and Host first, then the token (query) or the cookie. Sets
    scope["state"]["roles"] (the roles the caller holds); answers 401/403 pages itself."""

    def __init__(self, app: Callable, settings: Settings, bind_host: str,
                 page: Callable[[int, str, str], bytes]) -> None:
        self.app, self.bind_host, self.page = app, bind_host, page
        self.tokens = {role: console_token(settings, role) for role in ROLES}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        why = refuse_origin(headers.get("host"), headers.get("origin"), self.bind_host)
        if why is not None:
            return await self._answer(send, 403, "Refused", why)
        path = scope["path"]
        if path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        port = scope["server"][1] if scope.get("server") else 0
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given:
            role = self._role_of(given[-1])
            if role is None:
                return await self._answer(send, 401, "Wrong token",
                                          "This is not the token of this console. Open the URL that `gameday console` "
                                          "printed; it changes when the run folder's admin key does.")
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            return await self._redirect(send, path + (f"?{rest}" if rest else ""), cookie_name(port, role),
                                        self.tokens[role])
        cookies = SimpleCookie(headers.get("cookie", ""))
        roles = [role for role in ROLES if (c := cookies.get(cookie_name(port, role)))
                 and hmac.compare_digest(c.value.encode(), self.tokens[role].encode())]
        if not roles:
            return await self._answer(send, 401, "Token required",
                                      "This console opens with its token: use the URL that `gameday console` printed "
                                      f"(…?token=…). The token comes from the run folder's {TOKEN_FILE}; "
                                      "`gameday console` prints it again.")
        scope.setdefault("state", {})["roles"] = roles
        await self.app(scope, receive, send)

    def _role_of(self, token: str) -> str | None:
        return next((role for role, mine in self.tokens.items()
                     if hmac.compare_digest(token.encode(), mine.encode())), None)

    async def _answer(self, send: Callable, status: int, title: str, message: str) -> None:
        body = self.page(status, title, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    async def _redirect(self, send: Callable, location: str, name: str, value: str) -> None:
        cookie = f"{name}={value}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})
