"""Prometheus metrics of the service, served on BentoML's own /metrics.

Created at service start (not at import): BentoML workers set PROMETHEUS_MULTIPROC_DIR
after importing the service module, and prometheus_client picks its storage on import.
The stale-feature rate is gameday_serving_feature_fallback_total / gameday_serving_rows_total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class ServingMetrics:
    request_latency: Any
    requests: Any
    rows: Any
    refused_rows: Any
    fallbacks: Any
    published: Any
    publish_drops: Any
    feature_reads: Any
    worker_rss: Any

    def count_rows(self, role: str, n: int) -> None:
        _child(self.rows, role).inc(n)

    def count_refused_rows(self, n: int) -> None:
        self.refused_rows.inc(n)

    def count_fallbacks(self, reason: str, n: int) -> None:
        _child(self.fallbacks, reason).inc(n)

    def observe_feature_read(self, seconds: float) -> None:
        self.feature_reads.observe(seconds)

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        _child(self.request_latency, endpoint).observe(seconds)
        _child(self.requests, endpoint, str(status)).inc()

    @classmethod
    def instance(cls) -> "ServingMetrics":
        """The process's metrics (Prometheus metrics are per process: created once, on first use)."""
        global _instance
        if _instance is None:
            _instance = cls._create()
        return _instance

    @classmethod
    def _create(cls) -> "ServingMetrics":
        from prometheus_client import Counter, Gauge, Histogram

        return cls(
            request_latency=Histogram("gameday_serving_request_latency_seconds",
                                      "Time to answer a request (features + model), by endpoint",
                                      ["endpoint"], buckets=LATENCY_BUCKETS),
            requests=Counter("gameday_serving_requests_total", "Requests by endpoint and HTTP status",
                             ["endpoint", "status"]),
            rows=Counter("gameday_serving_rows_total", "Predictions made, by role", ["role"]),
            refused_rows=Counter("gameday_serving_rows_refused_total",
                                 "Batch rows answered with their own error (not a valid trip)"),
            fallbacks=Counter("gameday_serving_feature_fallback_total",
                              "Predictions that used fallback features, by reason (missing, stale, timeout, unavailable)",
                              ["reason"]),
            published=Counter("gameday_serving_predictions_published_total", "Prediction events acknowledged by Kafka"),
            publish_drops=Counter("gameday_serving_prediction_publish_drops_total",
                                  "Prediction events not published, by reason (buffer_full, kafka_unavailable, kafka_backlog, kafka_error, shutdown)",
                                  ["reason"]),
            feature_reads=Histogram("gameday_serving_feature_read_seconds",
                                    "One online read of zone features (a request's, or the cache's refresh)",
                                    buckets=LATENCY_BUCKETS),
            worker_rss=Gauge("gameday_serving_worker_rss_bytes", "Resident memory of the worker answering requests",
                             multiprocess_mode="livemax"),
        )


_instance: ServingMetrics | None = None
_children: dict[tuple, Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    """metric.labels(*labels), looked up once: prometheus_client's labels() costs more than the update itself."""
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


# The endpoints whose requests are timed and counted (admin and probes are not).
MEASURED = {"/predict": "predict", "/predict_batch": "predict_batch"}


class RequestMetricsMiddleware:
    """ASGI middleware: latency and status of every prediction request, rejected ones included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        endpoint = MEASURED.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            return await self.app(scope, receive, send)
        import time

        started = time.perf_counter()
        status = [500]

        async def send_and_watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            ServingMetrics.instance().observe_request(endpoint, status[0], time.perf_counter() - started)
