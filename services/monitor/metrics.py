"""The monitor's Prometheus figures (gameday_monitor_*), updated after every screened and judged window."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .results import WindowResult


class MonitorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def g(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"gameday_monitor_{name}", doc, labels, registry=registry)

        self.events = Counter("gameday_monitor_events_total", "Events read, by topic and outcome",
                              ("topic", "outcome"), registry=registry)
        self.dead_letters = Counter("gameday_monitor_dead_letters_total",
                                    "Dead letters sent, by source topic and reason kind", ("topic", "reason"),
                                    registry=registry)
        self.windows = Counter("gameday_monitor_windows_total", "Windows judged, by status", ("status",),
                               registry=registry)
        self.alerts = Counter("gameday_monitor_alerts_total", "Alerts published, by kind", ("kind",),
                              registry=registry)
        self.published = Counter("gameday_monitor_published_total",
                                 "Alerts and dead letters sent to Kafka, by topic and outcome (sent, failed: reason)",
                                 ("topic", "outcome"), registry=registry)
        self.eval_seconds = Histogram("gameday_monitor_window_eval_seconds", "Seconds to judge a window",
                                      buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=registry)
        self.last_window = g("last_window", "Index of the last judged window")
        self.last_judged = g("last_judged_timestamp_seconds", "Wall time the last window was judged")
        self.window_rows = g("window_rows", "Predictions in the last judged window")
        self.label_coverage = g("label_coverage", "Share of the last window's predictions with a label")
        self.drift_share = g("drift_share", "Share of drifted feature columns in the last window")
        self.drift_score = g("drift_score", "Drift score per feature column (Evidently)", ("column",))
        self.column_drifted = g("column_drifted", "1 when the column drifted in the last window", ("column",))
        self.prediction_drift = g("prediction_drift_score", "Drift score of the predictions")
        self.mae = g("mae_seconds", "MAE of the labelled predictions of the last window")
        self.rmse = g("rmse_seconds", "RMSE of the labelled predictions of the last window")
        self.bias = g("bias_seconds", "Mean error (prediction - actual), signed: positive = over-predicting")
        self.ref_mae = g("reference_mae_seconds", "MAE on the model's reference sample")
        self.feature_age = g("feature_age_seconds", "Age of the online features used", ("quantile",))
        self.stale_share = g("stale_feature_share", "Share of predictions with stale or missing features")
        self.skew = g("skew_relative_difference", "Served vs offline feature mean, relative", ("column",))
        self.active = g("alert_active", "1 while a check is in alert (after hysteresis)", ("kind", "column"))
        self.pending = g("pending_predictions", "Predictions in windows not judged yet")
        self.unsent = g("unsent_records", "Alerts and dead letters waiting for the broker")
        self.labels = Counter("gameday_monitor_labels_total", "Labels and predictions by join outcome",
                              ("outcome",), registry=registry)
        self.resets = Counter("gameday_monitor_resets_total", "Resets: windows not judged dropped, alert history "
                              "forgotten (a drill's fresh start)", registry=registry)
        self.missing = g("missing_feature_share", "Share of the last window's predictions that got a zone "
                         "feature's fallback (missing or NaN)", ("column",))
        self.slice_mae = g("slice_mae_seconds", "MAE per slice over the last windows' labelled trips", ("slice",))
        self.slice_increase = g("slice_mae_increase", "A slice's MAE over its reference MAE, minus 1", ("slice",))

    def forget_last_window(self) -> None:
        """No window judged yet (a start, a reset): the last window's gauges read NaN, not 0 — a coverage or
        an MAE of 0 would read as a real (alarming) measurement to whoever scrapes them."""
        for gauge in (self.label_coverage, self.drift_share, self.mae, self.rmse, self.bias, self.window_rows,
                      self.stale_share):
            gauge.set(float("nan"))

    def observe_screening(self, r: WindowResult) -> None:
        """The label-free figures of a window just closed (see service.MonitorService.screen_window)."""
        if r.status != "ok":
            return
        if (f := r.freshness) is not None:
            for name, value in (("0.5", f.p50_s), ("0.95", f.p95_s), ("1", f.max_s)):
                if value is not None:
                    self.feature_age.labels(name).set(value)
            self.stale_share.set(f.stale_share)
        for s in r.skew:
            self.skew.labels(s.column).set(s.relative_difference)
        for column, share in r.missing.items():
            self.missing.labels(column).set(share)

    def observe(self, r: WindowResult) -> None:
        self.windows.labels(r.status).inc()
        self.last_window.set(r.index)
        self.last_judged.set_to_current_time()
        self.window_rows.set(r.n_rows)
        self.label_coverage.set(r.label_coverage)
        if r.status != "ok":
            return
        self.eval_seconds.observe(r.eval_s)
        if r.drift_share is not None:
            self.drift_share.set(r.drift_share)
        for d in r.drift:
            self.drift_score.labels(d.column).set(d.score)
            self.column_drifted.labels(d.column).set(int(d.drifted))
        if r.prediction_drift:
            self.prediction_drift.set(r.prediction_drift.score)
        if q := r.quality:
            self.mae.set(q.mae)
            self.rmse.set(q.rmse)
            self.bias.set(q.bias)
            self.ref_mae.set(q.ref_mae)
        for sq in r.slices:
            self.slice_mae.labels(sq.slice).set(sq.mae)
            self.slice_increase.labels(sq.slice).set(sq.increase)
