"""The signals a scenario can expect: alerts from the monitor, and series the drill observes itself.

Alerts arrive on the `alerts` topic (contracts.Alert.kind). Series are computed by the
drill's watcher from the events it reads (predictions, labels, DLQ) and from the
services' /metrics; each is sampled every couple of seconds and can be compared with a
threshold (`above` / `below`).
"""

from __future__ import annotations

from ..contracts import ALERT_MEANINGS, MODEL_FEATURES

# The monitor's alert kinds (contracts.AlertKind), as signals.
ALERT_SIGNALS: dict[str, str] = {kind.value: meaning for kind, meaning in ALERT_MEANINGS.items()}

# Series the drill computes (unit in the name where it has one).
SERIES_SIGNALS: dict[str, str] = {
    "latency_p99_ms": "p99 of the live predictions' serving latency over the last 10 s, ms",
    "latency_p50_ms": "median of the live predictions' serving latency over the last 10 s, ms",
    "throughput": "predictions per second over the last 10 s",
    "fallback_share": "share of predictions served with stale or missing features (last 10 s)",
    "dlq_rate": "dead letters per second over the last 10 s (one per consumer that refused an event)",
    "dlq_total": "dead letters since the drill started (one per consumer that refused an event: `gameday dlq stats`)",
    "mae_s": "online MAE of live predictions whose labels arrived in the last 30 s, seconds",
    "bias_s": "mean error (prediction - actual) of the same live predictions, seconds: < 0 under-predicts",
    "canary_mae_ratio": "online MAE of canary predictions / MAE of live ones (last 60 s of labels)",
    "consumer_lag": "largest lag of the pipeline's consumer groups (ingest, riders) on the trip topics, events",
    "canary_share": "share of predictions answered by a canary model over the last 10 s",
    "feature_age_s": "median age of the online features used by live predictions in the last 10 s, seconds",
    "drift_share": "share of drifted columns reported by the monitor (gameday_monitor_drift_share)",
    "unanswered_requests": "trip requests older than 20 s that never got a prediction",
    # What the impact model prices (impact/triptime.yaml): the ETAs riders saw, live and canary.
    "served_mae_s": "online MAE of the ETAs riders saw (live and canary) whose labels arrived in the last 30 s, seconds",
    "late_share": "share of those trips that ended more than the impact model's late threshold after their ETA",
    "latency_over_slo_ms": "mean excess of the served predictions' latency above the SLO (last 10 s), ms",
    "slow_share": "share of the served predictions slower than the SLO (last 10 s)",
    "unanswered_share": "share of the trip requests of a 10 s cohort, 20 s old, that never got a prediction",
    "stale_share": "share of live predictions whose features serving judged stale (older than its TTL), last 10 s",
    "missing_share": "share of live predictions with a zone feature missing or NaN (fallback used), last 10 s",
    "duplicate_share": "share of trip requests on the topic whose trip_id was already requested, last 10 s",
    "late_rate": "events per second ingest counted late (older than their zone's window: no feature changed)",
    "feature_read_p99_ms": "p99 of serving's online feature reads since the last sample, ms",
    "serving_rss_mb": "resident memory of serving's worker, MB",
    "monitor_idle_s": "seconds since the monitor last judged a window",
    "label_coverage": "share of the last judged window's predictions that had their label (the monitor's)",
    "label_lag_s": "median seconds from a live prediction to its label, over the labels that arrived in the last 10 s",
}

# Series computed per model feature: the mean of the feature over recent live predictions.
FEATURE_MEAN_PREFIX = "mean."
FEATURE_MEAN_SIGNALS: dict[str, str] = {
    f"{FEATURE_MEAN_PREFIX}{name}": f"mean {name} served to live predictions over the last 10 s"
    for name in MODEL_FEATURES}

ALL_SIGNALS = {**ALERT_SIGNALS, **SERIES_SIGNALS, **FEATURE_MEAN_SIGNALS}


def is_alert(signal: str) -> bool:
    return signal in ALERT_SIGNALS
