"""Prometheus metrics of one ingest process (own registry: several pipelines may share a test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

OUTCOMES = ("received", "written", "dead_lettered", "duplicate", "late")


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter("gameday_ingest_events", "Events by topic and outcome", ["topic", "outcome"], registry=r)
        self.rows = Counter("gameday_ingest_rows_pushed", "Zone rows written to the online store", registry=r)
        self.lag = Gauge("gameday_ingest_consumer_lag", "Records behind the end of the assigned partitions", registry=r)
        self.freshness = Histogram(
            "gameday_feature_freshness_seconds", "Event time → online write, per written event", registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, float("inf")))
        self.batch_latency = Histogram(
            "gameday_ingest_batch_seconds", "Processing + online write time of one polled batch", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, float("inf")))
        self.checkpoints = Counter("gameday_ingest_checkpoints", "Checkpoints written (offsets committed)", registry=r)
        self.last_write = Gauge("gameday_ingest_last_online_write_timestamp_seconds", "Wall time of the last online write", registry=r)
