"""Make sure a labels history exists before training (or say exactly what to run)."""

from __future__ import annotations

from typing import Callable

from ..config import Settings
from .dataset import NO_HISTORY_HINT, TrainerError


def ensure_history(settings: Settings, days: float | None, report: Callable[[str], None]) -> None:
    """If no completed trips were ingested yet, fast-forward the producer `days` days and ingest them.

    Needs a broker (the stack's, or kafka.bootstrap). With history already present this
    does nothing: a second fast-forward over the same days would double the zone counts.
    """
    from ..features.history import load_trip_labels

    existing = len(load_trip_labels(settings))
    if existing:
        if days is not None:
            report(f"labels history exists ({existing} trips): not creating more")
        return
    days = days or settings.trainer.history_days
    from ..producer.run import ProduceOptions, produce
    from ..producer.sink import resolve_bootstrap

    try:
        resolve_bootstrap(settings)
    except Exception as exc:
        raise TrainerError(f"no labels history in {settings.run_path} and no broker to create it ({exc})",
                           hint=NO_HISTORY_HINT) from None
    report(f"no labels history yet: fast-forwarding {days:g} days of trips into Kafka")
    sent = produce(settings, ProduceOptions(history_days=days))
    report(f"sent {sent.as_dict()}; ingesting them into the feature store")
    _ingest_until_caught_up(settings, report)
    if not len(load_trip_labels(settings)):
        raise TrainerError("ingest wrote no labels from the fast-forwarded history",
                           hint="check `gameday logs ingest` and the dlq topic")


def _ingest_until_caught_up(settings: Settings, report: Callable[[str], None]) -> None:
    try:
        from ..ingest.run import ingest_until_caught_up
    except ImportError:
        raise TrainerError("this build has no foreground ingest to turn the history into features",
                           hint="run the stack (`gameday up`, its ingest consumes the history), wait, then "
                                "`gameday train`") from None
    ingest_until_caught_up(settings, report=report)
