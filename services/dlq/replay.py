"""`gameday dlq replay`: re-publish dead-lettered originals to their source topic.

Run it after the cause is fixed. A consumer group (`gameday-dlq-replay`) remembers what
was replayed, so a second run only sends what was dead-lettered since. A run reads up to the
end offsets the topic had when it started (letters that keep coming while a fault is on wait
for the next run), shows its progress and stops at its timeout, committing what it sent.
`--rename old=new` maps a field on the way (an upcaster for events written under the broken
contract). An original dead-lettered by two consumers (ingest and the monitor both read
trips.completed) is sent once. Events whose original is not JSON are skipped and counted,
never sent half-repaired.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from ..config import Settings, TopicNames
from ..contracts import Topic
from .read import DlqError, Progress, open_consumer, parse_letter, partitions, read_range

REPLAY_GROUP = "gameday-dlq-replay"


@dataclass
class ReplayReport:
    read: int = 0
    replayed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # Letters on the topic when the run started that it did not reach (a timeout): the next run takes them.
    left: int = 0
    seconds: float = 0.0

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def parse_renames(pairs: list[str]) -> dict[str, str]:
    renames = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise DlqError(f"--rename {pair!r}: expected OLD=NEW, e.g. distance_miles=trip_distance")
        renames[old] = new
    return renames


def repair(original: str, renames: dict[str, str]) -> bytes | None:
    """The original event with fields renamed, or None when it is not a JSON object."""
    try:
        event = json.loads(original)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    for old, new in renames.items():
        if old in event and new not in event:
            event[new] = event.pop(old)
    return json.dumps(event, separators=(",", ":")).encode()


def replay(settings: Settings, *, renames: dict[str, str] | None = None, source_topic: str | None = None,
           reason_contains: str | None = None, dry_run: bool = False, timeout_s: float = 120.0,
           progress: Callable[[ReplayReport, Progress], None] | None = None) -> ReplayReport:
    """Replay what the DLQ held when this run started, since the last replay; returns what was read,
    sent and skipped. At the timeout it stops, commits what was sent and counts what is `left`."""
    from kafka import KafkaProducer

    from ..runtime.kafka import kafka_options
    from ..stack.endpoints import kafka_bootstrap

    started = time.monotonic()
    renames = renames or {}
    report = ReplayReport(dry_run=dry_run)
    consumer = open_consumer(settings, REPLAY_GROUP, auto_offset_reset="earliest")
    producer = None if dry_run else KafkaProducer(bootstrap_servers=kafka_bootstrap(settings), acks="all", linger_ms=5,
                                                  client_id="gameday-dlq-replay", **kafka_options(settings.kafka))
    sent: set[tuple[str, int | None, int | None]] = set()
    try:
        parts = partitions(consumer, settings.topics.dlq)
        ends = consumer.end_offsets(parts)
        starts = {tp: _committed(consumer, tp) for tp in parts}
        shown = (lambda state: progress(report, state)) if progress else None
        positions: dict = {}
        try:
            for record in read_range(consumer, starts, ends, timeout_s=timeout_s, progress=shown):
                report.read += 1
                _replay_one(record.value, producer, report, renames, source_topic, reason_contains, settings.topics, sent)
                positions[record.topic, record.partition] = record.offset + 1
        except DlqError:
            report.left = sum(ends.values()) - sum(starts.values()) - report.read
        if producer is not None:
            producer.flush(timeout=30)
            _commit(consumer, positions)  # only after the replayed events are on the broker
    finally:
        consumer.close()
        if producer is not None:
            producer.close(timeout=10)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _committed(consumer, tp) -> int:
    offset = consumer.committed(tp)
    return offset if offset is not None else consumer.beginning_offsets([tp])[tp]


def _commit(consumer, positions: dict) -> None:
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    if positions:
        consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in positions.items()})


def _replay_one(raw: bytes, producer, report: ReplayReport, renames: dict[str, str],
                source_topic: str | None, reason_contains: str | None, topics: TopicNames = TopicNames(),
                sent: set | None = None) -> None:
    letter = parse_letter(raw)
    if letter is None:
        report.skip("not a dead letter")
        return
    if source_topic and letter.source_topic != source_topic:
        report.skip("other source topic")
        return
    if reason_contains and reason_contains not in letter.reason:
        report.skip("other reason")
        return
    if topics.contract_of(letter.source_topic) not in (Topic.TRIPS_REQUESTED, Topic.TRIPS_COMPLETED, Topic.PREDICTIONS):
        report.skip(f"source topic {letter.source_topic} is not replayable")
        return
    if letter.truncated:  # only the first bytes were kept (see contracts.dead_letter_of): never sent half
        report.skip("original truncated (too large to keep whole)")
        return
    original = (letter.source_topic, letter.partition, letter.offset)
    if sent is not None and letter.offset is not None and original in sent:
        report.skip("same original dead-lettered by another consumer (sent once)")
        return
    value = repair(letter.original, renames)
    if value is None:
        report.skip("original is not a JSON object")
        return
    if producer is not None:
        producer.send(letter.source_topic, value=value)
    if sent is not None and letter.offset is not None:
        sent.add(original)
    report.replayed += 1
    report.by_topic[letter.source_topic] = report.by_topic.get(letter.source_topic, 0) + 1
