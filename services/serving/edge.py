"""The service's edge: what a request must be before BentoML parses it, and how a refusal is logged.

In order, for every request (an ASGI middleware inside the metrics one, so refusals are counted):
  403  an Origin that is not the service's own, or a Host that is not a loopback name on a
       loopback listener (runtime/admin_key.refuse_origin);
  401  /admin/* without the run folder's admin key;
  415  a POST (to a route that takes a body) whose Content-Type is not application/json (a form, multipart, text/plain:
       what a web page can send without asking first);
  413  a POST body larger than serving.max_body_mb: refused on its Content-Length before
       a byte is read, or as soon as a streamed body passes the limit.
GET /docs.json is answered here with the service's own OpenAPI document (serving/openapi.py):
BentoML's is OpenAPI 3.0 with 3.1 schemas and knows neither the admin routes nor the
per-row batch answers.

Every 4xx is one log line: the edge logs its own refusals, and BentoML's handler (which logs
a request its validation refused as an ERROR with a traceback) is turned into one line too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..config import load_settings
from ..contracts import describe_event_error
from ..runtime.admin_key import admin_token, refuse_admin, refuse_origin

log = logging.getLogger("serving.edge")
JSON = "application/json"
# The routes that take a body; a POST elsewhere goes on to get its 405.
BODY_ROUTES = frozenset({"/predict", "/predict_batch", "/admin/faults", "/admin/promote"})


class RequestEdge:
    """ASGI middleware: the checks of the module doc, then the request goes on (body replayed)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        settings = load_settings()
        self.bind_host = settings.serving.host
        self.max_body = int(settings.serving.max_body_mb * 1_000_000)
        try:
            self.token: str | None = admin_token(settings)
        except OSError as exc:  # /admin/* then refuses everyone (503 would hide why): said at start
            log.error("no admin key: %s; /admin/* refuses every request", exc)
            self.token = None
        self._openapi: bytes | None = None
        quiet_client_errors()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        method, path = scope["method"], scope["path"]
        why = refuse_origin(headers.get("host"), headers.get("origin"), self.bind_host)
        if why is not None:
            return await _refuse(send, 403, why, method, path)
        if path.startswith("/admin") and (why := refuse_admin(headers.get("authorization"), self.token)):
            return await _refuse(send, 401, why, method, path, {"www-authenticate": "Bearer"})
        if path == "/docs.json" and method in ("GET", "HEAD"):
            return await _answer(send, 200, self.openapi())
        if method != "POST" or path not in BODY_ROUTES:
            return await self.app(scope, receive, send)

        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON:
            return await _refuse(send, 415, f"Content-Type {ctype or '(none)'} refused: send {JSON}", method, path)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return await _refuse(send, 413, f"body of {declared} bytes refused: at most {self.max_body}", method, path)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await _refuse(send, 413, f"body larger than {self.max_body} bytes refused", method, path)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    def openapi(self) -> bytes:
        if self._openapi is None:
            from .openapi import openapi_document

            self._openapi = json.dumps(openapi_document()).encode()
        return self._openapi


def _headers(scope: dict) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


async def _answer(send: Any, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
    headers = [(b"content-type", JSON.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Any, status: int, why: str, method: str, path: str,
                  extra: dict[str, str] | None = None) -> None:
    log.warning("%s %s %s: %s", status, method, path[:200], why)
    await _answer(send, status, json.dumps({"error": why}).encode(),
                  {"connection": "close", **(extra or {})} if status == 413 else extra)


class _ClientErrorAsOneLine(logging.Filter):
    """BentoML logs a body its validation refused (a 400) as an ERROR with a traceback: one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pydantic import ValidationError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValidationError):
            path, method = (record.args or ("?", "?"))[:2]
            record.msg, record.args = "400 %s %s: %s", (method, path, describe_event_error(error)[:500])
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_errors() -> None:
    target = logging.getLogger("bentoml._internal.server.http_app")  # where BentoML's log_exception writes
    if not any(isinstance(f, _ClientErrorAsOneLine) for f in target.filters):
        target.addFilter(_ClientErrorAsOneLine())
