"""Free loopback ports for the stack's processes."""

import socket

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers we start: a port in TIME_WAIT from our last run counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = LOOPBACK) -> int:
    """A port the OS says is free now (the process that binds it must do so soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def reuse_or_pick(previous: int | None, taken: set[int]) -> int:
    """Keep a component's previous port when it is still free, so addresses stay stable across restarts."""
    if previous and previous not in taken and port_is_free(previous):
        return previous
    while True:
        port = free_port()
        if port not in taken:
            return port
