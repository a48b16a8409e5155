"""The admin key of a run folder, and the rule every admin HTTP endpoint applies to a request.

Fault knobs (producer, ingest: /faults) and serving's /admin/* change the system, so they
answer only a caller that shows the run folder's key (`Authorization: Bearer <key>`): the
file `admin.token` in the run folder (0600, created by the first process that needs it),
or `admin_token` in the settings (GAMEDAY_ADMIN_TOKEN, for a cluster where the CLI does
not share the run folder). The gameday CLI reads it from there; a web page the user
happens to open cannot. Every HTTP listener of the stack also refuses cross-origin
requests (an Origin that is not its own) and, on loopback, a Host that is not a loopback
name (DNS rebinding: a page whose name resolves to 127.0.0.1).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Settings

TOKEN_FILE = "admin.token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def token_path(run_path: Path) -> Path:
    return run_path / TOKEN_FILE


def admin_token(settings: Settings) -> str:
    """The run folder's admin key (the setting when given), created on first use."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = token_path(settings.run_path)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: two processes (or threads) starting at once agree on one key.
    aside = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32))
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return path.read_text().strip()


def admin_headers(settings: Settings) -> dict[str, str]:
    """What a client of the stack sends to an admin endpoint."""
    return {"Authorization": f"Bearer {admin_token(settings)}"}


def _host_name(authority: str) -> str:
    """'127.0.0.1:3000' -> '127.0.0.1', '[::1]:3000' -> '::1', 'Localhost.' -> 'localhost'."""
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def refuse_origin(host: str | None, origin: str | None, bind_host: str) -> str | None:
    """Why a request must be refused whatever its path (None: it may go on).

    A browser names the page that sent a request in Origin; the only page allowed is the
    listener's own. On a loopback listener the Host must be a loopback name, else a page
    of a name that resolves to 127.0.0.1 would count as same-origin. Listeners on every
    address (a container) are reached by names of their network: the key guards them.
    """
    if not host:
        return "the request has no Host header"
    if origin is not None:
        sent_from = urlsplit(origin).netloc if "://" in origin else origin
        if sent_from.lower() != host.lower():
            return f"cross-origin request from {origin} refused"
    if bind_host not in WILDCARD_HOSTS and _host_name(bind_host) in LOOPBACK_NAMES:
        if _host_name(host).lower().rstrip(".") not in LOOPBACK_NAMES:
            return f"Host {host!r} refused: this listener answers only loopback names (127.0.0.1, localhost)"
    return None


def refuse_admin(authorization: str | None, token: str | None) -> str | None:
    """Why an admin request must be refused (None: the key matches)."""
    if token is None:
        return "this process has no admin key (it could not read or create the run folder's admin.token)"
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return (f"an admin key is required: send 'Authorization: Bearer <key>' with the key of the run "
                f"folder's {TOKEN_FILE} (the gameday CLI does)")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return f"wrong admin key: use the one in the run folder's {TOKEN_FILE}"
    return None
