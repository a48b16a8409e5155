"""The drill's eyes: read the live topics and the services' /metrics, and sample the series.

One consumer thread reads trips.requested, trips.completed, predictions, alerts and dlq
from their ends (no consumer group: the drill never disturbs the stack's own offsets);
one sampler thread turns what was read, the consumer groups' lag and the monitor's,
ingest's and serving's /metrics into the series of signals.py every `sample_every` seconds.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from typing import Any, NamedTuple

import httpx

from ..config import Settings, TopicNames
from ..contracts import MODEL_FEATURES, Topic, is_backfill, reason_kind
from ..impact import default_impact_model
from .signals import FEATURE_MEAN_PREFIX
from .targets import Target
from .timeline import Timeline

log = logging.getLogger("drill.watch")

WINDOW_S = 10.0        # recent-window series (latency, throughput, shares, means)
LABEL_WINDOW_S = 30.0  # online MAE over labels that arrived this recently
# Latency percentiles keep WINDOW_S whatever the drill's time factor: a tail needs ~200 requests (a p99
# of 100 is one slow request), while shares and means follow a change sooner over a shorter window.
CANARY_WINDOW_S = 60.0
UNANSWERED_AFTER_S = 20.0
FORGET_AFTER_S = 600.0
# kafka-python refuses frames above 1 MB by default, while one fetch may carry 1 MB per
# partition: after a backlog (a broker restart) every fetch failed with "Invalid frame length".
RECEIVE_MAX_BYTES = 64 * 2**20
MAX_TRACKED = 200_000  # trips remembered for joins; older ones are forgotten
# The roles whose ETA a rider sees (a shadow's prediction is never shown).
SERVED_ROLES = ("live", "canary")
LAG_PREFIX = "consumer_lag."  # + group: each consumer group's own lag series
# Monitor / service gauges worth keeping for the debrief's plots (summed over labels).
SCRAPED_GAUGES = ("gameday_monitor_drift_share", "gameday_ingest_consumer_lag",
                  "gameday_feature_freshness_seconds", "gameday_monitor_mae", "gameday_monitor_mae_seconds",
                  "gameday_monitor_label_coverage", "gameday_monitor_last_judged_timestamp_seconds",
                  "gameday_serving_worker_rss_bytes",
                  "gameday_monitor_bias_seconds", "gameday_monitor_reference_mae_seconds")
LATE_EVENTS = "gameday_ingest_events_total"  # with outcome="late"
FEATURE_READS = "gameday_serving_feature_read_seconds_bucket"
SCRAPED = {"monitor": SCRAPED_GAUGES, "ingest": SCRAPED_GAUGES + (LATE_EVENTS,),
           "serving": ("gameday_serving_worker_rss_bytes", FEATURE_READS)}
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Seen(NamedTuple):
    """One prediction the watcher read."""

    t: float                    # wall time it was read
    role: str
    latency_ms: float
    fallback: bool              # stale or missing features: the model got fallback values
    stale: bool                 # serving judged its features older than the TTL
    missing: bool               # a zone feature missing or NaN
    feature_age_s: float | None
    features: dict


class Predicted(NamedTuple):
    """A trip's predictions, waiting for its label."""

    t: float                    # wall time its first prediction was read
    by_role: dict[str, float]   # role -> prediction_s


class Labelled(NamedTuple):
    """One prediction met by its label."""

    t: float                    # wall time the label was read
    role: str
    error_s: float              # prediction - actual (signed)
    late: bool                  # the trip ended late_after_s past its ETA
    lag_s: float                # seconds from the prediction to its label


def pipeline_groups(settings: Settings) -> tuple[str, ...]:
    """The consumer groups whose lag is the drill's `consumer_lag`: ingest (features) and the rider app (ETAs)."""
    from ..riders.service import GROUP_ID as RIDERS_GROUP

    return (settings.ingest.group_id, RIDERS_GROUP)


