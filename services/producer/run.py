"""`gameday produce`: one call that picks the mode (live, fast-forward history, TLC replay)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..contracts import LABEL_MATURITY_S
from ..runtime.kafka import kafka_options
from .clock import check_room_for_the_past, city_clock
from ..contracts.knobs import ProducerFaults
from .replay import read_tlc_trips
from .simulator import TripSimulator
from ..stack.endpoints import kafka_bootstrap
from .sink import KafkaSink, ProducerError, Sink
from .stream import Emitter, ProduceReport, emit_in_time_order, run_history, run_live


@dataclass
class ProduceOptions:
    rate: float | None = None            # trips/s: live traffic, and the density of a history
    duration_s: float | None = None
    trips: int | None = None
    seed: int | None = None
    history_s: float | None = None       # fast-forward: this many seconds of the past, ending now
    replay: Path | None = None
    time_scale: float | None = None
    label_wait_s: float = 60.0


def produce(settings: Settings, options: ProduceOptions, *, sink: Sink | None = None,
            faults: ProducerFaults | None = None, stopping: threading.Event | None = None) -> ProduceReport:
    """Run one production to the topics of settings.producer and return what was sent.

    A history or a replay is trips of the past: it must come before every trip already on the
    topic (see clock.py), checked against the broker unless a sink is given (tests)."""
    if options.history_s is not None and options.replay is not None:
        raise ProducerError("--history and --replay are two different sources", hint="pass one of them")
    if options.history_s is not None and options.history_s <= LABEL_MATURITY_S:
        raise ProducerError(f"--history must be longer than {LABEL_MATURITY_S // 60} min (got {options.history_s / 60:g} min)",
                            hint=f"a history's last {LABEL_MATURITY_S // 60} min carry only the labels of its trips; "
                                 "e.g. --history 150m")
    live = options.history_s is None and options.replay is None
    if live and options.duration_s is None and options.trips is None:
        raise ProducerError("a live run needs an end", hint="pass --duration SECONDS or --events N (or run the stack's producer)")
    cfg = settings.producer
    seed = cfg.seed if options.seed is None else options.seed
    knobs = faults or ProducerFaults()
    own_sink = sink is None
    bootstrap = kafka_bootstrap(settings) if own_sink else None
    sink = sink or KafkaSink(bootstrap, **kafka_options(settings.kafka))
    emitter = Emitter(sink, settings.topics, seed, lambda: knobs)

    def room_for(start: float, what: str) -> None:
        if bootstrap is not None:
            check_room_for_the_past(city_clock(bootstrap, settings.topics.trips_requested, settings.ingest.max_ahead_s,
                                                 **kafka_options(settings.kafka)), start, what)

    try:
        now = time.time()
        if options.replay is not None:
            # Shifted like a history: its last pickup an hour before now, its labels until now.
            replay = read_tlc_trips(options.replay, limit=options.trips, end=now - LABEL_MATURITY_S)
            room_for(replay.start, f"replaying {options.replay.name} (shifted to end now)")
            report = emit_in_time_order(replay.batches, emitter, end=now, stopping=stopping)
            report.faults.update({f"skipped: {k}": v for k, v in replay.skipped.items() if v})
            report.faults.update({f"imputed: {k}": v for k, v in replay.imputed.items() if v})
            return report
        sim = TripSimulator(seed)
        if options.history_s is not None:
            room_for(now - options.history_s, f"a history of {options.history_s / 60:g} min")
            return run_history(sim, emitter, options.history_s, rate=options.rate or cfg.rate, end=now,
                               stopping=stopping)
        return run_live(sim, emitter, options.rate or cfg.rate, time_scale=options.time_scale or cfg.time_scale,
                        duration_s=options.duration_s, max_trips=options.trips,
                        label_wait_s=options.label_wait_s, stopping=stopping)
    finally:
        if own_sink:
            sink.close()
