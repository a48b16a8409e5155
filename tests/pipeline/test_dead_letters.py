"""Malformed events mixed into good traffic: each one dead-lettered with a reason, each good one ingested once."""

from __future__ import annotations

import time

import pytest

from mlgameday.features.history import load_trip_labels
from mlgameday.contracts.knobs import ProducerFaults
from mlgameday.producer.simulator import TripSimulator
from mlgameday.producer.sink import KafkaSink
from mlgameday.producer.stream import Emitter, run_history

from .conftest import dead_letters, history_rate, ingest_until_drained, valid_events

pytestmark = pytest.mark.integration


def test_malformed_events_go_to_the_dlq_and_good_ones_are_ingested_once(pipeline_settings) -> None:
    settings = pipeline_settings()
    sent: list[tuple[str, bytes, str | None]] = []
    sink = KafkaSink(settings.kafka.bootstrap)
    faults = ProducerFaults(malformed_share=0.2, null_share=0.04)
    emitter = Emitter(sink, settings.topics, 31,
                      lambda: faults, on_emit=lambda topic, key, value, kind: sent.append((topic, value, kind)))
    try:
        end = time.time()
        run_history(TripSimulator(31), emitter, 0.25 * 86400, rate=history_rate(5250, 360), end=end, label_wait_s=0)
    finally:
        sink.close()
    bad = [(t, v, k) for t, v, k in sent if k is not None]
    good = [(t, v) for t, v, k in sent if k is None]
    assert len(bad) >= 1000
    assert {k for _, _, k in bad} >= {"invalid_json", "missing_field", "wrong_type", "unknown_schema_version", "null_field"}

    pipeline = ingest_until_drained(settings)

    letters = dead_letters(settings)
    assert sorted(letter.original.encode() for letter in letters) == sorted(v for _, v, _ in bad)
    assert all(letter.reason for letter in letters)
    by_kind = {}
    for letter, (_, _, kind) in zip(sorted(letters, key=lambda x: x.original), sorted(bad, key=lambda x: x[1].decode())):
        by_kind.setdefault(kind, letter.reason)
    assert "invalid JSON" in by_kind["invalid_json"]
    assert "trip_distance: missing" in by_kind["missing_field"]
    assert "passenger_count" in by_kind["wrong_type"]
    assert "unknown schema_version 99" in by_kind["unknown_schema_version"]
    assert len({letter.event_id for letter in letters}) == len(letters)

    counters = pipeline.totals
    written = counters["written"] + counters["late"]
    assert counters["dead_lettered"] == len(bad)
    assert written == len(good) == len(valid_events(settings))
    assert counters["duplicate"] == 0
    good_labels = [v for t, v in good if t == settings.topics.trips_completed]
    labels = load_trip_labels(settings)
    assert len(labels) == len(good_labels) and labels["trip_id"].is_unique