class Watcher:
    def __init__(self, bootstrap: str, target: Target, timeline: Timeline, sample_every: float = 2.0,
                 security: dict | None = None, lag_groups: tuple[str, ...] | None = None,
                 topics: TopicNames | None = None, time_factor: float = 1.0) -> None:
        self.bootstrap, self.target, self.timeline = bootstrap, target, timeline
        # An accelerated drill (time factor 0.5) reads its shares, means, rates and online MAE over windows
        # as much shorter: a fault, and a fix, show in its series as much sooner.
        self.recent_s, self.label_window_s = WINDOW_S * time_factor, LABEL_WINDOW_S * time_factor
        # The impact model's latency SLO and lateness threshold: what the incident's cost is measured against.
        impact = default_impact_model()
        self.slo_ms = impact.latency.slo_ms.value
        self.late_after_s = impact.eta_error.late_threshold_s
        self.topics = topics or TopicNames()  # settings.topics: the names on the broker
        self.security = security or {}  # runtime.kafka.kafka_options(settings.kafka)
        # The consumer groups whose lag is `consumer_lag` (None: all): the pipeline's, whose backlog
        # delays features and ETAs — not a monitor busy judging a window (its lag is its own series).
        self.lag_groups = lag_groups
        self.sample_every = sample_every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._predictions: deque[Seen] = deque()
        self._predicted: dict[str, Predicted] = {}          # trip_id -> its predictions
        self._requested: dict[str, float] = {}              # trip_id -> wall time seen (unanswered)
        self._request_ids: OrderedDict[str, None] = OrderedDict()  # trip ids requested, oldest first
        self._repeats: deque[tuple[float, bool]] = deque()  # (wall time, trip id requested before?)
        self._counters: dict[str, tuple[float, Any]] = {}   # scraped counter -> (wall time, value) last sampled
        self._answered: OrderedDict[str, None] = OrderedDict()  # trip ids with a prediction, oldest first
        self._errors: deque[Labelled] = deque()
        self._request_times: deque[float] = deque()  # wall time each (live) trip request was seen
        self._dlq_times: deque[float] = deque()
        # Letters, counted as `gameday dlq stats` counts them: by id (a letter sent again after a consumer's
        # restart has the same id), by reason kind (contracts.reason_kind). contracts.LETTERS_COUNTED.
        self._letter_ids: OrderedDict[str, None] = OrderedDict()
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
                                     request_timeout_ms=15000, **self.security)
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
                # Partitions are read in any order: _on_request lets a prediction come before its request.
                self._request_times.append(now)
                self._on_request(event["trip_id"], now)
            elif topic == Topic.PREDICTIONS:
                self._on_prediction(event, now)
            elif topic == Topic.TRIPS_COMPLETED:
                self._on_label(event, now)
        if topic == Topic.ALERTS:
            self.timeline.mark("alert", str(event.get("kind")), column=event.get("column"),
                               score=event.get("score"), threshold=event.get("threshold"),
                               evidence_path=event.get("evidence_path"), message=event.get("message", ""))

    def _on_request(self, trip_id: str, now: float) -> None:
        repeated = trip_id in self._request_ids
        self._repeats.append((now, repeated))
        if not repeated:
            self._request_ids[trip_id] = None
            if len(self._request_ids) > MAX_TRACKED:
                self._request_ids.popitem(last=False)
        # Partitions are read in any order: the prediction may come before its request.
        if trip_id not in self._answered and len(self._requested) < MAX_TRACKED:
            self._requested[trip_id] = now

    def _on_prediction(self, event: dict, now: float) -> None:
        trip_id, role = event.get("trip_id"), event.get("role", "live")
        stale, missing = bool(event.get("stale")), bool(event.get("missing"))
        features = event.get("features") or {}
        self._predictions.append(Seen(now, role, float(event.get("latency_ms") or 0.0), stale or missing, stale, missing,
                                      event.get("feature_age_s"), features))
        predicted = event.get("prediction_s")  # a release may rename it (prediction_rename): no number, no error
        if isinstance(trip_id, str) and len(self._predicted) < MAX_TRACKED:
            if isinstance(predicted, (int, float)):
                self._predicted.setdefault(trip_id, Predicted(now, {})).by_role[role] = float(predicted)
            self._requested.pop(trip_id, None)
            self._answered[trip_id] = None
            if len(self._answered) > MAX_TRACKED:
                self._answered.popitem(last=False)

    def _on_label(self, event: dict, now: float) -> None:
        predicted = self._predicted.pop(event.get("trip_id"), None)
        duration = event.get("duration_s")
        if predicted and isinstance(duration, (int, float)):
            for role, prediction_s in predicted.by_role.items():
                self._errors.append(Labelled(now, role, prediction_s - duration,
                                             duration - prediction_s > self.late_after_s, now - predicted.t))

    def _on_dead_letter(self, event: dict, now: float) -> None:
        reason = str(event.get("reason", "?"))
        letter_id = event.get("event_id")
        with self._lock:
            if isinstance(letter_id, str):
                if letter_id in self._letter_ids:
                    return
                self._letter_ids[letter_id] = None
                if len(self._letter_ids) > MAX_TRACKED:
                    self._letter_ids.popitem(last=False)
            self._dlq_times.append(now)
            self.dlq_total += 1
            key = reason_kind(reason)
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
        values.update(self._scraped(now))
        at = self.timeline.now()
        for name, value in values.items():
            self.timeline.sample(name, value, at=at)
        return values

    def _event_series(self, now: float) -> dict[str, float | None]:
        with self._lock:
            _trim(self._predictions, now - max(WINDOW_S, CANARY_WINDOW_S))
            _trim(self._errors, now - CANARY_WINDOW_S)
            _trim(self._dlq_times, now - self.recent_s)
            _trim(self._request_times, now - UNANSWERED_AFTER_S - WINDOW_S)
            _trim(self._repeats, now - self.recent_s)
            timed = [p for p in self._predictions if p.t >= now - WINDOW_S]
            recent = [p for p in timed if p.t >= now - self.recent_s]
            live = [p for p in recent if p.role == "live"]
            live_timed = [p for p in timed if p.role == "live"]
            served = [p for p in timed if p.role in SERVED_ROLES]
            repeats = [repeated for _, repeated in self._repeats]
            label_errors = list(self._errors)
            for trip_id in [k for k, t in self._requested.items() if now - t > FORGET_AFTER_S]:
                del self._requested[trip_id]
            unanswered = sum(1 for t in self._requested.values() if now - t > UNANSWERED_AFTER_S)
            # The requests of one 10 s cohort old enough to have been answered: the share that was not.
            cohort_start, cohort_end = now - UNANSWERED_AFTER_S - WINDOW_S, now - UNANSWERED_AFTER_S
            cohort = sum(1 for t in self._request_times if t <= cohort_end)
            cohort_unanswered = sum(1 for t in self._requested.values() if cohort_start <= t <= cohort_end)
            dlq_recent, dlq_total = len(self._dlq_times), self.dlq_total
        values: dict[str, float | None] = {
            "throughput": len(recent) / self.recent_s,
            "dlq_rate": dlq_recent / self.recent_s,
            "dlq_total": float(dlq_total),
            "unanswered_requests": float(unanswered),
            "latency_p99_ms": _percentile([p.latency_ms for p in live_timed], 99) if len(live_timed) >= 5 else None,
            "latency_p50_ms": _percentile([p.latency_ms for p in live_timed], 50) if len(live_timed) >= 5 else None,
            "fallback_share": _share(p.fallback for p in live),
            "stale_share": _share(p.stale for p in live),
            "missing_share": _share(p.missing for p in live),
            "canary_share": _share(p.role == "canary" for p in recent),
            "duplicate_share": _share(repeats),
            # What the impact model prices (impact/estimate.py): latency beyond the SLO, request by request.
            "latency_over_slo_ms": (sum(max(0.0, p.latency_ms - self.slo_ms) for p in served) / len(served)
                                    if len(served) >= 5 else None),
            "slow_share": sum(1 for p in served if p.latency_ms > self.slo_ms) / len(served) if len(served) >= 5 else None,
            "unanswered_share": min(1.0, cohort_unanswered / cohort) if cohort >= 5 else None,
        }
        ages = [p.feature_age_s for p in live if isinstance(p.feature_age_s, (int, float))]
        # The median: popular zones refresh within seconds, rare ones may keep old values for
        # minutes; when the pipeline stops, every zone ages and the median climbs 1 s per second.
        values["feature_age_s"] = _percentile(ages, 50) if ages else None
        for feature in MODEL_FEATURES:
            numbers = [p.features[feature] for p in live if isinstance(p.features.get(feature), (int, float))]
            values[FEATURE_MEAN_PREFIX + feature] = sum(numbers) / len(numbers) if numbers else None
        live_errors = [e.error_s for e in label_errors if e.role == "live" and e.t >= now - self.label_window_s]
        values["mae_s"] = sum(map(abs, live_errors)) / len(live_errors) if len(live_errors) >= 5 else None
        values["bias_s"] = sum(live_errors) / len(live_errors) if len(live_errors) >= 5 else None
        # Labels that stopped coming leave no sample (None), not an old one: a lag below a limit is shown only
        # by labels that came.
        lags = [e.lag_s for e in label_errors if e.role == "live" and e.t >= now - self.recent_s]
        values["label_lag_s"] = _percentile(lags, 50) if len(lags) >= 5 else None
        served_labels = [(abs(e.error_s), e.late) for e in label_errors
                         if e.role in SERVED_ROLES and e.t >= now - self.label_window_s]
        if len(served_labels) >= 5:
            values["served_mae_s"] = sum(e for e, _ in served_labels) / len(served_labels)
            values["late_share"] = sum(late for _, late in served_labels) / len(served_labels)
        canary = [abs(e.error_s) for e in label_errors if e.role == "canary"]
        live_all = [abs(e.error_s) for e in label_errors if e.role == "live"]
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

    def _scraped(self, now: float) -> dict[str, float | None]:
        """The series read from the services' /metrics: the monitor's gauges, ingest's late events, serving's
        feature reads and worker memory."""
        samples: list[tuple[str, dict[str, str], float]] = []
        for component, names in SCRAPED.items():
            try:
                text = httpx.get(self.target.admin_url(component) + "/metrics", timeout=2.0).text
            except Exception:
                continue
            samples += parse_samples(text, names)
        values: dict[str, float | None] = dict(gauges_of(samples, SCRAPED_GAUGES))
        if "gameday_monitor_drift_share" in values:
            values["drift_share"] = values["gameday_monitor_drift_share"]
        if "gameday_monitor_label_coverage" in values:
            values["label_coverage"] = values["gameday_monitor_label_coverage"]
        if (judged := values.get("gameday_monitor_last_judged_timestamp_seconds")):
            values["monitor_idle_s"] = max(0.0, now - judged)
        if (rss := values.get("gameday_serving_worker_rss_bytes")) is not None:
            values["serving_rss_mb"] = rss / 2**20
        late = [v for name, labels, v in samples if name == LATE_EVENTS and labels.get("outcome") == "late"]
        if late:
            values["late_rate"] = self._rate("late", now, sum(late))
        reads = {labels["le"]: v for name, labels, v in samples if name == FEATURE_READS and "le" in labels}
        if reads:
            previous = self._counters.get("reads", (now, None))[1]
            self._counters["reads"] = (now, reads)
            values["feature_read_p99_ms"] = histogram_quantile(reads, previous, 0.99, scale=1000.0)
        return values

    def _rate(self, key: str, now: float, value: float) -> float | None:
        """Per second since the last sample of this counter (None at the first; 0 after a restart reset it)."""
        previous = self._counters.get(key)
        self._counters[key] = (now, value)
        if previous is None or now <= previous[0]:
            return None
        return max(0.0, value - previous[1]) / (now - previous[0])


