"""The live signals of a running drill, for `gameday signals`: the drill process writes its watcher's
recent samples to the drill folder's signals.json every couple of seconds; the command reads them.

The file names series and values with their times — nothing about the scenario. With no drill
running, `gameday signals` samples the stack itself for a few seconds (sample_signals).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from .signals import ALERT_SIGNALS, FEATURE_MEAN_SIGNALS, SERIES_SIGNALS
from .timeline import Timeline
from .watch import LAG_PREFIX

SIGNALS_FILE = "signals.json"
KEEP_S = 300.0       # the history kept in the file (5 minutes of samples)
RECENT_S = 60.0      # min / max shown over this last stretch
# The order of the table: traffic and backlog, latency, the pipeline's health, quality, then the rest.
ORDER = ("throughput", "consumer_lag", "latency_p50_ms", "latency_p99_ms", "unanswered_requests", "dlq_rate",
         "dlq_total", "feature_age_s", "fallback_share", "drift_share", "mae_s", "bias_s", "canary_share",
         "canary_mae_ratio")


def write_snapshot(folder: Path, drill_id: str, timeline: Timeline, dlq_reasons: dict[str, int],
                   sample_every_s: float) -> Path:
    """signals.json of the drill folder, replaced atomically (a reader never sees half a file)."""
    now = timeline.now()
    series = {name: [[round(t, 1), v] for t, v in timeline.series(name) if t >= now - KEEP_S]
              for name in list(timeline.samples)}
    alerts = [{"at": round(timeline.t0 + m.t, 1), "kind": m.name, "column": m.detail.get("column"),
               "score": m.detail.get("score")} for m in timeline.marks_of("alert")]
    data = {"drill": drill_id, "t0": timeline.t0, "updated_at": time.time(), "sample_every_s": sample_every_s,
            "series": series, "dlq_reasons": dlq_reasons, "alerts": alerts}
    path = folder / SIGNALS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, default=str))
    os.replace(tmp, path)
    return path


def read_snapshot(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / SIGNALS_FILE).read_text())
    except (OSError, ValueError):
        return None


@dataclass
class SignalRow:
    name: str
    value: float | None
    at: float | None          # wall time of the latest sample
    low: float | None         # over the last RECENT_S
    high: float | None
    meaning: str


def signal_rows(snapshot: dict[str, Any]) -> list[SignalRow]:
    """One row per series (every series a scenario can name, sampled or not), in ORDER."""
    series: dict[str, list] = snapshot.get("series", {})
    t0 = snapshot.get("t0", 0.0)
    lags = sorted(name for name in series if name.startswith(LAG_PREFIX))
    names = list(ORDER[:2]) + lags + list(ORDER[2:])
    names += [n for n in SERIES_SIGNALS if n not in names] + list(FEATURE_MEAN_SIGNALS)
    rows = []
    for name in names:
        points = series.get(name) or []
        meaning = SERIES_SIGNALS.get(name) or FEATURE_MEAN_SIGNALS.get(name) or \
            f"lag of the consumer group {name[len(LAG_PREFIX):]} on the trip topics, events"
        if not points:
            rows.append(SignalRow(name, None, None, None, None, meaning))
            continue
        last_t, last = points[-1]
        recent = [v for t, v in points if t >= last_t - RECENT_S]
        rows.append(SignalRow(name, last, t0 + last_t, min(recent), max(recent), meaning))
    return rows


def alert_rows(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Every alert kind: how often it fired in this drill, when last, on which columns."""
    fired = snapshot.get("alerts", [])
    rows = []
    for kind, meaning in ALERT_SIGNALS.items():
        mine = [a for a in fired if a["kind"] == kind]
        rows.append({"kind": kind, "count": len(mine), "last_at": mine[-1]["at"] if mine else None,
                     "columns": sorted({a["column"] for a in mine if a.get("column")}), "meaning": meaning})
    return rows


def sample_signals(settings: Settings, seconds: float = 12.0) -> dict[str, Any]:
    """No drill running: watch the stack for `seconds` (a 10 s window needs ~12) and return a snapshot."""
    from ..runtime.kafka import kafka_options
    from ..stack.endpoints import kafka_bootstrap
    from .watch import pipeline_groups
    from .targets import LocalTarget
    from .watch import Watcher

    timeline = Timeline()
    watcher = Watcher(kafka_bootstrap(settings), LocalTarget(settings), timeline, sample_every=2.0,
                      security=kafka_options(settings.kafka), topics=settings.topics,
                      lag_groups=pipeline_groups(settings)).start()
    try:
        time.sleep(seconds)
        watcher.sample_once()
    finally:
        watcher.stop()
    return {"drill": None, "t0": timeline.t0, "updated_at": time.time(), "sample_every_s": 2.0,
            "series": {name: [[round(t, 1), v] for t, v in timeline.series(name)] for name in timeline.samples},
            "dlq_reasons": dict(watcher.dlq_reasons),
            "alerts": [{"at": round(timeline.t0 + m.t, 1), "kind": m.name, "column": m.detail.get("column"),
                        "score": m.detail.get("score")} for m in timeline.marks_of("alert")]}


def current_snapshot(settings: Settings) -> dict[str, Any]:
    """The running blind drill's signals.json; with no such drill, a short sample of the stack."""
    from .active import ActiveDrill

    drill = ActiveDrill.current(settings)
    snapshot = read_snapshot(drill.run_folder) if drill is not None else None
    return snapshot if snapshot is not None else sample_signals(settings)


def signals_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What `gameday signals --json` prints: every signal's latest value with its time, the dead
    letters by reason, every alert kind with its count."""
    return {"drill": snapshot.get("drill"), "updated_at": snapshot.get("updated_at"),
            "signals": [asdict(row) for row in signal_rows(snapshot)],
            "dlq_reasons": snapshot.get("dlq_reasons", {}), "alerts": alert_rows(snapshot)}
