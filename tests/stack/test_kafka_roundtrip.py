"""A round trip through the real broker with kafka-python: nothing missing, order per key kept."""

import pytest

from collections import defaultdict

from kafka import KafkaConsumer, KafkaProducer

pytestmark = pytest.mark.integration  # needs a real broker / server


def test_ten_thousand_keyed_events_round_trip_in_order(kafka_bootstrap: str, new_topic) -> None:
    topic = new_topic(partitions=3)
    keys = [f"zone-{k}" for k in range(50)]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=5)
    sent: dict[str, list[int]] = defaultdict(list)
    for seq in range(10_000):
        key = keys[seq % len(keys)]
        producer.send(topic, key=key.encode(), value=str(seq).encode())
        sent[key].append(seq)
    producer.flush(timeout=30)
    producer.close()

    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=f"{topic}-reader",
        auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10_000,
    )
    received: dict[str, list[int]] = defaultdict(list)
    partitions_seen = set()
    total = 0
    for message in consumer:
        received[message.key.decode()].append(int(message.value))
        partitions_seen.add(message.partition)
        total += 1
        if total == 10_000:
            break
    consumer.close()

    assert total == 10_000
    assert received == sent  # every event, and per key in the order sent
    assert partitions_seen == {0, 1, 2}
