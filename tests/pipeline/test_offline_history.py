"""The offline store keeps the history: point-in-time joins return the values as of the asked time."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pandas as pd
import pyarrow.dataset as ds
import pytest

from mlgameday.features.offline import ZONE_STATS_SCHEMA
from mlgameday.features.point_in_time import point_in_time_join
from mlgameday.features.store import offline_dir, open_store
from mlgameday.contracts.knobs import ProducerFaults
from mlgameday.producer.simulator import TripSimulator
from mlgameday.producer.sink import KafkaSink
from mlgameday.producer.stream import Emitter, run_history

from .conftest import history_rate, ingest_until_drained, valid_events
from .reference import reference_features
from .test_point_in_time import reference_join

pytestmark = pytest.mark.integration

FEATURES = ["requests_15m", "completed_30m", "mean_speed_30m"]


def produce_history(settings, seed: int, days: float, end: float) -> None:
    """About 625 trips requested over `days` (no label hour after them: the test reads what is there)."""
    sink = KafkaSink(settings.kafka.bootstrap)
    topics = settings.topics
    try:
        run_history(TripSimulator(seed), Emitter(sink, topics, seed, ProducerFaults), days * 86400,
                    rate=history_rate(625, days * 1440), end=end, label_wait_s=0)
    finally:
        sink.close()


def historical(store, zones: list[int], at: float) -> pd.DataFrame:
    entity = pd.DataFrame({"zone_id": zones, "event_timestamp": [datetime.fromtimestamp(at, tz=timezone.utc)] * len(zones)})
    frame = store.get_historical_features(entity_df=entity, features=store.get_feature_service("triptime_v1")).to_df()
    # A zone with no row in the TTL comes back with null features (or, from the dask store, not at all).
    return frame.set_index("zone_id").reindex(zones)


def test_point_in_time_join_returns_values_as_of_then_not_later(pipeline_settings) -> None:
    settings = pipeline_settings()
    now = time.time()
    phase1_end = now - 2 * 3600
    produce_history(settings, seed=21, days=1 / 24, end=phase1_end)      # an hour of history, ending 2 h ago
    ingest_until_drained(settings)
    as_of_phase1 = reference_features(valid_events(settings))
    produce_history(settings, seed=22, days=1 / 24, end=now)             # the last hour
    ingest_until_drained(settings)
    final = reference_features(valid_events(settings))

    store = open_store(settings)
    # Zones busy in both phases: their value 20 min after phase 1 must be phase 1's, not the later one.
    zones = sorted(z for z in as_of_phase1 if as_of_phase1[z]["clock"] > phase1_end - 600
                   and final[z]["clock"] > now - 600)[:40]
    assert len(zones) >= 20
    between = historical(store, zones, phase1_end + 1200)
    latest = historical(store, zones, now + 1)
    changed = 0
    for zone in zones:
        then, later = as_of_phase1[zone], final[zone]
        assert between.loc[zone, "requests_15m"] == then["requests_15m"], zone
        assert between.loc[zone, "completed_30m"] == then["completed_30m"], zone
        assert latest.loc[zone, "requests_15m"] == later["requests_15m"], zone
        assert latest.loc[zone, "completed_30m"] == later["completed_30m"], zone
        if then["mean_speed_30m"] is not None:
            assert between.loc[zone, "mean_speed_30m"] == pytest.approx(then["mean_speed_30m"], rel=1e-9)
        changed += (then["requests_15m"], then["completed_30m"]) != (later["requests_15m"], later["completed_30m"])
    assert changed > len(zones) // 2   # the later values really differ, so "as of then" is tested

    # Before any event of a zone (and beyond the 1 h TTL of every row): no value.
    before = historical(store, zones[:5], phase1_end - 3 * 3600)
    assert before["requests_15m"].isna().all()

    # The join the trainer runs answers the join's definition, over the history ingest wrote, across
    # the gap between the phases, before the history and past its end, in the caller's order.
    grid = pd.DataFrame([(zone, datetime.fromtimestamp(at, tz=timezone.utc)) for at in
                         range(int(phase1_end - 5 * 3600), int(now + 600), 397) for zone in range(1, 264, 5)],
                        columns=["zone_id", "event_timestamp"]).sample(frac=1, random_state=3, ignore_index=True)
    grid["trip_id"] = [f"t{i}" for i in range(len(grid))]
    service = store.get_feature_service("triptime_v1")
    history = ds.dataset(str(offline_dir(settings)), schema=ZONE_STATS_SCHEMA, format="parquet").to_table().to_pandas()
    joined = point_in_time_join(settings, grid, service)
    assert list(joined["trip_id"]) == list(grid["trip_id"])
    assert joined[FEATURES].notna().any(axis=1).sum() > 200   # the grid really hits history rows
    pd.testing.assert_frame_equal(joined[FEATURES].astype(float), reference_join(history, grid))

    # Known then: only rows ingest had written by each row's time. Every row here was written during
    # this test (after `now`), so earlier times see nothing, and times after the writes see all of it.
    known = point_in_time_join(settings, grid, service, known_then=True)
    written_by = datetime.fromtimestamp(time.time(), tz=timezone.utc)
    before_ingest = grid["event_timestamp"] < datetime.fromtimestamp(now, tz=timezone.utc)
    after_ingest = grid["event_timestamp"] > written_by
    assert before_ingest.sum() > 100 and after_ingest.sum() > 20
    assert known.loc[before_ingest, FEATURES].isna().all().all()
    assert known.loc[after_ingest, FEATURES].notna().any(axis=1).sum() > 10
    pd.testing.assert_frame_equal(known.loc[after_ingest, FEATURES].astype(float),
                                  joined.loc[after_ingest, FEATURES].astype(float))

