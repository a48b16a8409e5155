"""One drill at a time on a stack: the run folder's drill lock.

Two drills on one stack would reset each other's faults and judge each other's alerts, and a
blind drill's answer check watches the same signals. `gameday drill`, `gameday answer` and the
console each hold this lock while they run; the second one gets DrillBusy naming the first (its
pid, what it is, since when) — never a second drill. An advisory lock (flock) on a file in the
run folder: the kernel releases it when its holder dies, so a killed drill leaves no stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..config import Settings
from ..errors import GamedayError

LOCK_FILE = ".drill.lock"


class DrillBusy(GamedayError):
    kind = "DrillBusy"

    def __init__(self, message: str, hint: str | None = None, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder or {}


def lock_path(settings: Settings) -> Path:
    return settings.run_path / "drills" / LOCK_FILE


def running_drill(settings: Settings) -> dict[str, Any] | None:
    """What holds the lock now ({"pid", "what", "since"}), or None when no drill runs."""
    path = lock_path(settings)
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextmanager
def exclusive_drill(settings: Settings, what: str) -> Iterator[None]:
    """Hold the run folder's drill lock for the block; DrillBusy at once if another holds it.
    `what` says what runs, as another user would read it ("a blind drill" names no scenario)."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            since = holder.get("since")
            age = f", for {time.time() - since:.0f}s" if isinstance(since, (int, float)) else ""
            raise DrillBusy(f"{holder.get('what', 'a drill')} is already running on this stack "
                            f"(pid {holder.get('pid', '?')}{age}): one drill at a time",
                            hint="wait until it ends, or stop it (Ctrl-C in its terminal, or Stop in the console)",
                            holder=holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": time.time()}).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
