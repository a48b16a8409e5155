"""`gameday dlq replay`: re-publish dead-lettered originals to their source topic.

Run it after the cause is fixed. A consumer group (`gameday-dlq-replay`) remembers what
was replayed, so a second run only sends what was dead-lettered since. `--rename old=new`
maps a field on the way (an upcaster for events written under the broken contract).
Events whose original is not JSON are skipped and counted, never sent half-repaired.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from ..config import Settings, TopicNames
from ..contracts import DeadLetter, Topic
from ..errors import GamedayError
from ..runtime.kafka import kafka_options
from ..stack.endpoints import kafka_bootstrap

REPLAY_GROUP = "gameday-dlq-replay"


class DlqError(GamedayError):
    kind = "DlqError"


@dataclass
class ReplayReport:
    read: int = 0
    replayed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

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
           reason_contains: str | None = None, dry_run: bool = False, limit: int = 1_000_000,
           idle_s: float = 3.0, progress: Callable[[ReplayReport], None] | None = None) -> ReplayReport:
    """Replay what the DLQ holds since the last replay; returns what was read, sent and skipped."""
    from kafka import KafkaConsumer, KafkaProducer

    bootstrap = kafka_bootstrap(settings)
    renames = renames or {}
    report = ReplayReport(dry_run=dry_run)
    consumer = KafkaConsumer(settings.topics.dlq, bootstrap_servers=bootstrap, group_id=REPLAY_GROUP,
                             enable_auto_commit=False, auto_offset_reset="earliest", client_id="gameday-dlq-replay",
                             receive_message_max_bytes=64 * 2**20,  # see watch.RECEIVE_MAX_BYTES
                             **kafka_options(settings.kafka))
    producer = None if dry_run else KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                                  client_id="gameday-dlq-replay", **kafka_options(settings.kafka))
    try:
        last_data = time.monotonic()
        while report.read < limit and time.monotonic() - last_data < idle_s:
            batches = consumer.poll(timeout_ms=500, max_records=1000)
            if not batches:
                continue
            last_data = time.monotonic()
            for records in batches.values():
                for record in records:
                    report.read += 1
                    _replay_one(record.value, producer, report, renames, source_topic, reason_contains, settings.topics)
            if producer is not None:
                producer.flush(timeout=30)
                consumer.commit()  # only after the replayed events are on the broker
            if progress:
                progress(report)
    finally:
        consumer.close()
        if producer is not None:
            producer.close(timeout=10)
    return report


def _replay_one(raw: bytes, producer, report: ReplayReport, renames: dict[str, str],
                source_topic: str | None, reason_contains: str | None, topics: TopicNames = TopicNames()) -> None:
    try:
        letter = DeadLetter.model_validate_json(raw)
    except ValueError:
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
    value = repair(letter.original, renames)
    if value is None:
        report.skip("original is not a JSON object")
        return
    if producer is not None:
        producer.send(letter.source_topic, value=value)
    report.replayed += 1
    report.by_topic[letter.source_topic] = report.by_topic.get(letter.source_topic, 0) + 1
