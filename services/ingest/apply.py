"""Applying events to the zone windows: the outcome of each event (written, late, duplicate, or to be
dead-lettered with its reason) and the zones whose features changed. Pure: the Kafka, Feast and
checkpoint sides stay in pipeline.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from ..contracts import TripCompleted
from .dedup import SeenIds
from .windows import ZoneWindows, speed_micro_mph


def epoch(moment: datetime) -> float:
    """Epoch seconds (a naive time is UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def label_row(event: TripCompleted, completed_s: float) -> tuple:
    """A label row of frames.labels_frame (times as epoch seconds; a naive time is UTC)."""
    return (event.trip_id, event.pickup_zone, epoch(event.pickup_time), event.dropoff_zone, event.trip_distance,
            event.passenger_count, event.duration_s, completed_s)


@dataclass
class Applied:
    """What one batch did, by outcome and topic (rare outcomes only: a valid event costs no dict update)."""

    affected: set[int] = field(default_factory=set)        # zones whose features changed
    event_times: list[float] = field(default_factory=list)  # of the events that changed a feature
    written_requests: int = 0
    to_dead_letter: list[tuple[Any, str]] = field(default_factory=list)  # (record, reason)
    dead_lettered: Counter = field(default_factory=Counter)
    ahead: Counter = field(default_factory=Counter)         # dead-lettered: too far past the clock
    duplicate: Counter = field(default_factory=Counter)
    late: Counter = field(default_factory=Counter)
    labels: list[tuple] = field(default_factory=list)       # label rows (late labels included)


def apply_events(queue: Iterable[tuple], windows: ZoneWindows, seen: SeenIds, requested_topic: str) -> Applied:
    """Apply parsed records (alignment.Item, in event-time order) to the windows. A rejected record
    is to be dead-lettered (counted `ahead` too when the event-time policy refused it: it keeps its
    time); a redelivered event_id changes nothing; an event older than its zone's window is `late`
    (a late label is still stored for training)."""
    done = Applied()
    remember = seen.add
    zone_of = windows.zone
    for _, record, event, reason, t in queue:
        if event is None:
            done.to_dead_letter.append((record, reason))
            done.dead_lettered[record.topic] += 1
            if t:
                done.ahead[record.topic] += 1
            continue
        if not remember(event.event_id):
            done.duplicate[record.topic] += 1
            continue
        window = zone_of(event.pickup_zone)
        if record.topic == requested_topic:
            counted = window.add_request(t)
            done.written_requests += counted
        else:
            counted = window.add_completion(t, speed_micro_mph(event.trip_distance, event.duration_s))
            done.labels.append(label_row(event, t))
        if counted:
            done.affected.add(event.pickup_zone)
            done.event_times.append(t)
        else:
            done.late[record.topic] += 1
    return done
