"""What happened during a drill: marks (phases, faults, alerts, DLQ) and sampled series.

Times are seconds since the drill started. The timeline is written as JSON lines
(timeline.jsonl) so a debrief can be re-rendered from a recorded run.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass
class Mark:
    t: float
    kind: str  # phase | fault | recover | alert | dlq | note | action
    name: str
    detail: dict[str, Any] = field(default_factory=dict)


class Timeline:
    """Thread-safe: the watcher's threads add samples and marks while the runner schedules faults."""

    def __init__(self, t0: float | None = None) -> None:
        self.t0 = time.time() if t0 is None else t0
        self.marks: list[Mark] = []
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def now(self) -> float:
        return round(time.time() - self.t0, 3)

    def mark(self, kind: str, name: str, at: float | None = None, **detail: Any) -> Mark:
        item = Mark(self.now() if at is None else at, kind, name, detail)
        with self._lock:
            self.marks.append(item)
        return item

    def sample(self, series: str, value: float | None, at: float | None = None) -> None:
        if value is None:
            return
        with self._lock:
            self.samples.setdefault(series, []).append((self.now() if at is None else at, float(value)))

    def marks_of(self, kind: str) -> list[Mark]:
        with self._lock:
            return [m for m in self.marks if m.kind == kind]

    def series(self, name: str) -> list[tuple[float, float]]:
        with self._lock:
            return list(self.samples.get(name, []))

    def first_mark(self, kind: str, name: str | None = None) -> Mark | None:
        return next((m for m in self.marks_of(kind) if name is None or m.name == name), None)

    # ---- persistence -----------------------------------------------------------------------

    def lines(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield {"type": "start", "t0": self.t0}
            for m in sorted(self.marks, key=lambda m: m.t):
                yield {"type": "mark", **asdict(m)}
            for name, points in self.samples.items():
                yield {"type": "series", "name": name, "points": points}

    def save(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(line, default=str) + "\n" for line in self.lines()))
        return path

    @classmethod
    def load(cls, path: Path) -> "Timeline":
        timeline = cls(t0=0.0)
        for raw in path.read_text().splitlines():
            line = json.loads(raw)
            if line["type"] == "start":
                timeline.t0 = line["t0"]
            elif line["type"] == "mark":
                timeline.marks.append(Mark(line["t"], line["kind"], line["name"], line.get("detail", {})))
            elif line["type"] == "series":
                timeline.samples[line["name"]] = [tuple(p) for p in line["points"]]
        return timeline
