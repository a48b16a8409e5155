"""A blind drill in progress: saved by `gameday drill --blind`, read by `gameday answer`.

It lives in the run folder (drills/active.json): the scenario, the faults still on, and
what their injectors noted (e.g. the model that was live before), so the answer step can
score, check the mitigation, clean up and reveal, from another process.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import GamedayError

ACTIVE_FILE = "active.json"


class NoActiveDrill(GamedayError):
    kind = "NoActiveDrill"


@dataclass
class Session:
    scenario: str
    folder: str
    started_at: float
    fast: bool
    refs: dict[str, float]
    active: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    # The fault parameters drawn from the scenario's ranges (revealed with the answer).
    drawn: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def path(settings: Settings) -> Path:
        return settings.run_path / "drills" / ACTIVE_FILE

    def save(self, settings: Settings) -> Path:
        path = self.path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, default=str))
        return path

    @classmethod
    def load(cls, settings: Settings) -> "Session":
        path = cls.path(settings)
        if not path.is_file():
            raise NoActiveDrill("no blind drill is waiting for an answer",
                                hint="start one with `gameday drill --random --blind` (or `gameday drill NAME --blind`)")
        return cls(**json.loads(path.read_text()))

    @classmethod
    def close(cls, settings: Settings) -> None:
        cls.path(settings).unlink(missing_ok=True)
