"""Turn trips into events and emit them: live (paced, labels late), fast-forward history, replay.

Every run writes two topics keyed by pickup zone: trips.requested at request time and
trips.completed (the label) at dropoff time. Live labels come duration_s / time_scale wall
seconds after the request; history and replay carry their own (past) times. Trips of the past
(a history, a live producer's warm start) are marked as backfill (contracts.BACKFILL_HEADER).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import numpy as np

from ..config import TopicNames
from ..contracts import BACKFILL_HEADERS, LABEL_MATURITY_S, TripCompleted, TripRequested, new_event_id
from ..contracts.knobs import ProducerFaults
from .faults import WireFaults
from .simulator import TripBatch, TripSimulator
from .sink import Sink

FaultsSource = Callable[[], ProducerFaults]


@dataclass
class ProduceReport:
    trips: int = 0
    events: int = 0
    by_topic: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    labels_not_emitted: int = 0
    first_event_time: datetime | None = None
    last_event_time: datetime | None = None
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return {
            "trips": self.trips, "events": self.events, "by_topic": dict(self.by_topic),
            "faults": dict(self.faults), "labels_not_emitted": self.labels_not_emitted,
            "first_event_time": self.first_event_time, "last_event_time": self.last_event_time,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(self.events / self.elapsed_s, 1) if self.elapsed_s else None,
        }


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class Emitter:
    """Serializes events (with the wire knobs) to the sink and keeps the report."""

    def __init__(self, sink: Sink, topics: TopicNames, seed: int, faults: FaultsSource,
                 on_emit: Callable[[str, int, bytes, str | None], None] | None = None) -> None:
        self.sink, self.topics, self.faults = sink, topics, faults
        self.wire = WireFaults(seed)
        self.report = ProduceReport()
        self.on_emit = on_emit

    def requested(self, batch: TripBatch, i: int) -> None:
        event = TripRequested(
            event_id=new_event_id(), event_time=_ts(batch.request_time[i]), trip_id=batch.trip_id[i],
            pickup_zone=int(batch.pickup_zone[i]), dropoff_zone=int(batch.dropoff_zone[i]),
            trip_distance=float(batch.trip_distance[i]), passenger_count=int(batch.passenger_count[i]))
        self._emit(self.topics.trips_requested, event.pickup_zone, event.model_dump(mode="json"), event.event_time,
                   batch.backfill)
        self.report.trips += 1

    def completed(self, batch: TripBatch, i: int, emitted_at: float) -> None:
        event = TripCompleted(
            event_id=new_event_id(), event_time=_ts(emitted_at), trip_id=batch.trip_id[i],
            pickup_zone=int(batch.pickup_zone[i]), dropoff_zone=int(batch.dropoff_zone[i]),
            pickup_time=_ts(batch.request_time[i]), trip_distance=float(batch.trip_distance[i]),
            passenger_count=int(batch.passenger_count[i]), duration_s=float(batch.duration_s[i]))
        self._emit(self.topics.trips_completed, event.pickup_zone, event.model_dump(mode="json"), event.event_time,
                   batch.backfill)

    def _emit(self, topic: str, key: int, payload: dict, event_time: datetime, backfill: bool) -> None:
        value, kind = self.wire.encode(payload, self.faults())
        self.sink.send(topic, key, value, BACKFILL_HEADERS if backfill else None)
        if self.on_emit:
            self.on_emit(topic, key, value, kind)
        report = self.report
        report.events += 1
        report.by_topic[topic] += 1
        if kind:
            report.faults[kind] += 1
        report.first_event_time = report.first_event_time or event_time
        report.last_event_time = event_time


def run_live(sim: TripSimulator, emitter: Emitter, rate: float, *, time_scale: float = 1.0,
             duration_s: float | None = None, max_trips: int | None = None,
             label_wait_s: float = 60.0, stopping: threading.Event | None = None,
             tick_s: float = 0.02, warm_start_s: float = 0.0) -> ProduceReport:
    """Request `rate` trips/s (times the rate_multiplier knob) at wall-clock event times until
    the duration, the trip count or a stop; then wait up to label_wait_s for due labels.
    With warm_start_s, first the trips of that many past seconds (see `_warm_start`)."""
    stopping = stopping or threading.Event()
    pending: list[tuple[float, int, TripBatch, int]] = []  # (due wall time, seq, batch, index)
    started = last = time.time()
    seq = _warm_start(sim, emitter, pending, rate, warm_start_s, time_scale, started) if warm_start_s else 0
    owed = 0.0
    trips_left = max_trips if max_trips is not None else float("inf")
    while not stopping.is_set() and trips_left > 0 and (duration_s is None or last - started < duration_s):
        now = time.time()
        faults = emitter.faults()
        owed += rate * faults.rate_multiplier * (now - last)
        last = now
        n = int(min(owed, trips_left))
        if n:
            owed -= n
            trips_left -= n
            batch = sim.trips(np.full(n, now), faults)
            for i in range(n):
                emitter.requested(batch, i)
                due = now + batch.duration_s[i] / time_scale
                heapq.heappush(pending, (due, seq, batch, i))
                seq += 1
        _emit_due(pending, emitter, now)
        stopping.wait(max(0.0, tick_s - (time.time() - now)))
    deadline = time.time() + label_wait_s
    while pending and not stopping.is_set() and time.time() < deadline:
        _emit_due(pending, emitter, time.time())
        stopping.wait(min(0.05, max(0.0, pending[0][0] - time.time())) if pending else 0)
    emitter.report.labels_not_emitted = len(pending)
    emitter.sink.flush()
    emitter.report.elapsed_s = time.time() - started
    return emitter.report


def _warm_start(sim: TripSimulator, emitter: Emitter, pending: list, rate: float, seconds: float,
                time_scale: float, now: float) -> int:
    """The trips of the last `seconds` at `rate`, as if the producer had been running: requests at
    their past times, the labels already due in between, the rest left pending. The city did not
    start with this process: with a warm start as long as the longest zone window, a fresh stack's
    features are at their steady level at once. Returns the next sequence number."""
    n = int(rate * seconds)
    times = np.sort(np.random.default_rng([sim.seed, 13]).uniform(now - seconds, now, n))
    batch = sim.trips(times, emitter.faults(), backfill=True)
    for i in range(n):
        _emit_due(pending, emitter, times[i])
        emitter.requested(batch, i)
        heapq.heappush(pending, (times[i] + batch.duration_s[i] / time_scale, i, batch, i))
    _emit_due(pending, emitter, now)
    return n


def _emit_due(pending: list, emitter: Emitter, now: float) -> None:
    while pending and pending[0][0] <= now:
        due, _, batch, i = heapq.heappop(pending)
        emitter.completed(batch, i, due)


def history_request_times(rng: np.random.Generator, start: float, end: float, rate: float,
                          chunk_s: float = 3600.0) -> Iterator[np.ndarray]:
    """Poisson request times at `rate` trips/s over [start, end), a chunk of time at a time, sorted."""
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(chunk_start + chunk_s, end)
        yield np.sort(rng.uniform(chunk_start, chunk_end, rng.poisson(rate * (chunk_end - chunk_start))))
        chunk_start = chunk_end


def run_history(sim: TripSimulator, emitter: Emitter, seconds: float, *, rate: float,
                end: float | None = None, label_wait_s: float = LABEL_MATURITY_S,
                stopping: threading.Event | None = None) -> ProduceReport:
    """Fast-forward: the last `seconds` of the city at `rate` trips/s (the live density), emitted as
    fast as the broker takes them, in event-time order across both topics, as backfill. Requests
    stop `label_wait_s` before `end` (now) and labels go on until it, so the history's last trips
    have their labels, long ones included; labels due after `end` are not emitted (counted)."""
    end = end if end is not None else time.time()
    if seconds <= label_wait_s:
        raise ValueError(f"a history of {seconds:g} s leaves no time for requests before its last "
                         f"{label_wait_s:g} s of labels")
    rng = np.random.default_rng([sim.seed, 11])
    faults = emitter.faults()
    batches = (sim.trips(times, faults, backfill=True)
               for times in history_request_times(rng, end - seconds, end - label_wait_s, rate))
    return emit_in_time_order(batches, emitter, end=end, stopping=stopping)


def emit_in_time_order(batches: Iterable[TripBatch], emitter: Emitter, *, end: float | None = None,
                       rate: float | None = None, stopping: threading.Event | None = None) -> ProduceReport:
    """Emit each trip's request at its time and its label at request + duration, merged in
    event-time order (batches must come in request-time order). Optional pacing: `rate` trips/s."""
    stopping = stopping or threading.Event()
    started = time.time()
    pending: list[tuple[float, int, TripBatch, int]] = []
    seq = 0
    for batch in batches:
        for i in range(len(batch)):
            if stopping.is_set():
                break
            t = batch.request_time[i]
            while pending and pending[0][0] <= t:
                due, _, b, j = heapq.heappop(pending)
                emitter.completed(b, j, due)
            emitter.requested(batch, i)
            heapq.heappush(pending, (t + batch.duration_s[i], seq, batch, i))
            seq += 1
            if rate:
                ahead = seq / rate - (time.time() - started)
                if ahead > 0.005:
                    stopping.wait(ahead)
    while pending and not stopping.is_set() and (end is None or pending[0][0] <= end):
        due, _, b, j = heapq.heappop(pending)
        emitter.completed(b, j, due)
    emitter.report.labels_not_emitted = len(pending)
    emitter.sink.flush()
    emitter.report.elapsed_s = time.time() - started
    return emitter.report
