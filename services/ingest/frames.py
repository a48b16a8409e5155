"""Ingest's rows → pandas frames for the online push and the offline/label part files.

Rows keep times as epoch seconds (floats), not datetime objects: a checkpoint's buffer holds
thousands of rows, and pandas converts a column of Python datetimes one object at a time
(it was most of a checkpoint's cost). Here each time column becomes datetime64 at once,
rounded to the microsecond the part files store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.history import LABEL_COLUMNS
from ..features.online import ROW_COLUMNS

# A zone row: (zone_id, requests_15m, completed_30m, mean_speed_30m or None, event time s, written s)
# A label row: (trip_id, zone_id, pickup time s, dropoff_zone, trip_distance, passenger_count,
#               duration_s, completed time s)


def utc_times(seconds) -> pd.DatetimeIndex:
    """Epoch seconds → UTC timestamps, rounded to the microsecond."""
    micros = np.round(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    return pd.to_datetime(micros, unit="us", utc=True)


def zone_rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """Zone rows → a push frame with ROW_COLUMNS (the same dtypes as features.online.rows_frame)."""
    zone, requests, completed, speed, event_s, written_s = zip(*rows)
    columns = [np.asarray(zone, dtype=np.int64), np.asarray(requests, dtype=np.int64),
               np.asarray(completed, dtype=np.int64), np.asarray(speed, dtype=np.float64),  # None → NaN
               utc_times(event_s), utc_times(written_s)]
    return pd.DataFrame(dict(zip(ROW_COLUMNS, columns)))


def labels_frame(rows: list[tuple]) -> pd.DataFrame:
    """Label rows → a frame with LABEL_COLUMNS."""
    trip_id, zone, pickup_s, dropoff, distance, passengers, duration, completed_s = zip(*rows)
    pickup = utc_times(pickup_s)
    return pd.DataFrame({
        "trip_id": list(trip_id), "zone_id": np.asarray(zone, dtype=np.int64), "event_timestamp": pickup,
        "dropoff_zone": np.asarray(dropoff, dtype=np.int64), "trip_distance": np.asarray(distance, dtype=np.float64),
        "passenger_count": np.asarray(passengers, dtype=np.int64), "duration_s": np.asarray(duration, dtype=np.float64),
        "completed_at": utc_times(completed_s)})[LABEL_COLUMNS]
