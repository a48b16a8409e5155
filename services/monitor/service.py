"""The monitor process: read predictions and labels, cut windows, judge them, publish alerts.

A window is judged in two steps: its label-free checks (freshness, missing features, skew) soon after
it closes, the rest (Evidently's drift report, quality, slices, labels) once its labels are in.

Every event is accounted for: a prediction or label that is not a valid event of its topic
goes to the dead-letter topic with the reason; predictions of roles that are not monitored
are counted as skipped; the join's outcomes are counted (see windows.py).

Its fault knob (contracts/knobs.py MonitorFaults) scales every alert threshold. A reset (a drill's
fresh start) drops the windows not judged yet — counted — and the alerts' history, so the
next windows are judged on the traffic from then on only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from ..config import MonitorSettings, Settings
from ..contracts import (EventRejected, Prediction, Topic, TripCompleted, dead_letter_of, is_backfill, parse_event,
                         reason_kind, utcnow)
from ..contracts.knobs import MonitorFaults
from ..runtime.admin_http import Knobs
from ..runtime.kafka import kafka_options
from ..runtime.logs import RepeatedEvents, log_event
from ..stack.endpoints import kafka_bootstrap
from .alerts import Finding, Hysteresis, judged_findings, screening_findings, to_alert
from .errors import ReferenceError_
from .evaluate import judge, screen
from .metrics import MonitorMetrics
from .records import Evidence
from .reference import References
from .results import WindowResult
from .skew import OfflineLookup, check_skew, feast_offline_lookup
from .slices import SliceBook
from .windows import Window, WindowBook

log = logging.getLogger("monitor")
CONSUMER_NAME = "monitor"
# Alerts and dead letters the producer could not take yet (broker down): kept, retried this often.
UNSENT_MAX = 1000
RETRY_EVERY_S = 2.0
RESET_TIMEOUT_S = 30.0  # a reset waits for the judging loop (which may be judging a window)
# The thresholds the threshold_scale knob multiplies: every check that fails above its threshold.
SCALED_THRESHOLDS = ("drift_noise_k", "categorical_threshold", "drift_threshold", "mae_increase", "bias_share",
                     "stale_share", "median_age_s", "skew_threshold", "missing_share", "too_good",
                     "slice_mae_increase")


def scaled_thresholds(cfg: MonitorSettings, scale: float) -> MonitorSettings:
    """`cfg` with every alert threshold multiplied by `scale` (below 1: more alerts)."""
    if scale == 1.0:
        return cfg
    return cfg.model_copy(update={name: getattr(cfg, name) * scale for name in SCALED_THRESHOLDS
                                  if getattr(cfg, name) is not None})


def default_lookup(settings: Settings) -> OfflineLookup | None:
    """The pipeline's Feast offline store, when this install has it (Feast is imported at the
    first lookup, not here: it takes seconds)."""
    import importlib.util

    if importlib.util.find_spec("feast") is None:
        return None
    return feast_offline_lookup(settings)


class MonitorService:
    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None,
                 lookup: OfflineLookup | None | str = "default", clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.cfg = settings.monitor
        self.topics = settings.topics
        # Fails here, at start, when the configured reference lacks a column.
        self.references = References(settings)
        self.registry = registry or CollectorRegistry()
        self.metrics = MonitorMetrics(self.registry)
        self.metrics.forget_last_window()
        self.book = WindowBook(self.cfg, clock)
        self.hysteresis = Hysteresis(self.cfg.alert_k, self.cfg.alert_n)
        self.slices = SliceBook(self.cfg.slice_windows)
        self.knobs = Knobs(MonitorFaults)
        self._reset_asked = threading.Event()
        self._reset_done = threading.Event()
        self._last_reset: dict = {}
        self._fresh_since = None  # after a reset: predictions made before it are not windowed
        self.evidence = Evidence(settings)
        self.lookup = default_lookup(settings) if lookup == "default" else lookup
        self.results: deque[WindowResult] = deque(maxlen=50)
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self._unsent: deque[tuple[str, bytes | None, bytes]] = deque()
        self._retry_at = 0.0
        self._alert_keys: set[tuple[str, str | None]] = set()
        self._exported: dict[str, int] = {}
        self.started_at = time.time()
        # Dead letters: counted per reason, one log line per interval (a schema break makes thousands).
        self.dead_letters = RepeatedEvents(log, "dead-lettered events")

    # ---- Kafka ---------------------------------------------------------------------------

    def connect(self) -> None:
        bootstrap = kafka_bootstrap(self.settings)
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=self.cfg.group_id, client_id="gameday-monitor",
            auto_offset_reset=self.cfg.auto_offset_reset, enable_auto_commit=True,
            max_poll_records=2000, **kafka_options(self.settings.kafka))
        self._consumer.subscribe([self.topics.predictions, self.topics.trips_completed])
        # A broker outage delays alerts and dead letters, never stalls the judging loop: send()
        # waits at most max_block_ms for metadata (else the record stays queued, see
        # _send_queued), and a record handed over is retried for delivery_timeout_ms.
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="gameday-monitor", acks="all",
                                       linger_ms=5, max_block_ms=1000, delivery_timeout_ms=120_000,
                                       **kafka_options(self.settings.kafka))

    def ready(self) -> bool:
        return self._consumer is not None and bool(self._consumer.assignment())

    def run(self, stopping: threading.Event, poll_ms: int = 500) -> None:
        """Until stopping is set: read a batch, join, judge the windows that are due."""
        if self._consumer is None:
            self.connect()
        assert self._consumer is not None
        while not stopping.is_set():
            batches = self._consumer.poll(timeout_ms=poll_ms)
            for records in batches.values():
                for record in records:
                    if is_backfill(record.headers):  # the label of a trip of the past: nobody predicted it
                        self.metrics.events.labels(record.topic, "skipped_backfill").inc()
                        continue
                    self.handle(record.topic, record.value, record.partition, record.offset)
            for window in self.book.to_screen():
                if not self._reset_asked.is_set():
                    self.screen_window(window)
            for window in self.book.due():
                if self._reset_asked.is_set():  # dropped unjudged (counted) rather than make the drill wait
                    self.book.counts.predictions_dropped += len(window.rows)
                    continue
                self.judge_window(window)
            if self._reset_asked.is_set():
                self._reset()
            if self._unsent and time.monotonic() >= self._retry_at:
                self._send_queued()
            self.metrics.pending.set(self.book.pending_predictions())
            self.dead_letters.flush()

    def close(self) -> None:
        self.dead_letters.flush(force=True)
        left = self.book.pending_predictions()
        if left:
            log_event(log, "stopping with windows not judged", predictions=left)
        if self._consumer is not None:
            self._consumer.close()
        if self._producer is not None:
            self._send_queued()
            if self._unsent:
                log_event(log, "stopping with alerts or dead letters not sent", records=len(self._unsent))
            try:
                self._producer.flush(10)
            except KafkaError as exc:  # the broker is down: what is still queued is lost, and said so
                log_event(log, "stopping with alerts or dead letters not sent", error=str(exc))
            self._producer.close(10)

    # ---- events --------------------------------------------------------------------------

    def handle(self, topic: str, raw: bytes | None, partition: int | None = None, offset: int | None = None) -> None:
        contract = Topic.PREDICTIONS if topic == self.topics.predictions else Topic.TRIPS_COMPLETED
        try:
            if raw is None:
                raise EventRejected("empty message (tombstone)")
            event = parse_event(contract, raw)
        except EventRejected as exc:
            self.dead_letter(topic, raw or b"", exc.reason, partition, offset)
            return
        if isinstance(event, Prediction):
            if event.role not in self.cfg.roles:
                self.metrics.events.labels(topic, f"skipped_{event.role}").inc()
                return
            if self._fresh_since is not None and event.event_time < self._fresh_since:
                self.metrics.events.labels(topic, "skipped_before_reset").inc()
                return
            self.book.add_prediction(event)
        elif isinstance(event, TripCompleted):
            self.book.add_label(event)
        self.metrics.events.labels(topic, "processed").inc()

    def dead_letter(self, topic: str, raw: bytes, reason: str, partition: int | None, offset: int | None) -> None:
        letter = dead_letter_of(raw, source_topic=topic, partition=partition, offset=offset, consumer=CONSUMER_NAME,
                             reason=reason)
        self._send(self.topics.dlq, None, letter.to_bytes())
        kind = reason_kind(reason)
        self.metrics.events.labels(topic, "dead_lettered").inc()
        self.metrics.dead_letters.labels(topic, kind).inc()
        self.dead_letters.add(f"{topic}: {kind}", topic=topic, offset=offset, reason=reason[:300])

    # ---- reset ---------------------------------------------------------------------------

    def reset(self, timeout_s: float = RESET_TIMEOUT_S) -> dict:
        """Ask the judging loop to start afresh and wait until it did (called from the admin server's
        thread; the loop owns the windows). Returns what was dropped."""
        self._reset_done.clear()
        self._reset_asked.set()
        if not self._reset_done.wait(timeout_s):
            self._reset_asked.clear()  # given up: the loop must not reset later, in the middle of a drill
            raise TimeoutError(f"the monitor's loop did not reset within {timeout_s:.0f} s")
        return self._last_reset

    def _reset(self) -> None:
        self._fresh_since = utcnow()  # still in flight (buffered, on the broker): made before, dropped when read
        dropped = self.book.drop_all()
        alerts = sorted(f"{kind}:{column or ''}" for kind, column in self.hysteresis.active)
        self.hysteresis = Hysteresis(self.cfg.alert_k, self.cfg.alert_n)
        self.slices.clear()
        self.metrics.resets.inc()
        self.metrics.forget_last_window()
        self._last_reset = {"predictions_dropped": dropped, "alerts_ended": alerts}
        log_event(log, "reset: windows not judged dropped, alert history forgotten", **self._last_reset)
        self._export_join_state()
        self._reset_asked.clear()
        self._reset_done.set()

    # ---- windows -------------------------------------------------------------------------

    def screen_window(self, window: Window) -> WindowResult:
        """A window's label-free checks, soon after it closed: freshness, missing features, skew. Their alerts
        need not wait for the labels (a stale feature store is known at once); their evidence is the report
        the window gets when it is judged."""
        result = self._result_of(window)
        frame = window.frame()
        cfg = scaled_thresholds(self.cfg, self.knobs.value.threshold_scale)
        screen(frame, cfg, result)
        if result.status == "ok":
            result.skew_status, result.skew = check_skew(frame, self.lookup, cfg, seed=window.index)
        # The report the window gets when judged (none without a reference to judge it against).
        report = self.evidence.report_path(window.index, self.cfg.save_html) if self._has_reference(window) else None
        result.alerts = self._raise_alerts(screening_findings(result, cfg), window.index, report)
        self._export_join_state()
        self.metrics.observe_screening(result)
        window.screening = result
        return result

    def judge_window(self, window: Window) -> WindowResult:
        """Judge one window once its labels are in (screened first if it was not): Evidently report, quality,
        slices; alerts; evidence; metrics."""
        screening = window.screening or self.screen_window(window)
        result = self._result_of(window)
        result.status, result.reason, result.n_rows = screening.status, screening.reason, screening.n_rows
        result.freshness, result.missing = screening.freshness, screening.missing
        result.skew_status, result.skew = screening.skew_status, screening.skew
        frame = window.frame()
        cfg = scaled_thresholds(self.cfg, self.knobs.value.threshold_scale)
        snapshot = None
        try:
            reference = self.references.for_model(window.model_tag)
        except ReferenceError_ as exc:
            result.status, result.reason = "no_reference", str(exc)
        else:
            snapshot = judge(frame, reference, cfg, result)
        if result.status == "ok":  # a window not judged for quality adds no errors to its slices
            labelled = frame if result.quality is not None else frame.iloc[:0]
            result.slices = self.slices.add(labelled, reference.slices, cfg.slice_min_rows)
        evidence = None
        if snapshot is not None:
            result.report_json, result.report_html, result.workspace_run = self.evidence.save_report(
                window.index, snapshot, html=self.cfg.save_html)
            evidence = result.report_html or result.report_json
        result.alerts = screening.alerts + self._raise_alerts(judged_findings(result, cfg), window.index, evidence)
        self._export_join_state()
        self.metrics.observe(result)
        self.evidence.record_window(result.as_dict())
        self.results.append(result)
        log_event(log, "window judged", window=result.index, status=result.status, rows=result.n_rows,
                  labeled=result.n_labeled, drift_share=result.drift_share,
                  mae=result.quality.mae if result.quality else None, alerts=result.alerts,
                  eval_s=round(result.eval_s, 3), reason=result.reason or None)
        return result

    def _has_reference(self, window: Window) -> bool:
        try:
            self.references.for_model(window.model_tag)
        except ReferenceError_:
            return False
        return True

    @staticmethod
    def _result_of(window: Window) -> WindowResult:
        return WindowResult(index=window.index, model_tag=window.model_tag, status="ok",
                            close_reason=window.close_reason, judged_at=utcnow().isoformat(),
                            first_event=window.first_event.isoformat() if window.first_event else None,
                            last_event=window.last_event.isoformat() if window.last_event else None)

    def _raise_alerts(self, found: list[Finding], window: int, evidence: str | None) -> list[str]:
        """The findings through the hysteresis; publish the alerts that start now. Returns their names."""
        names = []
        for finding in self.hysteresis.update(found):
            self.publish(to_alert(finding, window, evidence))
            names.append(f"{finding.kind}" + (f"[{finding.column}]" if finding.column else ""))
        return names

    def _export_join_state(self) -> None:
        """Alert states as 1/0 gauges; the join's running counts as counters (by their increase)."""
        self._alert_keys |= self.hysteresis.active
        for kind, column in self._alert_keys:
            self.metrics.active.labels(kind, column or "").set(int((kind, column) in self.hysteresis.active))
        for outcome, value in self.book.counts.__dict__.items():
            self.metrics.labels.labels(outcome).inc(value - self._exported.get(outcome, 0))
            self._exported[outcome] = value

    def publish(self, alert) -> None:
        self._send(self.topics.alerts, alert.kind.encode(), alert.to_bytes())
        self.evidence.record_alert(alert)
        self.metrics.alerts.labels(alert.kind).inc()
        log.warning("alert", extra={"fields": alert.model_dump(mode="json")})

    def _send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Queue a record for Kafka and hand what is queued to the producer (see _send_queued)."""
        if self._producer is None:
            return
        if len(self._unsent) == UNSENT_MAX:
            dropped_topic, _, _ = self._unsent.popleft()
            self.metrics.published.labels(dropped_topic, "failed: queue full").inc()
        self._unsent.append((topic, key, value))
        if time.monotonic() >= self._retry_at:
            self._send_queued()

    def _send_queued(self) -> None:
        """Hand the queued records to the producer, oldest first, without waiting for delivery;
        the outcome (sent / failed: reason) is counted when it is known. A record the producer
        cannot take (the broker is down and the topic's metadata unknown) stays queued and is
        tried again RETRY_EVERY_S later, so an outage delays alerts without stalling the loop."""
        counter = self.metrics.published

        def failed(topic: str, exc: BaseException) -> None:
            counter.labels(topic, f"failed: {type(exc).__name__}").inc()
            log_event(log, "could not publish", topic=topic, error=str(exc))

        while self._unsent and self._producer is not None:
            topic, key, value = self._unsent[0]
            try:
                future = self._producer.send(topic, key=key, value=value)
            except KafkaError:
                self._retry_at = time.monotonic() + RETRY_EVERY_S
                break
            self._unsent.popleft()
            future.add_callback(lambda _, topic=topic: counter.labels(topic, "sent").inc())
            future.add_errback(lambda exc, topic=topic: failed(topic, exc))
        self.metrics.unsent.set(len(self._unsent))

    def status(self) -> dict:
        last = self.results[-1].as_dict() if self.results else None
        return {"started_at": self.started_at, "dead_lettered": self.dead_letters.total,
                "pending_predictions": self.book.pending_predictions(), "counts": self.book.counts.__dict__,
                "active_alerts": sorted(f"{k}:{c or ''}" for k, c in self.hysteresis.active),
                "recent_failures": [f"{k}:{c or ''}" for k, c in self.hysteresis.failing()], "last_window": last}
