"""The drill running on a run folder: drills/active.json, written by the drill process while it runs.

It holds nothing that names the scenario — the drill's neutral id, its folder, its process and its
clock — so every `gameday` command can find the running drill (to journal the candidate's actions, to
show its live signals, to hand it an answer) while the scenario stays in the drill process's memory.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from ..config import Settings
from ..errors import GamedayError

ACTIVE_FILE = "active.json"


class NoActiveDrill(GamedayError):
    kind = "NoActiveDrill"


def new_drill_id() -> str:
    """A neutral id: four hex digits, nothing derived from the scenario."""
    return secrets.token_hex(2)


@dataclass
class ActiveDrill:
    id: str
    folder: str
    pid: int
    pid_started: float      # the process's create time: a recycled pid is not the drill
    started_at: float       # wall time the drill's clock started (the card was shown)
    blind: bool
    deadline: float | None  # wall time a blind drill ends without an answer

    @staticmethod
    def path(settings: Settings) -> Path:
        return settings.run_path / "drills" / ACTIVE_FILE

    @property
    def run_folder(self) -> Path:
        return Path(self.folder)

    @classmethod
    def claim(cls, settings: Settings, drill_id: str, folder: Path, blind: bool, time_limit_s: float | None) -> "ActiveDrill":
        """Record this process as the run folder's drill. The caller holds the run folder's drill lock
        (drill/lock.py, exclusive_drill): that lock is what refuses a second drill."""
        now = time.time()
        me = psutil.Process()
        drill = cls(id=drill_id, folder=str(folder), pid=me.pid, pid_started=me.create_time(), started_at=now,
                    blind=blind, deadline=now + time_limit_s if time_limit_s else None)
        path = cls.path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(drill), indent=2))
        os.replace(tmp, path)
        return drill

    @classmethod
    def current(cls, settings: Settings) -> "ActiveDrill | None":
        """The drill running now, or None (a record left by a process that is gone is removed)."""
        path = cls.path(settings)
        try:
            drill = cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not drill.alive():
            path.unlink(missing_ok=True)
            return None
        return drill

    @classmethod
    def load(cls, settings: Settings) -> "ActiveDrill":
        drill = cls.current(settings)
        if drill is None:
            raise NoActiveDrill("no blind drill is waiting for an answer",
                                hint="start one with `gameday drill --random --blind` (or `gameday drill NAME --blind`)"
                                     " in another terminal, and answer while it runs")
        return drill

    def alive(self) -> bool:
        try:
            return abs(psutil.Process(self.pid).create_time() - self.pid_started) < 1.0
        except psutil.Error:
            return False

    def release(self, settings: Settings) -> None:
        """The drill is over: remove the record (only this drill's)."""
        path = self.path(settings)
        try:
            if json.loads(path.read_text()).get("id") == self.id:
                path.unlink()
        except (OSError, ValueError):
            pass
