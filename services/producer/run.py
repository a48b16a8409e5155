"""`gameday produce`: one call that picks the mode (live, fast-forward history, TLC replay)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..runtime.kafka import kafka_options
from .faults import ProducerFaults
from .replay import read_tlc_trips
from .simulator import TripSimulator
from .sink import KafkaSink, ProducerError, Sink, resolve_bootstrap
from .stream import Emitter, ProduceReport, Topics, emit_in_time_order, run_history, run_live


@dataclass
class ProduceOptions:
    rate: float | None = None            # trips/s (live, or pacing of a replay)
    duration_s: float | None = None
    trips: int | None = None
    seed: int | None = None
    history_days: float | None = None
    trips_per_day: float = 10_000
    replay: Path | None = None
    time_scale: float | None = None
    label_wait_s: float = 60.0


def produce(settings: Settings, options: ProduceOptions, *, sink: Sink | None = None,
            faults: ProducerFaults | None = None, stopping: threading.Event | None = None) -> ProduceReport:
    """Run one production to the topics of settings.producer and return what was sent."""
    if options.history_days is not None and options.replay is not None:
        raise ProducerError("--history-days and --replay are two different sources", hint="pass one of them")
    if options.history_days is not None and options.history_days <= 0:
        raise ProducerError(f"--history-days must be > 0 (got {options.history_days})")
    live = options.history_days is None and options.replay is None
    if live and options.duration_s is None and options.trips is None:
        raise ProducerError("a live run needs an end", hint="pass --duration SECONDS or --events N (or run the stack's producer)")
    cfg = settings.producer
    seed = cfg.seed if options.seed is None else options.seed
    knobs = faults or ProducerFaults()
    own_sink = sink is None
    sink = sink or KafkaSink(resolve_bootstrap(settings), **kafka_options(settings.kafka))
    emitter = Emitter(sink, Topics(cfg.requested_topic, cfg.completed_topic), seed, lambda: knobs)
    try:
        if options.replay is not None:
            batches, skipped = read_tlc_trips(options.replay, limit=options.trips)
            report = emit_in_time_order(batches, emitter, rate=options.rate, stopping=stopping)
            report.faults.update({f"skipped: {k}": v for k, v in skipped.items() if v})
            return report
        sim = TripSimulator(seed)
        if options.history_days is not None:
            return run_history(sim, emitter, options.history_days, trips_per_day=options.trips_per_day,
                               stopping=stopping)
        return run_live(sim, emitter, options.rate or cfg.rate, time_scale=options.time_scale or cfg.time_scale,
                        duration_s=options.duration_s, max_trips=options.trips,
                        label_wait_s=options.label_wait_s, stopping=stopping)
    finally:
        if own_sink:
            sink.close()
