"""The prediction publisher: the JSON it writes is the Prediction contract, and a burst of batch traffic
(100,000 rows handed over at once) reaches the topic whole — every row one event, none dropped."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np
import pytest
from kafka import KafkaConsumer

from mlgameday.contracts import MODEL_FEATURES, Prediction, Topic, parse_event
from mlgameday.serving.publisher import PredictionBatch, PredictionPublisher

NOW = datetime(2026, 1, 5, 8, 30, 12, 345678, tzinfo=timezone.utc)


def batch(prefix: str, n: int, role: str = "live") -> PredictionBatch:
    rng = np.random.default_rng(len(prefix) + n)
    zones = [1 + i % 263 for i in range(n)]
    return PredictionBatch(
        trip_ids=[f"{prefix}-{i}" for i in range(n)], pickup_zones=zones, model_tag="triptime:abc", role=role,
        features=rng.uniform(0.5, 30, size=(n, len(MODEL_FEATURES))), predictions=rng.uniform(60, 3000, n).tolist(),
        latency_ms=3.25, event_time=NOW,
        zone_freshness={z: (None, False, ["requests_15m"]) if z % 2 else (12.5, z % 3 == 0, []) for z in set(zones)})


def test_each_record_is_the_prediction_contract_field_for_field():
    rows = batch("c", 6, role="canary")
    records = list(rows.records())
    assert len(records) == 6
    ids = set()
    for i, (key, value) in enumerate(records):
        event = parse_event(Topic.PREDICTIONS, value)  # the contract's own validation
        zone = rows.pickup_zones[i]
        age, stale, missing = rows.zone_freshness[zone]
        expected = Prediction(event_id=event.event_id, event_time=NOW, trip_id=f"c-{i}", pickup_zone=zone,
                              model_tag="triptime:abc", role="canary",
                              features=dict(zip(MODEL_FEATURES, rows.features[i].tolist())),
                              prediction_s=rows.predictions[i], latency_ms=3.25, feature_age_s=age, stale=stale,
                              missing=missing)
        assert event == expected
        assert key == f"c-{i}".encode()
        ids.add(event.event_id)
    assert len(ids) == 6  # every event its own id


@pytest.mark.integration
def test_a_burst_of_batch_traffic_is_published_whole(kafka_bootstrap, new_topic):
    topic = new_topic(partitions=3, prefix="pred")
    drops: dict[str, int] = {}
    publisher = PredictionPublisher(kafka_bootstrap, topic, capacity=100_000,
                                    on_drop=lambda reason, n: drops.__setitem__(reason, drops.get(reason, 0) + n),
                                    on_sent=lambda n: None).start()
    total = 100_000
    try:
        for j in range(total // 1000):  # as /predict_batch hands them over: 1000 rows a request
            publisher.publish(batch(f"burst{j}", 1000))
        deadline = time.monotonic() + 120
        while publisher.sent + publisher.dropped < total and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        publisher.stop()
    assert drops == {} and publisher.sent == total
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=3000,
                             max_partition_fetch_bytes=8 << 20)
    try:
        trip_ids = {record.key for record in consumer}
    finally:
        consumer.close()
    assert len(trip_ids) == total
