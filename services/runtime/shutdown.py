"""Stop cleanly on SIGTERM/SIGINT: the main loop checks `stopping.is_set()`."""

from __future__ import annotations

import signal
import threading


def install_stop_handlers() -> threading.Event:
    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stopping
