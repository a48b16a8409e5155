"""`gameday console`: serve the app on a loopback port until Ctrl-C, then leave nothing broken (a
running drill is stopped and recovers its faults; the panel's faults are recovered)."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Callable

from ..config import Settings
from ..errors import GamedayError
from .auth import CANDIDATE, INTERVIEWER, console_token
from .live import Console

DEFAULT_PORT = 8686


class ConsolePortError(GamedayError):
    kind = "ConsolePortError"


@dataclass(frozen=True)
class Urls:
    candidate: str
    interviewer: str
    port: int


def listen(host: str, port: int | None) -> socket.socket:
    """A listening socket: the given port, or (none given) DEFAULT_PORT when free, else any free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([port] if port is not None else [DEFAULT_PORT, 0]):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and port is None:
                continue
            raise ConsolePortError(f"cannot listen on {host}:{candidate}: {exc.strerror}",
                                   hint="pick another with --port, or leave --port out for a free one") from None
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise ConsolePortError("no free port")  # unreachable: port 0 always binds


def urls(settings: Settings, host: str, port: int) -> Urls:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return Urls(f"{base}/?token={console_token(settings, CANDIDATE)}",
                f"{base}/interviewer?token={console_token(settings, INTERVIEWER)}", port)


def serve(console: Console, host: str = "127.0.0.1", port: int | None = None,
          announce: Callable[[Urls], None] = lambda _: None) -> None:
    import uvicorn

    from .app import create_app

    sock = listen(host, port)
    bound = sock.getsockname()[1]
    # Streams are long requests: on Ctrl-C they get 2 s to end, not forever.
    config = uvicorn.Config(create_app(console, host), log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=2, access_log=False)
    server = uvicorn.Server(config)
    announce(urls(console.settings, host, bound))
    try:
        server.run(sockets=[sock])
    finally:
        console.shutdown()
        sock.close()
