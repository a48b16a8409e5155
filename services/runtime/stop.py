"""Stop one process we started by hand (dockerd, a cluster's daemons): SIGTERM, a grace period, SIGKILL."""

from __future__ import annotations

import signal

import psutil


def stop_process(process: psutil.Process, grace_s: float, kill_wait_s: float = 5.0) -> int | None:
    """SIGTERM, wait up to `grace_s` for it to exit, then SIGKILL and wait up to `kill_wait_s`.
    Returns what psutil's wait gives: a child's exit code (minus the signal that ended it), else None."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(grace_s)
    except psutil.TimeoutExpired:
        process.kill()
        return process.wait(kill_wait_s)
