"""Publish every prediction to Kafka without ever blocking a response.

Each request puts one PredictionBatch (its rows as columns: no per-row Python object in
the serving process) in a bounded in-process buffer, counted in rows; a batch that does
not fit is dropped and counted. A drain thread wakes every DRAIN_EVERY_S, takes what
is buffered and ships it over a pipe to a small publishing process, which writes each
row as a contracts.Prediction event (JSON built with msgspec, ~3 µs) and sends it with
librdkafka (confluent-kafka, ~2 µs a record).
Why a process: the encoding and the client still cost CPU that, in the serving process,
would hold the GIL the requests need. Why a timed drain: waking the thread on every
request would cost each request a thread switch. Why librdkafka here: kafka-python costs
~22 µs of Python a record, so at the ~50,000 rows/s of batch traffic its publishing
process could not keep up (bench/serving: 105,000 of 156,000 predictions dropped as
buffer_full) — librdkafka's client runs in C threads. The publishing process reports
back what was acknowledged and what was dropped (broker unreachable, send failed), so
every prediction ends up counted as published or dropped — never silently lost, never
waited on by a request.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import pickle
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

import msgspec
import numpy as np

log = logging.getLogger("serving.publisher")
_ENCODER = msgspec.json.Encoder()

DRAIN_EVERY_S = 0.05   # how often the drain thread ships what is buffered
REPORT_EVERY_S = 0.25  # how often the publishing process reports its counts
DELIVERY_TIMEOUT_MS = 120_000  # rides out a broker restart (the broker-outage drill: 20 s down)
MAX_UNACKED = 200_000          # predictions held (sent, not yet acknowledged) while the broker is away


@dataclass
class PredictionBatch:
    """The predictions of one request by one model, as columns (row i of each belongs together)."""

    trip_ids: list[str]
    pickup_zones: list[int]
    model_tag: str
    role: str
    features: np.ndarray          # (rows, len(MODEL_FEATURES)): the values the model saw
    predictions: list[float]
    latency_ms: float
    zone_freshness: dict[int, tuple]  # pickup zone -> (feature_age_s, stale, missing)
    event_time: datetime
    rename: tuple[str, str] | None = None  # the prediction_rename knob: (field, the name it is sent under)

    def __len__(self) -> int:
        return len(self.trip_ids)

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of one contracts.Prediction event per row, the JSON written directly (in the
        publishing process, off the request path; tests check every field against the pydantic contract)."""
        from ..contracts import MODEL_FEATURES, SCHEMA_VERSION, new_event_ids

        encode = _ENCODER.encode
        event_time = self.event_time.isoformat()
        event_ids = new_event_ids(len(self))
        for i, row in enumerate(self.features.tolist()):
            zone = self.pickup_zones[i]
            age, stale, missing = self.zone_freshness[zone]
            trip_id = self.trip_ids[i]
            event = {
                "event_id": event_ids[i], "event_time": event_time, "schema_version": SCHEMA_VERSION,
                "trip_id": trip_id, "pickup_zone": zone, "model_tag": self.model_tag, "role": self.role,
                "features": dict(zip(MODEL_FEATURES, row)), "prediction_s": self.predictions[i],
                "latency_ms": self.latency_ms, "feature_age_s": age, "stale": stale, "missing": missing}
            if self.rename is not None and self.rename[0] in event:
                event[self.rename[1]] = event.pop(self.rename[0])
            yield trip_id.encode(), encode(event)


