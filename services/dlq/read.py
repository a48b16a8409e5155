"""Bounded reads of a topic: from given offsets (or the start) up to the end offsets taken when the
read starts, with progress and a timeout — a fault that keeps dead-lettering cannot keep a read going."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..config import Settings
from ..contracts import DeadLetter
from ..errors import GamedayError
from ..runtime.kafka import kafka_options
from ..stack.endpoints import kafka_bootstrap

# A hostile record can be ~1 MB and one fetch carries several: the client's frame limit must take it.
RECEIVE_MAX_BYTES = 64 * 2**20


class DlqError(GamedayError):
    kind = "DlqError"


@dataclass
class Progress:
    """How far a bounded read is: records read of the records it set out to read."""

    read: int = 0
    total: int = 0


def open_consumer(settings: Settings, group_id: str | None = None, **options: Any):
    from kafka import KafkaConsumer

    return KafkaConsumer(bootstrap_servers=kafka_bootstrap(settings), group_id=group_id, enable_auto_commit=False,
                         receive_message_max_bytes=RECEIVE_MAX_BYTES, client_id="gameday-dlq",
                         **kafka_options(settings.kafka), **options)


def partitions(consumer, topic: str) -> list:
    from kafka import TopicPartition

    found = consumer.partitions_for_topic(topic)
    if found is None:
        raise DlqError(f"topic {topic!r} does not exist on the broker",
                       hint="is the stack up (`gameday status`)? topic names come from settings.topics")
    return [TopicPartition(topic, p) for p in sorted(found)]


def read_range(consumer, starts: dict, ends: dict, *, timeout_s: float = 120.0,
               progress: Callable[[Progress], None] | None = None) -> Iterator:
    """Every record of each partition in [starts[tp], ends[tp]); stops at the timeout (DlqError
    names how far it got). The consumer is assigned the partitions here."""
    todo = {tp: (starts.get(tp, 0), end) for tp, end in ends.items() if end > starts.get(tp, 0)}
    state = Progress(total=sum(end - start for start, end in todo.values()))
    if progress:
        progress(state)
    if not todo:
        return
    consumer.assign(list(todo))
    for tp, (start, _) in todo.items():
        consumer.seek(tp, start)
    left = set(todo)
    deadline = time.monotonic() + timeout_s
    while left:
        if time.monotonic() > deadline:
            raise DlqError(f"read {state.read:,} of {state.total:,} records in {timeout_s:.0f}s: stopped at the timeout",
                           hint="give it longer (--timeout), or narrow it (--since)")
        for tp, records in consumer.poll(timeout_ms=500, max_records=5000).items():
            end = todo[tp][1]
            for record in records:
                if record.offset < end:
                    state.read += 1
                    yield record
            if consumer.position(tp) >= end:
                left.discard(tp)
                consumer.pause(tp)
        if progress:
            progress(state)


def parse_letter(raw: bytes | None) -> DeadLetter | None:
    try:
        return DeadLetter.model_validate_json(raw or b"")
    except ValueError:
        return None
