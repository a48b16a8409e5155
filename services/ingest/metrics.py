"""Prometheus metrics of one ingest process (own registry: several pipelines may share a test process)."""

from __future__ import annotations

import threading
from typing import Iterable

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily

FRESHNESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, float("inf"))


class BatchHistogram:
    """A Prometheus histogram fed a whole batch of observations at once (numpy, not one call per
    value: freshness is observed for every written event). Exposed like prometheus_client's."""

    def __init__(self, name: str, documentation: str, buckets: Iterable[float], registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = np.asarray([float(b) for b in buckets])
        if self.bounds[-1] != float("inf"):
            self.bounds = np.append(self.bounds, float("inf"))
        self._counts = np.zeros(len(self.bounds), dtype=np.int64)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: np.ndarray) -> None:
        """Count each value in the first bucket whose upper bound it does not exceed (le)."""
        values = np.asarray(values, dtype=float)
        if not len(values):
            return
        counts = np.bincount(np.searchsorted(self.bounds, values, side="left"), minlength=len(self.bounds))
        with self._lock:
            self._counts += counts[: len(self.bounds)]
            self._sum += float(values.sum())

    def observe(self, value: float) -> None:
        self.observe_many(np.asarray([value]))

    def collect(self):
        with self._lock:
            cumulative, total = np.cumsum(self._counts), self._sum
        family = HistogramMetricFamily(self.name, self.documentation, buckets=[
            ("+Inf" if bound == float("inf") else repr(float(bound)), int(count)) for bound, count in zip(self.bounds, cumulative)],
            sum_value=total)
        yield family

    def describe(self):
        return [HistogramMetricFamily(self.name, self.documentation)]


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # received = written + late + duplicate + dead_lettered; ahead: the dead-lettered ones whose
        # event time was too far past ingest's clock (ingest.max_ahead_s).
        self.events = Counter("gameday_ingest_events", "Events by topic and outcome (received, written, late, duplicate, "
                              "dead_lettered, ahead)", ["topic", "outcome"], registry=r)
        # The same letters by why (contracts.reason_kind): what `gameday dlq stats` tallies on the topic.
        self.dead_letters = Counter("gameday_ingest_dead_letters", "Dead letters sent, by source topic and reason kind",
                                    ["topic", "reason"], registry=r)
        self.rows = Counter("gameday_ingest_rows_pushed", "Zone rows written to the online store", registry=r)
        self.lag = Gauge("gameday_ingest_consumer_lag", "Records behind the end of the assigned partitions", registry=r)
        self.freshness = BatchHistogram(
            "gameday_feature_freshness_seconds", "Event time → online write, per written event", FRESHNESS_BUCKETS, r)
        self.batch_latency = Histogram(
            "gameday_ingest_batch_seconds", "Processing + online write time of one polled batch", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, float("inf")))
        self.refetches = Counter("gameday_ingest_refetches", "Partitions sought again after a stalled fetch "
                                 "(a backlog and no record for ingest.stall_s)", registry=r)
        self.checkpoints = Counter("gameday_ingest_checkpoints", "Checkpoints written (offsets committed)", registry=r)
        self.last_write = Gauge("gameday_ingest_last_online_write_timestamp_seconds", "Wall time of the last online write", registry=r)