class PredictionPublisher:
    """A bounded buffer, drained by a thread into a publishing process (see the module doc)."""

    def __init__(self, bootstrap: str | None, topic: str, capacity: int,
                 on_drop: Callable[[str, int], None], on_sent: Callable[[int], None],
                 security: dict | None = None) -> None:
        """`security`: runtime.kafka.kafka_options(settings.kafka) (none: PLAINTEXT)."""
        self.bootstrap, self.topic = bootstrap, topic
        self._capacity = capacity
        self._buffer: collections.deque[PredictionBatch] = collections.deque()
        self._pending = 0  # rows in the buffer
        self._lock = threading.Lock()
        self._on_drop, self._on_sent = on_drop, on_sent
        self._stop = threading.Event()
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._conn, child_conn = context.Pipe(duplex=True)
        self._process = context.Process(target=_publishing_process, args=(child_conn, bootstrap, topic, security or {}),
                                        name="prediction-publisher", daemon=True)
        self._thread = threading.Thread(target=self._drain, name="prediction-drain", daemon=True)
        self.sent = self.dropped = 0

    def start(self) -> "PredictionPublisher":
        self._process.start()
        self._thread.start()
        return self

    def publish(self, batch: PredictionBatch) -> None:
        """Queue a request's predictions; never blocks (a batch that does not fit is dropped, counted)."""
        rows = len(batch)
        with self._lock:
            fits = self._pending + rows <= self._capacity
            if fits:
                self._pending += rows
                self._buffer.append(batch)
        if not fits:
            self._count_drop("buffer_full", rows)

    @property
    def pending(self) -> int:
        return self._pending

    def _count_drop(self, reason: str, n: int) -> None:
        self.dropped += n
        self._on_drop(reason, n)

    def _drain(self) -> None:
        while True:
            stopping = self._stop.wait(DRAIN_EVERY_S)
            chunk = [self._buffer.popleft() for _ in range(len(self._buffer))]
            self._read_reports()
            if not chunk:
                if stopping:
                    return
                continue
            rows = sum(len(batch) for batch in chunk)
            try:
                # Blocks only this thread when the publishing process falls behind; the buffer then fills.
                self._conn.send_bytes(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
            except (OSError, ValueError):  # the publishing process is gone
                self._count_drop("publisher_down", rows)
            finally:
                with self._lock:
                    self._pending -= rows

    def _read_reports(self) -> None:
        try:
            while self._conn.poll():
                sent, drops = self._conn.recv()
                if sent:
                    self.sent += sent
                    self._on_sent(sent)
                for reason, n in drops.items():
                    self._count_drop(reason, n)
        except (EOFError, OSError):
            pass

    def stop(self, timeout_s: float = 5.0) -> None:
        """Hand over what is buffered, let the publishing process flush (bounded), collect its last counts."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        left = self.pending
        if left:
            self._count_drop("shutdown", left)
        try:
            self._conn.send_bytes(b"")  # end of stream: flush and report
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + timeout_s
        while self._process.is_alive() and time.monotonic() < deadline:
            self._read_reports()
            time.sleep(0.05)
        self._read_reports()
        if self._process.is_alive():
            self._process.terminate()
        self._conn.close()


def _publishing_process(conn, bootstrap: str | None, topic: str, security: dict) -> None:
    """Receive chunks of prediction batches, send them as Prediction events, report counts back."""
    # Not niced: a prediction is the monitor's input, not a by-product. Publishing costs ~4 µs
    # a row (~0.2 of a core at 50,000 rows/s); starved of CPU, it would drop them by the thousand.
    # Only failures get a delivery report (a Python call per record would cost ~1 µs more):
    # what left librdkafka's queue without failing was acknowledged.
    drops: dict[str, int] = {}
    handed = [0]   # records given to librdkafka
    failed = [0]   # ... of them reported failed
    reported = [0]  # acknowledged records already reported

    def drop(reason: str, n: int = 1) -> None:
        drops[reason] = drops.get(reason, 0) + n

    def delivery_failed(error: object, _message: object) -> None:  # called from poll(), in this thread
        failed[0] += 1
        drop("kafka_error")

    def unacked() -> int:
        return len(producer) if producer is not None else 0

    def report() -> None:
        acknowledged = handed[0] - failed[0] - unacked()
        counts = (acknowledged - reported[0], dict(drops))
        reported[0] = acknowledged
        drops.clear()
        if counts[0] or counts[1]:
            conn.send(counts)

    producer, retry_at, last_report = None, 0.0, time.monotonic()
    try:
        while True:
            if conn.poll(REPORT_EVERY_S):
                raw = conn.recv_bytes()
                if not raw:
                    break
                chunk: list[PredictionBatch] = pickle.loads(raw)
                rows = sum(len(batch) for batch in chunk)
                if producer is None and time.monotonic() >= retry_at:
                    producer = _connect(bootstrap, security)
                    retry_at = time.monotonic() + 2.0
                if producer is None:
                    drop("kafka_unavailable", rows)
                elif unacked() + rows > MAX_UNACKED:
                    drop("kafka_backlog", rows)
                else:
                    for batch in chunk:
                        for key, value in batch.records():
                            if _send(producer, topic, key, value, delivery_failed):
                                handed[0] += 1
                            else:
                                drop("kafka_error")
            if producer is not None:
                producer.poll(0)  # runs the delivery callbacks
            if time.monotonic() - last_report >= REPORT_EVERY_S:
                report()
                last_report = time.monotonic()
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    finally:
        if producer is not None:
            try:
                left = producer.flush(3)
                if left:  # not acknowledged in time: dropped (report() counts them out of the sent)
                    drop("shutdown", left)
            except Exception:
                pass
        try:
            report()
        except (OSError, ValueError):
            pass


def _connect(bootstrap: str | None, security: dict):
    """A librdkafka producer once the broker answers (None meanwhile: the rows are counted as kafka_unavailable)."""
    if bootstrap is None:
        return None
    from confluent_kafka import KafkaException, Producer

    from ..runtime.kafka import librdkafka_config

    # A broker restart is a pause, not a loss: records wait in the producer and are retried for up
    # to DELIVERY_TIMEOUT_MS, then reported failed (counted); MAX_UNACKED bounds what waits.
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "serving-predictions", "acks": 1,
                         "linger.ms": 20, "message.timeout.ms": DELIVERY_TIMEOUT_MS, "delivery.report.only.error": True,
                         "queue.buffering.max.messages": MAX_UNACKED + 10_000,
                         "retry.backoff.ms": 200, "reconnect.backoff.max.ms": 2000, "log_level": 3,
                         **librdkafka_config(security)})
    try:
        producer.list_topics(timeout=1.0)  # raises when no broker answers
    except KafkaException as exc:
        logging.getLogger("serving.publisher").warning("cannot reach Kafka at %s: %s", bootstrap, exc)
        return None
    return producer


def _send(producer, topic: str, key: bytes, value: bytes, on_failure) -> bool:
    """Hand one record to librdkafka; False when it refused it (the caller counts it)."""
    for _ in range(100):
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_failure)
            return True
        except BufferError:  # its own queue is full: let it deliver for a moment, then retry
            producer.poll(0.05)
        except Exception:  # a record it refuses (e.g. too large): the others go on
            return False
    return False
