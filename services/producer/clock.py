"""Where the city's clock stands: the newest request time on trips.requested.

One city, one clock. A starting producer fills the gap since the clock (its warm start, as if
it had been running), and a history or a replay — trips of the past, sent now — may only
cover time before the clock's first tick: trips older than what ingest has already applied
would be late for its zone windows and dropped, and trips beside the live ones would double
the density the models learn from.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from .sink import ProducerError

# Records read back from the end of each partition: a malformed last event (a fault knob) has
# no time, the ones before it do.
TAIL = 20


def city_clock(bootstrap: str, topic: str, max_ahead_s: float, timeout_s: float = 10.0, **security) -> float | None:
    """The newest event_time (epoch s) among the last records of `topic`; None when it is empty.
    A time more than `max_ahead_s` past now is not the city's (ingest dead-letters such events:
    ingest.max_ahead_s) and is skipped. `security`: runtime.kafka.kafka_options(settings.kafka)."""
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                 client_id="gameday-city-clock", request_timeout_ms=int(timeout_s * 1000), **security)
    except (KafkaError, OSError, ValueError) as exc:
        raise ProducerError(f"cannot read {topic} at {bootstrap}: {exc}",
                            hint="start the stack with `gameday up`, or check kafka.bootstrap") from None
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return None
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        waiting = {}
        for tp in partitions:
            if ends.get(tp):
                consumer.seek(tp, max(0, ends[tp] - TAIL))
                waiting[tp] = ends[tp] - 1
        newest = None
        latest_allowed = time.time() + max_ahead_s
        deadline = time.monotonic() + timeout_s
        while waiting and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    when = event_time_of(record.value)
                    if when is not None and when <= latest_allowed and (newest is None or when > newest):
                        newest = when
                    if record.offset >= waiting.get(tp, float("inf")):
                        waiting.pop(tp, None)
        return newest
    finally:
        consumer.close()


def event_time_of(raw: bytes | None) -> float | None:
    try:
        return datetime.fromisoformat(json.loads(raw)["event_time"]).timestamp()
    except (TypeError, ValueError, KeyError):
        return None


def warm_start_seconds(budget_s: float, clock: float | None, now: float) -> float:
    """The past seconds a starting producer emits: the gap since the city's clock, at most budget_s."""
    return budget_s if clock is None else max(0.0, min(budget_s, now - clock))


def check_room_for_the_past(clock: float | None, start: float, what: str) -> None:
    """A history or replay covering [start, now] must come before everything already on the topic."""
    if clock is not None and clock > start:
        at = datetime.fromtimestamp(clock).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        raise ProducerError(
            f"{what} would overlap the trips already sent (the newest at {at}): ingest has applied "
            f"those, so older trips would be late for its windows, and trips beside them would double "
            f"the city's density",
            hint="make the history first, on a fresh run folder: `gameday down --wipe`, then "
                 "`gameday train` (or `gameday produce --history 90m` / `--replay FILE`)")
