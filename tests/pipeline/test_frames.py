"""Ingest's vectorized frames hold what the per-object construction held (the part files and the push)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa

from mlgameday.features.history import LABEL_COLUMNS, LABELS_SCHEMA
from mlgameday.features.offline import ZONE_STATS_SCHEMA
from mlgameday.features.online import rows_frame
from mlgameday.ingest.frames import labels_frame, zone_rows_frame

T0 = datetime(2024, 3, 3, 23, 59, 59, 999_999, tzinfo=timezone.utc)  # a Sunday, a microsecond before Monday


def _table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def test_zone_rows_frame_equals_rows_frame_of_datetimes() -> None:
    times = [T0 + timedelta(microseconds=k * 333_337) for k in range(40)]
    rows = [(k % 265 + 1, k, k // 2, None if k % 3 == 0 else 7.123456 + k, times[k], times[-1 - k]) for k in range(40)]
    expected = rows_frame(rows)
    got = zone_rows_frame([(z, r, c, s, a.timestamp(), b.timestamp()) for z, r, c, s, a, b in rows])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert _table(got, ZONE_STATS_SCHEMA).equals(_table(expected, ZONE_STATS_SCHEMA))


def test_labels_frame_equals_the_rows_built_from_datetimes() -> None:
    pickups = [T0 + timedelta(microseconds=k * 1_000_001) - timedelta(seconds=3) for k in range(10)]
    done = [p + timedelta(minutes=12, microseconds=7) for p in pickups]
    expected = pd.DataFrame.from_records(
        [(f"t{k}", 5, p, 9, 2.5, 1, 720.0, d) for k, (p, d) in enumerate(zip(pickups, done))],
        columns=LABEL_COLUMNS)
    got = labels_frame([(f"t{k}", 5, p.timestamp(), 9, 2.5, 1, 720.0, d.timestamp()) for k, (p, d) in enumerate(zip(pickups, done))])
    assert got["event_timestamp"].dt.day.nunique() == 2  # the day turns within the rows
    assert _table(got, LABELS_SCHEMA).equals(_table(expected, LABELS_SCHEMA))
