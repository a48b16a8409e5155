"""Replay of a TLC yellow-taxi parquet file (a small one written here), read with pyarrow."""

from __future__ import annotations

from datetime import datetime

import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlgameday.contracts import LABEL_MATURITY_S, TripRequested
from mlgameday.features.history import load_trip_labels
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
    (datetime(2024, 1, 1, 0, 11), datetime(2024, 1, 1, 0, 25), 3.0, 3.3, 300, 162),  # no such zone
    (datetime(2024, 1, 1, 0, 3), datetime(2024, 1, 1, 0, 26), 1.0, 4.0, 161, 264),   # TLC's "Unknown": no place
]


def test_tlc_rows_become_trips_and_bad_rows_are_counted_by_reason(tmp_path) -> None:
    path = tmp_path / "yellow_tripdata_2024-01.parquet"
    write_tlc(path, ROWS)
    replay = read_tlc_trips(path)
    trips = [b for b in replay.batches]
    batch = trips[0]
    assert list(batch.pickup_zone) == [132, 161]                    # sorted by pickup time
    assert list(batch.passenger_count) == [1, 1]
    assert list(batch.duration_s) == [29 * 60, 12 * 60]
    assert batch.backfill                                            # trips of the past: no rider waits
    assert replay.skipped == {"duration not in (0, 6h]": 1, "trip_distance not in (0, 200]": 1,
                              "PULocationID outside 1..263": 1, "DOLocationID outside 1..263": 1,
                              "passenger_count above 9": 0}
    assert replay.imputed == {"passenger_count (null or 0 → 1)": 1}  # counted, not silent


def test_a_replay_is_shifted_to_end_at_the_time_asked() -> None:
    """Its spacing is the file's; the file's last pickup (00:11, a skipped row) lands at `end`."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trips.parquet"
        write_tlc(path, ROWS)
        replay = read_tlc_trips(path, end=1_800_000_000.0)
        batch = next(iter(replay.batches))
    end = 1_800_000_000.0
    assert list(batch.request_time) == [end - 10 * 60, end - 6 * 60]   # 00:01 and 00:05
    assert replay.start == end - 10 * 60                                # the first pickup


def test_replay_file_through_kafka_and_ingest(pipeline_settings, tmp_path) -> None:
    path = tmp_path / "trips.parquet"
    write_tlc(path, ROWS)
    settings = pipeline_settings()
    before = time.time()
    report = produce(settings, ProduceOptions(replay=path))
    assert report.trips == 2 and report.events == 4                      # both labels: due within the hour
    assert report.faults["imputed: passenger_count (null or 0 → 1)"] == 1
    ingest_until_drained(settings)
    events = valid_events(settings)
    # Shifted as a history: the last pickup an hour before now, its labels by now; the spacing kept.
    requests = sorted(e.event_time.timestamp() for e in events if isinstance(e, TripRequested))
    assert requests[1] - requests[0] == 4 * 60
    assert abs(requests[1] + 6 * 60 - (before - LABEL_MATURITY_S)) < 60  # 00:05, six minutes before the file's last pickup
    labels = load_trip_labels(settings)                                  # landed: in the offline store
    assert sorted(labels["duration_s"]) == [12 * 60, 29 * 60]
    # A second replay would overlap the trips already sent: refused up front, saying what to do.
    with pytest.raises(ProducerError, match="would overlap the trips already sent") as refused:
        produce(settings, ProduceOptions(replay=path))
    assert "gameday down --wipe" in refused.value.hint


def test_replay_of_a_file_without_tlc_columns_says_which(tmp_path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(ProducerError, match="PULocationID"):
        read_tlc_trips(path)
