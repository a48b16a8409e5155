"""Pipeline fixtures: fresh topics per test, settings pointing at them, produce/ingest/read-back helpers."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from kafka import KafkaConsumer, TopicPartition
from pydantic import ValidationError

from mlgameday.config import Settings, load_settings
from mlgameday.contracts import DeadLetter, TripCompleted, TripRequested
from mlgameday.ingest.pipeline import IngestPipeline
from mlgameday.contracts import LABEL_MATURITY_S
from mlgameday.producer.run import ProduceOptions


@pytest.fixture
def pipeline_settings(kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path) -> Callable[..., Settings]:
    """Settings of an isolated pipeline: its own topics, consumer group and run folder."""
    requested, completed, dlq = new_topic(prefix="req"), new_topic(prefix="done"), new_topic(prefix="dlq")

    def make(**overrides: object) -> Settings:
        base = dict(
            run_dir=tmp_path / "run",
            kafka={"mode": "external", "bootstrap": kafka_bootstrap},
            topics={"trips_requested": requested, "trips_completed": completed, "dlq": dlq},
            ingest={"group_id": f"ingest-{uuid.uuid4().hex[:8]}", "checkpoint_interval_s": 0.5},
        )
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
        return load_settings(**base)

    return make


def history_options(trips: float, request_minutes: float, seed: int) -> ProduceOptions:
    """A fast-forwarded history of about `trips` trips requested over `request_minutes`, then the
    hour in which their labels arrive (a history's requests stop LABEL_MATURITY_S before its end)."""
    return ProduceOptions(history_s=request_minutes * 60 + LABEL_MATURITY_S, rate=trips / (request_minutes * 60), seed=seed)


def history_rate(trips: float, request_minutes: float) -> float:
    """The trips/s at which `run_history` requests about `trips` trips in `request_minutes`."""
    return trips / (request_minutes * 60)


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, seen: Callable[[], str] | None = None,
             every_s: float = 0.05) -> Any:
    """`condition()` once it is truthy; else fails after `timeout_s`, with what `seen()` shows then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}" + (f"\n{seen()}" if seen else ""))


def end_offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return {(tp.topic, tp.partition): off for tp, off in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, timeout_s: float = 10) -> list:
    """Every record of a topic (from the start), as ConsumerRecords."""
    ends = end_offsets(bootstrap, [topic])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    parts = [TopicPartition(t, p) for (t, p) in ends]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records: list = []
    deadline = time.monotonic() + timeout_s
    try:
        while sum(1 for tp in parts if consumer.position(tp) < ends[(tp.topic, tp.partition)]) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def valid_events(settings: Settings) -> list:
    """The distinct valid trip events on the pipeline's topics (what ingest should have counted)."""
    bootstrap = settings.kafka.bootstrap
    seen, events = set(), []
    for topic, model in ((settings.topics.trips_requested, TripRequested), (settings.topics.trips_completed, TripCompleted)):
        for record in read_topic(bootstrap, topic):
            try:
                event = model.model_validate_json(record.value)
            except ValidationError:
                continue
            if event.event_id not in seen:
                seen.add(event.event_id)
                events.append(event)
    return events


def dead_letters(settings: Settings) -> list[DeadLetter]:
    return [DeadLetter.model_validate_json(r.value) for r in read_topic(settings.kafka.bootstrap, settings.topics.dlq)]


def drain(pipeline: IngestPipeline, settings: Settings, timeout_s: float = 60) -> None:
    """Poll an in-process ingest until it has read to the end of both topics."""
    ends = end_offsets(settings.kafka.bootstrap, [settings.topics.trips_requested, settings.topics.trips_completed])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pipeline.poll_once()
        if all(pipeline.offsets.get(k, 0) >= v for k, v in ends.items()):
            return
    raise AssertionError(f"ingest did not drain in {timeout_s}s: {pipeline.status()} vs {ends}")


def ingest_until_drained(settings: Settings, timeout_s: float = 60, close: bool = True, **kwargs) -> IngestPipeline:
    """Run an in-process ingest until it has read to the end of both topics; then checkpoint and close it,
    unless `close` is False (the caller closes it)."""
    pipeline = IngestPipeline(settings, **kwargs).start()
    try:
        drain(pipeline, settings, timeout_s)
    except BaseException:
        pipeline.close()
        raise
    if close:
        pipeline.close()
    return pipeline
