"""The drills of a run folder, as a history: every run and answer, its scores per level, and how
long detection, the answer and the mitigation took.

Read from what each drill leaves in its folder (drills/<id>/): result.json (written when the
drill ends), answer.json (a blind drill, once answered), timeline.jsonl (when it started; the
answer and the mitigation check's marks). A blind drill still waiting for its answer is listed
as such: its scenario stays in the record, and the viewer decides who may see it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from .answer import LEVELS
from .active import ActiveDrill

RESULT_FILE, ANSWER_FILE, TIMELINE_FILE = "result.json", "answer.json", "timeline.jsonl"


@dataclass
class DrillRecord:
    id: str                     # the folder's name under drills/
    folder: Path
    scenario: str
    started_at: float | None    # unix time of the drill's start (its timeline's t0)
    fast: bool = False
    blind: bool = False
    control: bool = False
    passed: bool | None = None  # None: the drill is still running (no result yet)
    stopped: bool = False
    alert_counts: dict[str, int] = field(default_factory=dict)
    # The monitor's: the first expected signal after the fault, seconds.
    time_to_detect_s: float | None = None
    # A blind drill: waiting for the answer, or answered (score per level, in [0, 1]).
    awaiting_answer: bool = False
    score: float | None = None
    levels: dict[str, float] = field(default_factory=dict)
    # The candidate's: from the fault to the answer, and to the signals back to normal (verified).
    time_to_answer_s: float | None = None
    time_to_mitigate_s: float | None = None
    debrief: Path | None = None

    @property
    def answered(self) -> bool:
        return self.score is not None

    @property
    def mode(self) -> str:
        words = ["accelerated" if self.fast else "normal"] + (["blind"] if self.blind else []) \
            + (["control"] if self.control else [])
        return ", ".join(words)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(folder=str(self.folder), debrief=str(self.debrief) if self.debrief else None,
                    answered=self.answered, mode=self.mode)
        return data


class _Cache:
    """Records by folder, re-read only when a file of the folder changed (a history page stays fast)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Path, tuple[tuple, DrillRecord]] = {}

    def get(self, folder: Path, session_folder: str | None) -> DrillRecord | None:
        key = (_stamp(folder / RESULT_FILE), _stamp(folder / ANSWER_FILE), _stamp(folder / TIMELINE_FILE),
               session_folder == str(folder))
        with self._lock:
            hit = self._items.get(folder)
        if hit and hit[0] == key:
            return hit[1]
        record = read_record(folder, awaiting=key[-1])
        if record is not None:
            with self._lock:
                self._items[folder] = (key, record)
        return record


_cache = _Cache()


def list_records(settings: Settings) -> list[DrillRecord]:
    """Every drill of the run folder, oldest first."""
    root = settings.run_path / "drills"
    if not root.is_dir():
        return []
    running = ActiveDrill.current(settings)
    pending = running.folder if running is not None and running.blind else None  # a blind drill takes answers
    records = [r for folder in root.iterdir() if folder.is_dir() and (r := _cache.get(folder, pending))]
    return sorted(records, key=lambda r: (r.started_at or 0.0, r.id))


def read_record(folder: Path, awaiting: bool = False) -> DrillRecord | None:
    """One drill's record; None for a folder that holds no drill."""
    result = _json(folder / RESULT_FILE)
    marks, t0 = _timeline_marks(folder / TIMELINE_FILE)
    if result is None and t0 is None:
        return None
    result = result or {}
    refs = result.get("refs") or {}
    fault = refs.get("fault")
    record = DrillRecord(
        id=folder.name, folder=folder, scenario=str(result.get("scenario") or "?"), started_at=t0,
        fast=bool(result.get("fast")), blind=bool(result.get("blind")), control=bool(result.get("control")),
        passed=result.get("passed"), stopped=bool(result.get("stopped")),
        alert_counts=result.get("alert_counts") or {}, awaiting_answer=awaiting,
        time_to_detect_s=time_to_detect(result.get("outcomes") or []))
    answer = _json(folder / ANSWER_FILE)
    if answer is not None:
        record.score = float(answer.get("total", 0.0))
        record.levels = {level["level"]: float(level["score"]) for level in answer.get("levels", [])
                         if level.get("level") in LEVELS}
        record.scenario = str(answer.get("scenario") or record.scenario)
        if fault is not None:
            answered = next((m["t"] for m in marks if m["kind"] == "action" and m["name"] == "answer"), None)
            verified = next((m["t"] for m in marks if m["kind"] == "action" and m["name"] == "mitigation verified"), None)
            record.time_to_answer_s = round(answered - fault, 1) if answered is not None else None
            record.time_to_mitigate_s = round(verified - fault, 1) if verified is not None else None
    if (folder / "debrief.html").is_file():
        record.debrief = folder / "debrief.html"
    return record


def time_to_detect(outcomes: list[dict[str, Any]]) -> float | None:
    """Seconds from the fault to the first expected signal that fired (None: none did)."""
    times = [o["after_s"] for o in outcomes
             if o.get("fired") and o.get("after", "fault") == "fault" and isinstance(o.get("after_s"), (int, float))]
    return min(times) if times else None


def _timeline_marks(path: Path) -> tuple[list[dict[str, Any]], float | None]:
    """The marks and t0 of a timeline.jsonl, without parsing its (long) series lines."""
    marks: list[dict[str, Any]] = []
    t0 = None
    try:
        with path.open() as lines:
            for raw in lines:
                if raw.startswith('{"type": "series"'):
                    continue
                line = json.loads(raw)
                if line.get("type") == "start":
                    t0 = line.get("t0")
                elif line.get("type") == "mark":
                    marks.append(line)
    except (OSError, ValueError):
        pass
    return marks, t0


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
