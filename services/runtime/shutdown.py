"""Stopping cleanly: services stop on SIGTERM/SIGINT (`install_stop_handlers`), and a command that
changed the system (a drill's injected faults) puts it back however it ends (`recovered_on_exit`)."""

from __future__ import annotations

import atexit
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

# Signals that end a command like Ctrl-C does inside recovered_on_exit: `kill`, a closed terminal.
TERMINATING = (signal.SIGTERM, signal.SIGHUP)


def install_stop_handlers() -> threading.Event:
    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stopping


class Terminated(SystemExit):
    """Raised in the main thread on SIGTERM/SIGHUP inside recovered_on_exit (exit status 128 + signal)."""


@contextmanager
def recovered_on_exit(recover: Callable[[], None]) -> Iterator[None]:
    """Run the block so that `recover` runs however the process ends while in it.

    Ctrl-C and errors unwind through the caller's `finally`/`except` as always; inside the block
    SIGTERM and SIGHUP do the same (they raise Terminated instead of killing the process without
    unwinding), and an interpreter exit that skipped the caller's cleanup still runs `recover`
    (atexit). `recover` must be idempotent: it may run from both.
    """
    done = threading.Event()

    def at_exit() -> None:
        if not done.is_set():
            recover()

    def terminate(signum: int, frame: object) -> None:
        raise Terminated(128 + signum)

    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, terminate) for sig in TERMINATING} if main else {}
    atexit.register(at_exit)
    try:
        yield
    finally:
        done.set()
        atexit.unregister(at_exit)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
