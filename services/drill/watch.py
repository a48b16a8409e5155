"""The drill's eyes: read the live topics and the services' /metrics, and sample the series.

One consumer thread reads trips.requested, trips.completed, predictions, alerts and dlq
from their ends (no consumer group: the drill never disturbs the stack's own offsets);
one sampler thread turns what was read, the consumer groups' lag and the monitor's
gauges into the series of signals.py every `sample_every` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict, deque
from typing import Any

import httpx

from ..config import TopicNames
from ..contracts import MODEL_FEATURES, Topic, is_backfill
from .scenario import FEATURE_MEAN_PREFIX
from .targets import Target
from .timeline import Timeline

log = logging.getLogger("drill.watch")

WINDOW_S = 10.0        # recent-window series (latency, throughput, shares, means)
LABEL_WINDOW_S = 30.0  # online MAE over labels that arrived this recently
CANARY_WINDOW_S = 60.0
UNANSWERED_AFTER_S = 20.0
FORGET_AFTER_S = 600.0
# kafka-python refuses frames above 1 MB by default, while one fetch may carry 1 MB per
# partition: after a backlog (a broker restart) every fetch failed with "Invalid frame length".
RECEIVE_MAX_BYTES = 64 * 2**20
MAX_TRACKED = 200_000  # trips remembered for joins; older ones are forgotten
LAG_PREFIX = "consumer_lag."  # + group: each consumer group's own lag series
# Monitor / service gauges worth keeping for the debrief's plots (summed over labels).
SCRAPED_GAUGES = ("gameday_monitor_drift_share", "gameday_ingest_consumer_lag",
                  "gameday_feature_freshness_seconds", "gameday_monitor_mae", "gameday_monitor_mae_seconds")


class Watcher:
    def __init__(self, bootstrap: str, target: Target, timeline: Timeline, sample_every: float = 2.0,
                 security: dict | None = None, lag_groups: tuple[str, ...] | None = None,
                 topics: TopicNames | None = None) -> None:
        self.bootstrap, self.target, self.timeline = bootstrap, target, timeline
        self.topics = topics or TopicNames()  # settings.topics: the names on the broker
        self.security = security or {}  # runtime.kafka.kafka_options(settings.kafka)
        # The consumer groups whose lag is `consumer_lag` (None: all): the pipeline's, whose backlog
        # delays features and ETAs — not a monitor busy judging a window (its lag is its own series).
        self.lag_groups = lag_groups
        self.sample_every = sample_every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        # (wall time, role, latency_ms, fallback?, feature_age_s, features)
        self._predictions: deque[tuple[float, str, float, bool, float | None, dict]] = deque()
        self._predicted: dict[str, dict[str, float]] = {}   # trip_id -> role -> prediction_s
        self._requested: dict[str, float] = {}              # trip_id -> wall time seen (unanswered)
        self._answered: OrderedDict[str, None] = OrderedDict()  # trip ids with a prediction, oldest first
        self._errors: deque[tuple[float, str, float]] = deque()  # (wall time label seen, role, abs error)
        self._dlq_times: deque[float] = deque()
        self.dlq_total = 0
        self.dlq_reasons: dict[str, int] = {}
        self.counts: dict[str, int] = {t.value: 0 for t in Topic}  # by contract topic
        self._threads = [threading.Thread(target=self._consume, name="drill-consume", daemon=True),
                         threading.Thread(target=self._sample_loop, name="drill-sample", daemon=True)]

    def start(self, ready_timeout_s: float = 30.0) -> "Watcher":
        for thread in self._threads:
            thread.start()
        self._ready.wait(ready_timeout_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    # ---- reading the topics ----------------------------------------------------------------

    def _consume(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = None
        try:
            consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                     client_id="gameday-drill", consumer_timeout_ms=1000,
                                     receive_message_max_bytes=RECEIVE_MAX_BYTES,
                                     request_timeout_ms=15000, reconnect_backoff_max_ms=2000, **self.security)
            partitions = []
            for topic in self.topics.all():
                for p in sorted(consumer.partitions_for_topic(topic) or ()):
                    partitions.append(TopicPartition(topic, p))
            consumer.assign(partitions)
            consumer.seek_to_end(*partitions)
            for tp in partitions:
                consumer.position(tp)  # resolve "end" now, so events from here on are all seen
            self._ready.set()
            while not self._stop.is_set():
                try:
                    batches = consumer.poll(timeout_ms=500, max_records=2000)
                except Exception as exc:  # the broker is down during a broker-outage drill
                    log.debug("poll failed: %s", exc)
                    time.sleep(0.5)
                    continue
                now = time.time()
                for tp, records in batches.items():
                    for record in records:
                        if not is_backfill(record.headers):  # trips of the past: no rider waits
                            self._on_event(tp.topic, record.value, now)
        except Exception as exc:
            self.timeline.mark("note", "watcher stopped reading topics", error=str(exc))
            log.warning("drill watcher cannot read the topics: %s", exc)
        finally:
            self._ready.set()
            if consumer is not None:
                consumer.close()

    def _on_event(self, name: str, raw: bytes, now: float) -> None:
        topic = self.topics.contract_of(name)
        if topic is None:
            return
        self.counts[topic.value] += 1
        try:
            event = json.loads(raw)
        except (ValueError, TypeError):
            event = None
        if topic == Topic.DLQ:
            self._on_dead_letter(event if isinstance(event, dict) else {}, now)
            return
        if not isinstance(event, dict):
            return
        with self._lock:
            if topic == Topic.TRIPS_REQUESTED and isinstance(event.get("trip_id"), str):
                # Partitions are read in any order: the prediction may come before its request.
                if event["trip_id"] not in self._answered and len(self._requested) < MAX_TRACKED:
                    self._requested[event["trip_id"]] = now
            elif topic == Topic.PREDICTIONS:
                self._on_prediction(event, now)
            elif topic == Topic.TRIPS_COMPLETED:
                self._on_label(event, now)
        if topic == Topic.ALERTS:
            self.timeline.mark("alert", str(event.get("kind")), column=event.get("column"),
                               score=event.get("score"), threshold=event.get("threshold"),
                               evidence_path=event.get("evidence_path"), message=event.get("message", ""))

    def _on_prediction(self, event: dict, now: float) -> None:
        trip_id, role = event.get("trip_id"), event.get("role", "live")
        fallback = bool(event.get("stale")) or bool(event.get("missing"))
        features = event.get("features") or {}
        self._predictions.append((now, role, float(event.get("latency_ms") or 0.0), fallback,
                                  event.get("feature_age_s"), features))
        if isinstance(trip_id, str) and len(self._predicted) < MAX_TRACKED:
            self._predicted.setdefault(trip_id, {})[role] = float(event.get("prediction_s") or 0.0)
            self._requested.pop(trip_id, None)
            self._answered[trip_id] = None
            if len(self._answered) > MAX_TRACKED:
                self._answered.popitem(last=False)

    def _on_label(self, event: dict, now: float) -> None:
        by_role = self._predicted.pop(event.get("trip_id"), None)
        duration = event.get("duration_s")
        if by_role and isinstance(duration, (int, float)):
            for role, predicted in by_role.items():
                self._errors.append((now, role, abs(predicted - duration)))

    def _on_dead_letter(self, event: dict, now: float) -> None:
        reason = str(event.get("reason", "?"))
        with self._lock:
            self._dlq_times.append(now)
            self.dlq_total += 1
            key = reason.split(":")[0][:60]
            first_of_kind = key not in self.dlq_reasons
            self.dlq_reasons[key] = self.dlq_reasons.get(key, 0) + 1
        if first_of_kind:
            self.timeline.mark("dlq", key, source_topic=event.get("source_topic"),
                               consumer=event.get("consumer"), reason=reason[:300])

    # ---- sampling the series ---------------------------------------------------------------

    def _sample_loop(self) -> None:
        self._ready.wait(30)
        while not self._stop.wait(self.sample_every):
            try:
                self.sample_once()
            except Exception as exc:  # one bad sample must not end the drill's watch
                log.warning("sampling failed: %s", exc)

    def sample_once(self) -> dict[str, float | None]:
        now = time.time()
        values = self._event_series(now)
        by_group = self._consumer_lags() or {}
        counted = [lag for group, lag in by_group.items() if self.lag_groups is None or group in self.lag_groups]
        values["consumer_lag"] = float(max(counted)) if counted else None
        values.update({f"{LAG_PREFIX}{group}": float(lag) for group, lag in by_group.items()})
        values.update(self._scraped_gauges())
        at = self.timeline.now()
        for name, value in values.items():
            self.timeline.sample(name, value, at=at)
        return values

    def _event_series(self, now: float) -> dict[str, float | None]:
        with self._lock:
            _trim(self._predictions, now - max(WINDOW_S, CANARY_WINDOW_S))
            _trim(self._errors, now - CANARY_WINDOW_S)
            _trim(self._dlq_times, now - WINDOW_S)
            recent = [p for p in self._predictions if p[0] >= now - WINDOW_S]
            live = [p for p in recent if p[1] == "live"]
            label_errors = [(t, role, e) for t, role, e in self._errors]
            for trip_id in [k for k, t in self._requested.items() if now - t > FORGET_AFTER_S]:
                del self._requested[trip_id]
            unanswered = sum(1 for t in self._requested.values() if now - t > UNANSWERED_AFTER_S)
            dlq_recent, dlq_total = len(self._dlq_times), self.dlq_total
        values: dict[str, float | None] = {
            "throughput": len(recent) / WINDOW_S,
            "dlq_rate": dlq_recent / WINDOW_S,
            "dlq_total": float(dlq_total),
            "unanswered_requests": float(unanswered),
            "latency_p99_ms": _percentile([p[2] for p in live], 99) if len(live) >= 5 else None,
            "fallback_share": sum(p[3] for p in live) / len(live) if live else None,
            "canary_share": sum(1 for p in recent if p[1] == "canary") / len(recent) if recent else None,
        }
        ages = [p[4] for p in live if isinstance(p[4], (int, float))]
        # The median: popular zones refresh within seconds, rare ones may keep old values for
        # minutes; when the pipeline stops, every zone ages and the median climbs 1 s per second.
        values["feature_age_s"] = _percentile(ages, 50) if ages else None
        for feature in MODEL_FEATURES:
            numbers = [p[5][feature] for p in live if isinstance(p[5].get(feature), (int, float))]
            values[FEATURE_MEAN_PREFIX + feature] = sum(numbers) / len(numbers) if numbers else None
        live_mae = [e for t, role, e in label_errors if role == "live" and t >= now - LABEL_WINDOW_S]
        values["mae_s"] = sum(live_mae) / len(live_mae) if len(live_mae) >= 5 else None
        canary = [e for _, role, e in label_errors if role == "canary"]
        live_all = [e for _, role, e in label_errors if role == "live"]
        if len(canary) >= 30 and len(live_all) >= 30 and sum(live_all) > 0:
            values["canary_mae_ratio"] = (sum(canary) / len(canary)) / (sum(live_all) / len(live_all))
        return values

    def _consumer_lags(self) -> dict[str, int] | None:
        """Each consumer group's lag on the trip topics (from its committed offsets)."""
        from kafka import KafkaAdminClient, KafkaConsumer

        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                     api_version_auto_timeout_ms=3000, client_id="gameday-drill-lag", **self.security)
        except Exception:
            return None
        try:
            groups = [g[0] for g in admin.list_consumer_groups()]
            committed: dict[Any, int] = {}
            worst: dict[str, int] = {}
            for group in groups:
                for tp, meta in admin.list_consumer_group_offsets(group).items():
                    if tp.topic in (self.topics.trips_requested, self.topics.trips_completed) and meta.offset >= 0:
                        committed[(group, tp)] = meta.offset
            if not committed:
                return None
            consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=5000,
                                     client_id="gameday-drill-lag", **self.security)
            try:
                ends = consumer.end_offsets(list({tp for _, tp in committed}))
            finally:
                consumer.close()
            for (group, tp), offset in committed.items():
                worst[group] = worst.get(group, 0) + max(0, ends.get(tp, offset) - offset)
            return worst
        except Exception:
            return None
        finally:
            admin.close()

    def _scraped_gauges(self) -> dict[str, float | None]:
        values: dict[str, float | None] = {}
        for component in ("monitor", "ingest"):
            try:
                text = httpx.get(self.target.admin_url(component) + "/metrics", timeout=2.0).text
            except Exception:
                continue
            for name, value in parse_gauges(text, SCRAPED_GAUGES).items():
                values[name] = value
        if "gameday_monitor_drift_share" in values:
            values["drift_share"] = values["gameday_monitor_drift_share"]
        return values


def parse_gauges(text: str, names: tuple[str, ...]) -> dict[str, float]:
    """Prometheus text -> {metric: value} for the given names (summed over label sets; max for freshness)."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        metric = line.split("{", 1)[0].split(" ", 1)[0]
        if metric not in names:
            continue
        try:
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        if value != value:  # NaN
            continue
        combine = max if "freshness" in metric or "share" in metric else (lambda a, b: a + b)
        found[metric] = combine(found[metric], value) if metric in found else value
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _trim(items: deque, older_than: float) -> None:
    """Drop entries (a time, or a tuple starting with a time) older than `older_than`."""
    while items and (items[0][0] if isinstance(items[0], tuple) else items[0]) < older_than:
        items.popleft()
