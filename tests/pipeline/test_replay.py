"""Replay of a TLC yellow-taxi parquet file (a small one written here), read with pyarrow."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgameday.producer.replay import read_tlc_trips
from mlgameday.producer.run import ProduceOptions, produce
from mlgameday.producer.sink import ProducerError

from .conftest import ingest_until_drained, valid_events

pytestmark = pytest.mark.integration


def write_tlc(path, rows: list[tuple]) -> None:
    cols = list(zip(*rows))
    pq.write_table(pa.table({
        "VendorID": pa.array([1] * len(rows), pa.int32()),
        "tpep_pickup_datetime": pa.array(cols[0], pa.timestamp("us")),
        "tpep_dropoff_datetime": pa.array(cols[1], pa.timestamp("us")),
        "passenger_count": pa.array(cols[2], pa.float64()),
        "trip_distance": pa.array(cols[3], pa.float64()),
        "PULocationID": pa.array(cols[4], pa.int32()),
        "DOLocationID": pa.array(cols[5], pa.int32()),
        "fare_amount": pa.array([10.0] * len(rows)),
    }), path)


ROWS = [
    (datetime(2024, 1, 1, 0, 5), datetime(2024, 1, 1, 0, 17), 1.0, 2.1, 161, 237),
    (datetime(2024, 1, 1, 0, 1), datetime(2024, 1, 1, 0, 30), None, 9.5, 132, 48),   # null passengers → 1
    (datetime(2024, 1, 1, 0, 9), datetime(2024, 1, 1, 0, 8), 2.0, 1.0, 161, 162),    # ends before it starts
    (datetime(2024, 1, 1, 0, 10), datetime(2024, 1, 1, 0, 20), 1.0, 0.0, 161, 162),  # zero distance
    (datetime(2024, 1, 1, 0, 11), datetime(2024, 1, 1, 0, 25), 3.0, 3.3, 300, 162),  # unknown zone
]


def test_tlc_rows_become_trips_and_bad_rows_are_counted_by_reason(tmp_path) -> None:
    path = tmp_path / "yellow_tripdata_2024-01.parquet"
    write_tlc(path, ROWS)
    batches, skipped = read_tlc_trips(path)
    trips = [b for b in batches]
    batch = trips[0]
    assert list(batch.pickup_zone) == [132, 161]                    # sorted by pickup time
    assert list(batch.passenger_count) == [1, 1]
    assert list(batch.duration_s) == [29 * 60, 12 * 60]
    assert skipped == {"duration not in (0, 6h]": 1, "trip_distance not in (0, 200]": 1,
                       "PULocationID outside 1..265": 1, "DOLocationID outside 1..265": 0,
                       "passenger_count above 9": 0}


def test_replay_file_through_kafka_and_ingest(pipeline_settings, tmp_path) -> None:
    path = tmp_path / "trips.parquet"
    write_tlc(path, ROWS)
    settings = pipeline_settings()
    report = produce(settings, ProduceOptions(replay=path))
    assert report.trips == 2 and report.events == 4
    ingest_until_drained(settings)
    events = valid_events(settings)
    assert sorted(e.event_time.isoformat() for e in events)[0] == "2024-01-01T00:01:00+00:00"


def test_replay_of_a_file_without_tlc_columns_says_which(tmp_path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(ProducerError, match="PULocationID"):
        read_tlc_trips(path)
