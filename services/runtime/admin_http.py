"""A small admin HTTP server for a service process: /healthz, /ready, /metrics, /status, /faults, /actions/NAME.

/faults is how scenarios turn a running service's knobs without restarting it:
GET returns the current knobs, POST merges a JSON object into them (validated by the
service's pydantic model; a bad knob gets a 400 naming the field), DELETE resets them.
POST /actions/NAME runs one of the service's named actions (the monitor's `reset`).
/faults and /actions answer only with the run folder's admin key; every path refuses cross-origin
and foreign-Host requests (runtime/admin_key.py), a POST body that is not JSON (415) or
larger than MAX_BODY (413, before it is read).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Generic, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from pydantic import BaseModel, ValidationError

from .admin_key import refuse_admin, refuse_origin

K = TypeVar("K", bound=BaseModel)
MAX_BODY = 1 << 20  # knobs are a few hundred bytes
ACTIONS = "/actions/"
log = logging.getLogger("admin-http")


class Knobs(Generic[K]):
    """Thread-safe holder of a service's fault knobs (a pydantic model with 'off' defaults)."""

    def __init__(self, model: type[K]) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._value = model()

    @property
    def value(self) -> K:
        return self._value  # immutable snapshot: readers never see a half-applied change

    def merge(self, changes: dict) -> K:
        with self._lock:
            self._value = self._model.model_validate({**self._value.model_dump(), **changes})
            return self._value

    def reset(self) -> K:
        with self._lock:
            self._value = self._model()
            return self._value


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class AdminServer:
    """Serve health, readiness, Prometheus metrics and fault knobs on a loopback port."""

    def __init__(self, port: int, ready: Callable[[], bool], *, token: str | None, knobs: Knobs | None = None,
                 registry: CollectorRegistry = REGISTRY, host: str = "127.0.0.1",
                 status: Callable[[], dict] | None = None, actions: dict[str, Callable[[], dict]] | None = None) -> None:
        """token: the run folder's admin key (runtime/admin_key.admin_token); None refuses every /faults and
        /actions call. actions: name -> what POST /actions/NAME runs (its answer is the JSON reply)."""
        self.ready, self.knobs, self.registry, self.status = ready, knobs, registry, status
        self.actions = actions or {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # access logs would drown the JSON log
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, data: object) -> None:
                if 400 <= code < 500 and code != 404 and isinstance(data, dict):  # a refusal: one line, no traceback
                    log.warning("%s %s %s: %s", code, self.command, self.path[:200], str(data.get("error"))[:300])
                self._send(code, json.dumps(data, default=str).encode())

            def _refused(self) -> bool:
                """Answer (and True) when the request may not go on: origin, Host, then the key for /faults."""
                why = refuse_origin(self.headers.get("Host"), self.headers.get("Origin"), host)
                if why is not None:
                    self._json(403, {"error": why})
                    return True
                guarded = self.path == "/faults" or self.path.startswith(ACTIONS)
                if guarded and (why := refuse_admin(self.headers.get("Authorization"), token)):
                    self._json(401, {"error": why})
                    return True
                return False

            def _read_json(self) -> object:
                """The JSON body; _Refusal for a body too large or not JSON (checked before it is read)."""
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise _Refusal(413, f"body of {length} bytes refused: at most {MAX_BODY}")
                if ctype != "application/json":
                    raise _Refusal(415, f"Content-Type {ctype or '(none)'} refused: send application/json")
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                if self._refused():
                    return
                if self.path == "/healthz":
                    self._json(200, {"status": "ok"})
                elif self.path == "/ready":
                    ok = server.ready()
                    self._json(200 if ok else 503, {"ready": ok})
                elif self.path == "/metrics":
                    self._send(200, generate_latest(server.registry), CONTENT_TYPE_LATEST)
                elif self.path == "/faults" and server.knobs:
                    self._json(200, server.knobs.value.model_dump(mode="json"))
                elif self.path == "/status" and server.status:
                    self._json(200, server.status())
                else:
                    self._json(404, {"error": f"no route {self.path}"})

            def do_POST(self) -> None:
                if self._refused():
                    return
                if self.path.startswith(ACTIONS) and self.path[len(ACTIONS):] in server.actions:
                    try:
                        return self._json(200, server.actions[self.path[len(ACTIONS):]]())
                    except TimeoutError as exc:
                        return self._json(503, {"error": str(exc)})
                if self.path != "/faults" or not server.knobs:
                    return self._json(404, {"error": f"no route {self.path}"})
                try:
                    changes = self._read_json()
                    if not isinstance(changes, dict):
                        raise ValueError("body must be a JSON object of knobs")
                    value = server.knobs.merge(changes)
                except _Refusal as refusal:
                    self.close_connection = True  # the unread body must not be taken for the next request
                    return self._json(refusal.status, {"error": refusal.message})
                except ValidationError as exc:
                    return self._json(400, {"error": "invalid knob", "detail": exc.errors(include_url=False)})
                except ValueError as exc:
                    return self._json(400, {"error": str(exc)})
                self._json(200, value.model_dump(mode="json"))

            def do_DELETE(self) -> None:
                if self._refused():
                    return
                if self.path != "/faults" or not server.knobs:
                    return self._json(404, {"error": f"no route {self.path}"})
                self._json(200, server.knobs.reset().model_dump(mode="json"))

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="admin-http", daemon=True)

    def start(self) -> "AdminServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
