"""One city, one clock: a starting producer fills the gap since the newest trip, and a history is
only made before every trip already sent (against a real broker)."""

from __future__ import annotations

import time

import pytest

from mlgameday.contracts import LABEL_MATURITY_S, TripRequested
from mlgameday.producer.clock import city_clock, warm_start_seconds
from mlgameday.producer.run import ProduceOptions, produce
from mlgameday.producer.sink import KafkaSink, ProducerError

from .conftest import history_options

pytestmark = pytest.mark.integration


def test_warm_start_fills_the_gap_since_the_clock_and_no_more_than_its_budget() -> None:
    now = 1_800_000_000.0
    assert warm_start_seconds(1800, None, now) == 1800          # a new city: the longest zone window
    assert warm_start_seconds(1800, now - 45, now) == 45        # restarted after 45 s: those 45 s
    assert warm_start_seconds(1800, now - 86_400, now) == 1800  # after a day: the budget
    assert warm_start_seconds(1800, now + 5, now) == 0          # nothing to fill


def test_the_clock_is_the_newest_request_on_the_topic(pipeline_settings) -> None:
    settings = pipeline_settings()
    bootstrap, topic = settings.kafka.bootstrap, settings.topics.trips_requested
    assert city_clock(bootstrap, topic, 60) is None             # an empty topic: no clock yet
    before = time.time()
    produce(settings, history_options(300, 5, seed=3))
    clock = city_clock(bootstrap, topic, 60)
    # The history's requests stop an hour before its end (the labels of its last trips come meanwhile).
    assert clock is not None and abs(clock - (before - LABEL_MATURITY_S)) < 30
    # A hostile event from the future is not the city's clock (ingest dead-letters it too).
    future = TripRequested(event_id="from-2099", event_time="2099-01-01T00:00:00Z", trip_id="x", pickup_zone=1,
                           dropoff_zone=2, trip_distance=1.0, passenger_count=1)
    sink = KafkaSink(bootstrap)
    sink.send(topic, 1, future.to_bytes())
    sink.close()
    assert city_clock(bootstrap, topic, 60) == clock


def test_a_history_after_live_trips_is_refused_with_what_to_do(pipeline_settings) -> None:
    settings = pipeline_settings()
    produce(settings, ProduceOptions(duration_s=1.0, rate=20, label_wait_s=0))
    with pytest.raises(ProducerError, match="would overlap the trips already sent") as refused:
        produce(settings, history_options(300, 5, seed=4))
    assert "gameday down --wipe" in refused.value.hint
