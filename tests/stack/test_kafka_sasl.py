"""Kafka with SASL (SCRAM): the stack's local broker started with a SASL listener, and every
Kafka client of the project talking to it through runtime.kafka.kafka_options — the producer,
ingest (consumer and dead-letter producer), serving's prediction publisher, the monitor, the
CLI's topic reader, the DLQ replay, the drill watcher's lag check, and services started by the
stack (their password comes through the environment, never the run folder's settings.yaml)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import httpx
import numpy as np
import pytest
from kafka import KafkaConsumer, TopicPartition

from mlgameday.config import load_settings
from mlgameday.contracts import Alert, Topic, new_event_id, utcnow
from mlgameday.ingest.dlq_replay import replay
from mlgameday.drill.watch import Watcher
from mlgameday.ingest.pipeline import IngestPipeline
from mlgameday.monitor.service import MonitorService
from mlgameday.monitor.synthetic import Traffic
from mlgameday.monitor.views import topic_alerts
from mlgameday.producer.run import ProduceOptions, produce
from mlgameday.producer.sink import KafkaSink
from mlgameday.runtime.kafka import kafka_options
from mlgameday.serving.publisher import PredictionBatch, PredictionPublisher
from mlgameday.stack.kafka.admin import broker_answers
from mlgameday.app import open_stack

pytestmark = pytest.mark.integration

SASL = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "triptime",
        "sasl_password": "gameday-test-secret"}


@pytest.fixture(scope="module", autouse=True)
def local_broker_whatever_the_lane():
    """These tests are about the local broker's SASL listener: a lane's GAMEDAY_KAFKA__MODE
    (testcontainers) must not reach the stack, whose run folder's settings it would override."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GAMEDAY_KAFKA__MODE", raising=False)
        yield


@pytest.fixture(scope="module")
def sasl_stack(tmp_path_factory):
    """A local stack whose broker has only a SASL listener (and the design's topics)."""
    run_dir = tmp_path_factory.mktemp("sasl") / "run"
    # Ingest as the stack starts it (the producer and serving wait for a trained model).
    settings = load_settings(run_dir=run_dir, kafka=SASL, services=["ingest"])
    stack = open_stack(settings)
    stack.up()
    try:
        yield settings, stack
    finally:
        stack.down()


def _client_settings(settings, **changes):
    """Settings as a process of the stack gets them: the broker as an external address, same security."""
    bootstrap = open_stack(settings).endpoint("kafka", "bootstrap")
    return load_settings(kafka={**SASL, "mode": "external", "bootstrap": bootstrap}, **changes)


def _read(settings, topic: str, timeout_s: float = 10.0) -> list:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap, group_id=None, enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000), **kafka_options(settings.kafka))
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()])
        consumer.seek_to_beginning()
        return [record.value for record in consumer]
    finally:
        consumer.close()


def test_the_broker_refuses_clients_without_credentials(sasl_stack) -> None:
    settings, stack = sasl_stack
    bootstrap = stack.endpoint("kafka", "bootstrap")
    assert broker_answers(bootstrap, **kafka_options(settings.kafka))
    assert not broker_answers(bootstrap)  # PLAINTEXT on a SASL listener
    wrong = {**kafka_options(settings.kafka), "sasl_plain_password": "wrong"}
    assert not broker_answers(bootstrap, **wrong)
    assert "gameday-test-secret" not in stack.run.settings_file.read_text()


def test_services_started_by_the_stack_talk_sasl(sasl_stack, tmp_path) -> None:
    settings, stack = sasl_stack
    produce(_client_settings(settings, run_dir=tmp_path), ProduceOptions(trips=30, rate=300, label_wait_s=0, seed=8))
    ingest = stack.endpoint("ingest", "http")
    deadline = time.monotonic() + 60
    totals: dict = {}
    while time.monotonic() < deadline:  # the stack's ingest process reads them over SASL
        totals = httpx.get(f"{ingest}/status", timeout=2).json().get("totals", {})
        if totals.get("written", 0) >= 30:
            break
        time.sleep(0.5)
    assert totals.get("written", 0) >= 30, totals


def test_every_client_of_the_project_works_with_sasl(sasl_stack, tmp_path) -> None:
    settings, _ = sasl_stack
    reference = tmp_path / "reference.parquet"
    Traffic(seed=3).reference(300).to_parquet(reference)
    client = _client_settings(settings, run_dir=tmp_path / "clients",
                              ingest={"group_id": "ingest-sasl", "checkpoint_interval_s": 0.2},
                              monitor={"reference_path": str(reference), "group_id": "sasl-monitor"})

    # The producer, with malformed events mixed in, and ingest reading them (consumer + dead letters).
    report = produce(client, ProduceOptions(trips=40, rate=400, label_wait_s=0, seed=5))
    assert report.events >= 40
    pipeline = IngestPipeline(client).start()
    try:
        bad = b'{"not": "a trip"}'
        sink = KafkaSink(client.kafka.bootstrap, **kafka_options(client.kafka))
        sink.send(Topic.TRIPS_REQUESTED, 1, bad)
        sink.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pipeline.totals["dead_lettered"] < 1:
            pipeline.poll_once()
        pipeline.checkpoint()
    finally:
        pipeline.close()
    assert pipeline.totals["written"] >= 40 and pipeline.totals["dead_lettered"] >= 1

    # Serving's publisher (a separate process) sends a prediction.
    sent: list[int] = []
    publisher = PredictionPublisher(client.kafka.bootstrap, Topic.PREDICTIONS, 100, on_drop=lambda r, n: None,
                                    on_sent=sent.append, security=kafka_options(client.kafka)).start()
    trip_id = f"sasl-{new_event_id()[:8]}"
    publisher.publish(PredictionBatch([trip_id], [132], "m:1", "live", np.zeros((1, 7)), [600.0], 1.0,
                                      {132: (1.0, False, [])}, datetime.now(timezone.utc)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not sum(sent):
        time.sleep(0.1)
    publisher.stop()
    assert sum(sent) == 1
    assert any(json.loads(v)["trip_id"] == trip_id for v in _read(client, Topic.PREDICTIONS))

    # The monitor: its consumer joins, its producer sends an alert and a dead letter; the CLI reads alerts.
    monitor = MonitorService(client, lookup=None)
    monitor.connect()
    monitor.handle(Topic.PREDICTIONS, b"{broken", 0, 99)
    monitor.publish(Alert(event_id=new_event_id(), event_time=utcnow(), kind="sasl.check", score=1, threshold=0.5,
                          window=1, message="over SASL"))
    monitor.close()
    assert any(a["message"] == "over SASL" for a in topic_alerts(client.kafka.bootstrap, **kafka_options(client.kafka)))
    letters = [json.loads(v) for v in _read(client, Topic.DLQ)]
    assert {"ingest-sasl", "monitor"} <= {letter["consumer"] for letter in letters}

    # The DLQ replay (consumer + producer) and the drill watcher's lag check (admin client).
    replayed = replay(client, dry_run=True, idle_s=2)
    assert replayed.read >= 2
    lags = Watcher(client.kafka.bootstrap, None, None, security=kafka_options(client.kafka))._consumer_lags()
    assert lags
