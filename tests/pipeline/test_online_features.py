"""Seeded stream → Kafka → ingest → Feast online store (SQLite): features equal an independent reference."""

from __future__ import annotations

import math

import pytest

from mlgameday.features.history import load_trip_labels
from mlgameday.features.online import read_zone_features
from mlgameday.features.store import open_store
from mlgameday.contracts.knobs import IngestFaults
from mlgameday.ingest.pipeline import KMH_PER_MPH
from mlgameday.producer.run import ProduceOptions, produce
from mlgameday.producer.sink import KafkaSink
from mlgameday.runtime.admin_http import Knobs

from .conftest import drain, history_options, ingest_until_drained, read_topic, valid_events
from .reference import reference_features

pytestmark = pytest.mark.integration


def assert_online_equals_reference(store, reference: dict, speed_factor: float = 1.0) -> None:
    online = read_zone_features(store, sorted(reference))
    for zone, want in reference.items():
        got = online[zone]
        assert got.values["requests_15m"] == want["requests_15m"], zone
        assert got.values["completed_30m"] == want["completed_30m"], zone
        if want["mean_speed_30m"] is None:
            assert got.values["mean_speed_30m"] is None, zone
        else:
            assert got.values["mean_speed_30m"] == pytest.approx(want["mean_speed_30m"] * speed_factor, rel=1e-12), zone
        assert got.event_time is not None and abs(got.event_time.timestamp() - want["clock"]) < 1.0, zone


def test_online_features_equal_the_reference_and_redelivery_changes_nothing(pipeline_settings) -> None:
    settings = pipeline_settings()
    # 3 hours of seeded history (trips every few seconds in busy zones): windows slide, labels come late.
    # Trips per hour follow the demand curve and the history ends at the wall clock: 24k/day keeps
    # even the quietest night hours above the floor below.
    report = produce(settings, history_options(3000, 180, seed=11))
    assert report.events > 2500

    # The same events again (same bytes, same event_id), as after a producer retry.
    records = read_topic(settings.kafka.bootstrap, settings.topics.trips_requested)[:300]
    sink = KafkaSink(settings.kafka.bootstrap)
    for record in records:
        sink.send(record.topic, int(record.key), record.value)
    sink.close()

    pipeline = ingest_until_drained(settings)
    events = valid_events(settings)
    reference = reference_features(events)
    assert len(reference) > 150
    store = open_store(settings)
    assert_online_equals_reference(store, reference)

    counters = pipeline.totals
    assert counters["duplicate"] == 300, counters
    assert counters["dead_lettered"] == 0

    # Labels history: every completed trip once, with request-time features.
    labels = load_trip_labels(settings)
    completed = [e for e in events if e.__class__.__name__ == "TripCompleted"]
    assert len(labels) == len(completed) and labels["trip_id"].is_unique
    # The labels carry the request's own features (no clock features: the city is stationary).
    by_trip = {e.trip_id: e for e in completed}
    row = labels.iloc[0]
    trip = by_trip[row["trip_id"]]
    assert (row["zone_id"], row["trip_distance"], row["passenger_count"]) == (
        trip.pickup_zone, trip.trip_distance, trip.passenger_count)
    assert row["duration_s"] == trip.duration_s > 0


def test_speed_unit_knob_writes_kmh_online_only(pipeline_settings) -> None:
    settings = pipeline_settings()
    produce(settings, history_options(500, 72, seed=12))
    knobs = Knobs(IngestFaults)
    knobs.merge({"speed_unit": "kmh"})
    ingest_until_drained(settings, knobs=knobs)
    reference = reference_features(valid_events(settings))
    assert_online_equals_reference(open_store(settings), reference, speed_factor=KMH_PER_MPH)


@pytest.mark.parametrize("online_store", ["sqlite", "redis"])
@pytest.mark.parametrize("bug", ["nan", "kmh"])
def test_zones_a_bug_wrote_are_rewritten_as_soon_as_its_knob_is_off(pipeline_settings, request, online_store,
                                                                    bug) -> None:
    """nan-features' and training-serving-skew's fix (the bad release rolled back): every zone written wrong is
    right again in the next batch, not at the zone's next event; through either online store."""
    extra = {"online_store": "redis", "redis": {"url": request.getfixturevalue("redis_url")}} \
        if online_store == "redis" else {}
    settings = pipeline_settings(**extra)
    produce(settings, history_options(500, 72, seed=13))
    knobs = Knobs(IngestFaults)
    knobs.merge({"nan_share": 1.0} if bug == "nan" else {"speed_unit": "kmh"})
    pipeline = ingest_until_drained(settings, knobs=knobs, close=False)
    store = open_store(settings)
    reference = reference_features(valid_events(settings))
    if bug == "kmh":
        assert_online_equals_reference(store, reference, speed_factor=KMH_PER_MPH)
    else:
        spoiled = read_zone_features(store, sorted(reference))
        with_speed = [z for z, want in reference.items() if want["mean_speed_30m"] is not None]
        assert len(with_speed) > 50
        for zone in with_speed:  # the row is there, its speed reads as missing
            speed = spoiled[zone].values["mean_speed_30m"]
            assert spoiled[zone].values["requests_15m"] == reference[zone]["requests_15m"], zone
            assert speed is None or math.isnan(speed), zone

    knobs.merge(IngestFaults().model_dump())  # back to normal
    # A few events again (duplicates: no zone changes), so that ingest runs a batch.
    sink = KafkaSink(settings.kafka.bootstrap)
    for record in read_topic(settings.kafka.bootstrap, settings.topics.trips_requested)[:5]:
        sink.send(record.topic, int(record.key), record.value)
    sink.close()
    try:
        drain(pipeline, settings)
        assert pipeline.totals["duplicate"] == 5
    finally:
        pipeline.close()
    assert_online_equals_reference(store, reference)
