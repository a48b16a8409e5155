"""Hostile input on the trip topics, sent as a client the project did not write would send it
(raw bytes through a plain Kafka producer): events from the future, events without an id, a
~1 MB event, and a dead-letter topic that refuses letters."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from mlgameday.contracts import DeadLetter
from mlgameday.features.online import read_zone_features
from mlgameday.features.store import open_store
from mlgameday.ingest import checkpoint as ckpt
from mlgameday.ingest.pipeline import DeadLetterError

from .conftest import dead_letters, end_offsets, ingest_until_drained, read_topic

pytestmark = pytest.mark.integration

ZONE = 132


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat().replace("+00:00", "Z")


def request(event_time: float, zone: int = ZONE, **changes) -> dict:
    event = {"event_id": uuid.uuid4().hex, "event_time": _iso(event_time), "schema_version": 1,
             "trip_id": f"t-{uuid.uuid4().hex[:12]}", "pickup_zone": zone, "dropoff_zone": 48,
             "trip_distance": 2.5, "passenger_count": 1}
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def send(settings, topic: str, events: list, key: int = ZONE) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all", max_request_size=4 * 2**20)
    try:
        for event in events:
            value = event if isinstance(event, bytes) else json.dumps(event).encode()
            producer.send(topic, key=str(key).encode(), value=value).get(timeout=30)
    finally:
        producer.close()


def zone_features(settings, zone: int = ZONE):
    return read_zone_features(open_store(settings), [zone])[zone]


def test_an_event_from_the_future_is_dead_lettered_and_live_events_keep_counting(pipeline_settings) -> None:
    settings = pipeline_settings()
    topic = settings.topics.trips_requested
    now = time.time()
    # Live traffic, then an event a year ahead and one an hour ahead, then more live traffic.
    send(settings, topic, [request(now - 30 + i) for i in range(5)]
         + [request(now + 365 * 86400), request(now + 3600)] + [request(now - 20 + i) for i in range(5)])

    pipeline = ingest_until_drained(settings)

    totals = pipeline.totals
    assert (totals["written"], totals["late"], totals["dead_lettered"], totals["ahead"]) == (10, 0, 2, 2), totals
    sample = pipeline.metrics.registry.get_sample_value
    assert sample("gameday_ingest_events_total", {"topic": topic, "outcome": "ahead"}) == 2
    assert sample("gameday_ingest_events_total", {"topic": topic, "outcome": "dead_lettered"}) == 2
    letters = dead_letters(settings)
    assert len(letters) == 2
    for letter in letters:
        assert "ahead of ingest's clock" in letter.reason and "ingest.max_ahead_s = 60 s" in letter.reason, letter.reason
        assert (letter.source_topic, letter.partition) == (topic, letters[0].partition) and letter.offset in (5, 6)
    features = zone_features(settings)
    assert features.values["requests_15m"] == 10
    age = features.age_s()
    assert age is not None and 0 <= age < 120, age  # never "fresher than now"


def test_a_restart_does_not_keep_a_zone_clock_poisoned_by_an_earlier_version(pipeline_settings) -> None:
    # A checkpoint written by an ingest that accepted an event an hour ahead (as before the
    # event-time policy; here, a policy that lets a day through).
    lax = pipeline_settings(ingest={"max_ahead_s": 86_400})
    topic = lax.topics.trips_requested
    now = time.time()
    send(lax, topic, [request(now - 60 + i) for i in range(3)] + [request(now + 3600)])
    poisoned = ingest_until_drained(lax)
    assert poisoned.windows.zone(ZONE).clock == pytest.approx(now + 3600, abs=1)
    send(lax, topic, [request(now - 10 + i) for i in range(4)])
    frozen = ingest_until_drained(lax)
    assert frozen.totals["late"] == 4  # the poisoning: live events of the zone are dropped (and said so)
    assert frozen.metrics.registry.get_sample_value("gameday_ingest_events_total", {"topic": topic, "outcome": "late"}) == 4

    # The same run folder and consumer group under the default policy: the clock is taken back at start.
    strict = lax.model_copy(update={"ingest": lax.ingest.model_copy(update={"max_ahead_s": 60.0})})
    send(strict, topic, [request(time.time() + i * 0.1) for i in range(3)])
    pipeline = ingest_until_drained(strict)

    window = pipeline.windows.zone(ZONE)
    assert window.clock <= time.time() + 1, "the poisoned clock survived the restart"
    assert (pipeline.totals["written"], pipeline.totals["late"]) == (4 + 3, 4), pipeline.totals
    assert window.features()[0] >= 3
    age = zone_features(strict).age_s()
    assert age is not None and 0 <= age < 120, age


def test_an_event_without_event_id_is_dead_lettered_and_a_redelivered_copy_is_not_a_new_event(pipeline_settings) -> None:
    settings = pipeline_settings()
    topic = settings.topics.trips_requested
    now = time.time()
    anonymous = json.dumps(request(now - 5, event_id=None)).encode()
    named = json.dumps(request(now - 4)).encode()
    send(settings, topic, [anonymous, anonymous, named, named])  # each sent twice, as after a producer retry

    pipeline = ingest_until_drained(settings)

    totals = pipeline.totals
    assert (totals["written"], totals["duplicate"], totals["dead_lettered"]) == (1, 1, 2), totals
    assert [letter.reason for letter in dead_letters(settings)] == ["event_id: missing"] * 2
    assert zone_features(settings).values["requests_15m"] == 1


def test_an_oversized_event_is_dead_lettered_truncated_with_its_size_place_and_hash(pipeline_settings) -> None:
    settings = pipeline_settings()
    topic = settings.topics.trips_requested
    huge = json.dumps(request(time.time(), notes="x" * 1_000_000)).encode()  # ~1 MB, an unexpected field
    send(settings, topic, [huge])

    pipeline = ingest_until_drained(settings)

    assert pipeline.totals["dead_lettered"] == 1
    [letter] = dead_letters(settings)
    assert letter.reason == "notes: unexpected field"
    assert letter.truncated and letter.original_size == len(huge) > 1_000_000
    assert letter.original_sha256 == hashlib.sha256(huge).hexdigest()
    assert huge.decode().startswith(letter.original) and 0 < len(letter.original) <= 64 * 1024
    assert (letter.source_topic, letter.offset, letter.consumer) == (topic, 0, settings.ingest.group_id)


def test_when_the_dlq_refuses_a_letter_the_offset_is_not_committed(pipeline_settings, kafka_bootstrap) -> None:
    settings = pipeline_settings()
    # A dead-letter topic whose broker-side limit is smaller than the letters: the broker refuses them.
    dlq = f"dlq-small.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(dlq, 1, 1, topic_configs={"max.message.bytes": "1500"})])
    settings = settings.model_copy(update={"topics": settings.topics.model_copy(update={"dlq": dlq})})
    topic = settings.topics.trips_requested
    now = time.time()
    send(settings, topic, [request(now - 3), b"{not json" + b"x" * 3000, request(now - 2)])

    with pytest.raises(DeadLetterError, match=rf"could not be written to {dlq}.*{topic}\[\d\] offset 1"):
        ingest_until_drained(settings, timeout_s=30)
    saved = ckpt.load_all(settings)
    assert not any(sum(c.offsets.values()) for c in saved.values()), "offsets were checkpointed past a lost dead letter"
    committed = admin.list_consumer_group_offsets(settings.ingest.group_id)
    assert not any(meta.offset > 0 for meta in committed.values()), committed

    # Fixed: the topic takes the letters; a restarted ingest reads the events again and sends it.
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, dlq, configs={"max.message.bytes": "1048588"})])
    admin.close()
    pipeline = ingest_until_drained(settings)
    assert (pipeline.totals["written"], pipeline.totals["dead_lettered"]) == (2, 1)
    letters = [letter for letter in _read_letters(settings, dlq)]
    assert len(letters) == 1 and letters[0].offset == 1 and "invalid JSON" in letters[0].reason
    assert sum(end_offsets(kafka_bootstrap, [topic]).values()) == 3


def _read_letters(settings, topic: str):
    return [DeadLetter.model_validate_json(r.value) for r in read_topic(settings.kafka.bootstrap, topic)]
