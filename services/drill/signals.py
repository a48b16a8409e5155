"""The signals a scenario can expect: alerts from the monitor, and series the drill observes itself.

Alerts arrive on the `alerts` topic (contracts.Alert.kind). Series are computed by the
drill's watcher from the events it reads (predictions, labels, DLQ) and from the
services' /metrics; each is sampled every couple of seconds and can be compared with a
threshold (`above` / `below`).
"""

from __future__ import annotations

from ..contracts import ALERT_MEANINGS

# The monitor's alert kinds (contracts.AlertKind), as signals.
ALERT_SIGNALS: dict[str, str] = {kind.value: meaning for kind, meaning in ALERT_MEANINGS.items()}

# Series the drill computes (unit in the name where it has one).
SERIES_SIGNALS: dict[str, str] = {
    "latency_p99_ms": "p99 of the live predictions' serving latency over the last 10 s, ms",
    "throughput": "predictions per second over the last 10 s",
    "fallback_share": "share of predictions served with stale or missing features (last 10 s)",
    "dlq_rate": "events dead-lettered per second over the last 10 s",
    "dlq_total": "events dead-lettered since the drill started",
    "mae_s": "online MAE of live predictions whose labels arrived in the last 30 s, seconds",
    "canary_mae_ratio": "online MAE of canary predictions / MAE of live ones (last 60 s of labels)",
    "consumer_lag": "largest lag of the pipeline's consumer groups (ingest, riders) on the trip topics, events",
    "canary_share": "share of predictions answered by a canary model over the last 10 s",
    "feature_age_s": "median age of the online features used by live predictions in the last 10 s, seconds",
    "drift_share": "share of drifted columns reported by the monitor (gameday_monitor_drift_share)",
    "unanswered_requests": "trip requests older than 20 s that never got a prediction",
}

ALL_SIGNALS = {**ALERT_SIGNALS, **SERIES_SIGNALS}


def is_alert(signal: str) -> bool:
    return signal in ALERT_SIGNALS
