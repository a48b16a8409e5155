"""Make sure a labels history exists before training (or say exactly what to run), and train once.

A job one floor above the services: it runs the producer's and ingest's code in this process
(the services themselves never import each other).

History = the producer's fast-forward (`--history 90m`: the last 90 minutes of the city at
the live density, producer.rate, emitted as fast as the broker takes them) turned into zone
features and labels by ingest. When the stack's own ingest runs, it does that and we wait
for it; otherwise an ingest pipeline runs here in the foreground until it has caught up.
"""

from __future__ import annotations

import time
from typing import Callable

from .config import Settings
from .models.control import has_model
from .stack.component import Reporter as StackReporter
from .stack.component import silent
from .stack.endpoints import kafka_bootstrap
from .trainer.dataset import MIN_LABELS, NO_HISTORY_HINT, TrainerError

Report = Callable[[str], None]
CATCH_UP_TIMEOUT_S = 300
HISTORY_POLL_RECORDS = 200
MIN_HISTORY_SPAN_S = 3600.0      # a time split needs an hour of history, not a live burst of minutes


def ensure_history(settings: Settings, minutes: float | None, report: Report) -> None:
    """If no completed trips were ingested yet, create `minutes` of history (default trainer.history_minutes).

    With history already present this does nothing: a second fast-forward over the
    same time would double every zone's counts.
    """
    from .features.history import load_trip_labels

    labels = load_trip_labels(settings)
    if is_history(labels):
        if minutes is not None:
            report(f"labels history exists ({len(labels)} trips): not creating more")
        return
    if len(labels):  # e.g. `gameday produce --duration 60` before training: the history must come first
        report(f"{len(labels)} labels span only {_span(labels)}: that is live traffic, not a history")
    create_history(settings, minutes or settings.trainer.history_minutes, report)


def is_history(labels) -> bool:
    """Enough labels over enough time to train on: a few minutes of live traffic are not a history."""
    return len(labels) >= MIN_LABELS and _span_s(labels) >= MIN_HISTORY_SPAN_S


def _span_s(labels) -> float:
    return (labels.event_timestamp.max() - labels.event_timestamp.min()).total_seconds() if len(labels) else 0.0


def _span(labels) -> str:
    return f"{_span_s(labels) / 60:.0f} min"


def create_history(settings: Settings, minutes: float, report: Report) -> int:
    """Fast-forward the producer `minutes` into Kafka and ingest it; returns the number of labels."""
    from .features.history import load_trip_labels
    from .producer.run import ProduceOptions, produce

    try:
        kafka_bootstrap(settings)
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        raise TrainerError(f"no labels history in {settings.run_path} and no broker to create it ({reason})",
                           hint=NO_HISTORY_HINT) from None
    report(f"fast-forwarding the last {minutes:g} min of the city ({settings.producer.rate:g} trips/s) into Kafka")
    sent = produce(settings, ProduceOptions(history_s=minutes * 60))
    report(f"sent {sent.trips} trips; ingesting them into the feature store")
    if _stack_ingest_running(settings):
        _wait_for_stack_ingest(settings, report)
    else:
        _ingest_in_foreground(settings, report)
    labels = len(load_trip_labels(settings))
    if not labels:
        raise TrainerError("ingest wrote no labels from the fast-forwarded history",
                           hint="check `gameday logs ingest` and `gameday dlq`")
    report(f"labels history: {labels} completed trips")
    return labels


def _stack_ingest_running(settings: Settings) -> bool:
    from .stack.state import RunFolder

    record = RunFolder(settings.run_path).load().get("ingest")
    return record is not None and record.state() == "running"


def _wait_for_stack_ingest(settings: Settings, report: Report) -> None:
    """The stack's ingest consumes the history: wait until its labels stop growing."""
    from .features.history import load_trip_labels

    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    previous, steady = -1, 0
    while time.monotonic() < deadline and steady < 3:
        time.sleep(settings.ingest.checkpoint_interval_s + 1)
        count = len(load_trip_labels(settings))
        steady = steady + 1 if count == previous and count > 0 else 0
        previous = count
        report(f"stack ingest: {count} labels so far")


def _ingest_in_foreground(settings: Settings, report: Report) -> None:
    """Run an ingest pipeline here until its consumer lag is 0 and a poll brings nothing new."""
    from .ingest.pipeline import IngestPipeline

    # Ingest writes one zone_stats row per zone per polled batch; fast-forwarded history
    # packs hours of simulated time into a batch of 5000, so the training set's features
    # would be hours apart. Smaller batches keep them minutes apart.
    fine = settings.model_copy(update={"ingest": settings.ingest.model_copy(
        update={"max_poll_records": min(settings.ingest.max_poll_records, HISTORY_POLL_RECORDS)})})
    pipeline = IngestPipeline(fine).start()
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    last_report = time.monotonic()
    try:
        idle = 0
        while time.monotonic() < deadline and idle < 3:
            result = pipeline.poll_once()
            caught_up = pipeline.assigned and _lag(pipeline) == 0
            idle = idle + 1 if (result is None and caught_up) else 0
            if time.monotonic() - last_report > 2:
                lag = _lag(pipeline)
                report(f"ingest: lag {'not known yet' if lag is None else lag} events")
                last_report = time.monotonic()
        if idle < 3:
            raise TrainerError(f"ingest did not catch up within {CATCH_UP_TIMEOUT_S} s",
                               hint="check the broker, or create less history (--history 60m)")
    finally:
        pipeline.close()  # the final checkpoint writes the buffered features and labels


def _lag(pipeline: object) -> int | None:
    """Events not yet ingested; None until the consumer knows every partition's end (before its
    first fetch: counting those as 0 let a loaded machine call an unread backlog caught up)."""
    lag = 0
    for tp in pipeline.assigned:
        high = pipeline.consumer.highwater(tp)
        if high is None:
            return None
        lag += max(0, high - pipeline.offsets.get((tp.topic, tp.partition), 0))
    return lag


def ensure_trained(settings: Settings, report: StackReporter = silent) -> bool:
    """Train every variant once per run folder (creating a labels history first). True when it trained now."""
    if has_model(settings):
        return False
    from .trainer.train import train

    report("trainer", "no model yet: creating history and training fast, accurate and worse")
    ensure_history(settings, None, lambda message: report("trainer", message))
    train(settings, report=lambda message: report("trainer", message))
    report("trainer", "ready")
    return True