def parse_samples(text: str, names: tuple[str, ...]) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text -> (metric, labels, value) of the samples of these metrics (NaN ones left out)."""
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#") or not line.startswith(names):
            continue
        match = _SAMPLE.match(line)
        if match is None or match.group(1) not in names:
            continue
        try:
            value = float(match.group(3))
        except ValueError:
            continue
        if value == value:
            found.append((match.group(1), dict(_LABEL.findall(match.group(2) or "")), value))
    return found


def gauges_of(samples: list[tuple[str, dict[str, str], float]], names: tuple[str, ...]) -> dict[str, float]:
    """{metric: value} for the given names: summed over label sets (max for freshness, shares and memory)."""
    found: dict[str, float] = {}
    for metric, _, value in samples:
        if metric not in names:
            continue
        combine = max if any(word in metric for word in ("freshness", "share", "rss", "timestamp")) else (
            lambda a, b: a + b)
        found[metric] = combine(found[metric], value) if metric in found else value
    return found


def histogram_quantile(now: dict[str, float], before: dict[str, float] | None, q: float,
                       scale: float = 1.0) -> float | None:
    """The q-quantile of what a Prometheus histogram counted between two scrapes ({le: cumulative count}),
    as the upper bound of its bucket (the largest finite bound when it lies beyond), times `scale`;
    None when nothing was counted (or at the first scrape)."""
    if before is None:
        return None
    bounds = sorted(now, key=lambda le: float(le))
    counts = [now[le] - before.get(le, 0.0) for le in bounds]
    total = counts[-1]
    if total <= 0:
        return None
    finite = [le for le in bounds if le != "+Inf"]
    for le, count in zip(bounds, counts):
        if count >= q * total:
            return float(le if le != "+Inf" else finite[-1]) * scale
    return float(finite[-1]) * scale


def _share(flags) -> float | None:
    """The share of true flags (None when there are none)."""
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _trim(items: deque, older_than: float) -> None:
    """Drop entries (a time, or a tuple starting with a time) older than `older_than`."""
    while items and (items[0][0] if isinstance(items[0], tuple) else items[0]) < older_than:
        items.popleft()
