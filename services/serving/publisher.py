"""Publish every prediction to Kafka without ever blocking a response.

Requests put events in a bounded buffer; one background thread turns them into
contracts.Prediction events and sends them. When the buffer is full (Kafka down or
slow) a new event is dropped and counted — the response is never held up. Sends that
fail later (broker gone) are counted as drops too, by reason.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from ..contracts import Prediction

log = logging.getLogger("serving.publisher")

# (trip_id, pickup_zone, model_tag, role, features, prediction_s, latency_ms, feature_age_s, stale, missing, event_time)
PredictionRecord = tuple


class PredictionPublisher:
    """A bounded buffer drained by a background thread into the predictions topic."""

    def __init__(self, bootstrap: str | None, topic: str, capacity: int,
                 on_drop: Callable[[str, int], None], on_sent: Callable[[int], None]) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self._buffer: queue.Queue[PredictionRecord] = queue.Queue(maxsize=capacity)
        self._on_drop, self._on_sent = on_drop, on_sent
        self._stop = threading.Event()
        self._producer = None
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="prediction-publisher", daemon=True)

    def start(self) -> "PredictionPublisher":
        self._thread.start()
        return self

    def publish(self, record: PredictionRecord) -> None:
        """Queue one prediction; never blocks (a full buffer drops it, counted)."""
        try:
            self._buffer.put_nowait(record)
        except queue.Full:
            self._on_drop("buffer_full", 1)

    @property
    def pending(self) -> int:
        return self._buffer.qsize()

    def _connect(self) -> bool:
        if self.bootstrap is None:
            return False
        from kafka import KafkaProducer

        try:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks=1, linger_ms=20, retries=2,
                # A send waits at most this long for metadata or buffer space; then it fails (counted).
                max_block_ms=1000, request_timeout_ms=5000, delivery_timeout_ms=10_000,
                reconnect_backoff_max_ms=2000, client_id="serving")
        except Exception as exc:  # NoBrokersAvailable and friends: retry later, keep buffering
            log.warning("cannot reach Kafka at %s: %s", self.bootstrap, exc)
            return False
        self.connected = True
        log.info("publishing predictions to %s on %s", self.topic, self.bootstrap)
        return True

    def _run(self) -> None:
        retry_at = 0.0
        while not self._stop.is_set():
            if self._producer is None:
                if time.monotonic() < retry_at or not self._connect():
                    retry_at = max(retry_at, time.monotonic() + 2.0)
                    self._stop.wait(0.2)
                    continue
            try:
                record = self._buffer.get(timeout=0.2)
            except queue.Empty:
                continue
            self._send(record)

    def _send(self, record: PredictionRecord) -> None:
        (trip_id, zone, tag, role, features, prediction, latency_ms, age, stale, missing, event_time) = record
        event = Prediction(event_time=event_time, trip_id=trip_id, pickup_zone=zone, model_tag=tag, role=role,
                           features=features, prediction_s=prediction, latency_ms=latency_ms,
                           feature_age_s=age, stale=stale, missing=missing)
        try:
            future = self._producer.send(self.topic, key=trip_id.encode(), value=event.to_bytes())
        except Exception as exc:  # KafkaTimeoutError: no metadata / buffer full within max_block_ms
            self._on_drop("kafka_error", 1)
            log.debug("prediction dropped: %s", exc)
            return
        future.add_callback(lambda _meta: self._on_sent(1))
        future.add_errback(lambda exc: self._on_drop("kafka_error", 1))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Send what is buffered (bounded by timeout_s), then close; what is left is counted as dropped."""
        deadline = time.monotonic() + timeout_s
        while self._producer is not None and self.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(timeout=2)
        left = self.pending
        if left:
            self._on_drop("shutdown", left)
        if self._producer is not None:
            try:
                self._producer.close(timeout=max(deadline - time.monotonic(), 0.5))
            except Exception:
                pass
