"""What the CLI shows about the monitor: the latest windows, the alerts, the latest report."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..contracts import Alert
from .errors import MonitorError
from .records import alerts_file, read_jsonl, reports_dir, windows_file


def latest_windows(settings: Settings, last: int = 10) -> list[dict[str, Any]]:
    """Summaries of the last judged windows, oldest first."""
    return read_jsonl(windows_file(settings), last)


def window_row(w: dict[str, Any]) -> dict[str, Any]:
    """The figures of one window the table shows (None where not judged)."""
    worst = None
    if w.get("drift"):
        worst = max(w["drift"], key=lambda d: d["score"] / d["threshold"] if d["threshold"] else d["score"])
    quality, fresh = w.get("quality") or {}, w.get("freshness") or {}
    return {
        "window": w["index"], "status": w["status"], "rows": w["n_rows"], "labelled": w["n_labeled"],
        "drift_share": w.get("drift_share"),
        "worst_column": f"{worst['column']} {worst['score']:.2f}/{worst['threshold']:.2f}" if worst else None,
        "prediction_drift": (w.get("prediction_drift") or {}).get("score"),
        "mae_s": quality.get("mae"), "bias_s": quality.get("bias"),
        "feature_age_p95_s": fresh.get("p95_s"), "stale_share": fresh.get("stale_share"),
        "alerts": w.get("alerts", []),
        "first_event": w.get("first_event"), "last_event": w.get("last_event"), "judged_at": w.get("judged_at"),
    }


# The monitor is called stalled when its newest judged window is this many window lengths old.
STALLED_AFTER_WINDOWS = 3


def stalled_for(windows: list[dict[str, Any]], window_s: float | None, now: float | None = None) -> float | None:
    """Seconds since the newest window was judged, when that is over STALLED_AFTER_WINDOWS window
    lengths (at least 2 minutes): a monitor that stopped judging says so. None when it is judging."""
    judged = [datetime.fromisoformat(w["judged_at"]).timestamp() for w in windows if w.get("judged_at")]
    if not judged:
        return None
    age = (time.time() if now is None else now) - max(judged)
    return age if age > max(120.0, STALLED_AFTER_WINDOWS * (window_s or 60.0)) else None


def alerts_since(alerts: list[dict[str, Any]], since: float | None) -> list[dict[str, Any]]:
    """The alerts whose event time is at or after `since` (epoch s); all when None."""
    if since is None:
        return alerts
    return [a for a in alerts if datetime.fromisoformat(a["event_time"]).timestamp() >= since]


def local_alerts(settings: Settings) -> list[dict[str, Any]]:
    return read_jsonl(alerts_file(settings))


def topic_alerts(bootstrap: str, topic: str = "alerts", timeout_s: float = 3.0, **security) -> list[dict[str, Any]]:
    """Every alert on the topic (read from the beginning, no consumer group); `security`:
    runtime.kafka.kafka_options(settings.kafka)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=int(timeout_s * 1000), **security)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        consumer.seek_to_beginning()
        out, deadline = [], time.monotonic() + timeout_s * 3
        for record in consumer:
            try:
                out.append(Alert.model_validate_json(record.value).model_dump(mode="json"))
            except ValueError:
                continue
            if time.monotonic() > deadline:
                break
        return sorted(out, key=lambda a: a["event_time"])
    finally:
        consumer.close()


def latest_report(settings: Settings) -> Path:
    """The newest window's HTML report (or JSON when HTML is off)."""
    folder = reports_dir(settings)
    for pattern in ("window-*.html", "window-*.json"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]
    raise MonitorError(f"no window report in {folder} yet",
                       hint="the monitor writes one per judged window; check `gameday monitor` and `gameday logs monitor`")
