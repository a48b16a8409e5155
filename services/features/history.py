"""Labels history: completed trips (the actual durations), for training and for evaluation.

Ingest appends them as parquet part files (same write rules as offline.py); a trip
redelivered across a restart may sit in two parts, so readers keep one row per trip_id.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..config import Settings
from .store import labels_dir

LABEL_COLUMNS = ["trip_id", "zone_id", "event_timestamp", "dropoff_zone", "trip_distance",
                 "passenger_count", "duration_s", "completed_at"]

LABELS_SCHEMA = pa.schema([
    ("trip_id", pa.string()),
    ("zone_id", pa.int64()),
    ("event_timestamp", pa.timestamp("us", tz="UTC")),
    ("dropoff_zone", pa.int64()),
    ("trip_distance", pa.float64()),
    ("passenger_count", pa.int64()),
    ("duration_s", pa.float64()),
    ("completed_at", pa.timestamp("us", tz="UTC")),
])


def labelled_trip_ids(settings: Settings, written_after: float | None = None) -> set[str]:
    """The trip ids in the labels history — of the part files written after `written_after` (epoch s)
    only, when given: a drill's own labels, without reading hours of history."""
    folder = labels_dir(settings)
    files = [f for f in sorted(folder.glob("part-*.parquet")) if folder.is_dir()
             and (written_after is None or f.stat().st_mtime >= written_after)] if folder.is_dir() else []
    if not files:
        return set()
    table = ds.dataset([str(f) for f in files], schema=LABELS_SCHEMA, format="parquet").to_table(columns=["trip_id"])
    return set(table.column("trip_id").to_pylist())


def load_trip_labels(settings: Settings) -> pd.DataFrame:
    """Every completed trip ingested so far, one row per trip, ordered by request time.

    Columns: trip_id, zone_id (pickup), event_timestamp (request time, UTC), dropoff_zone,
    trip_distance, passenger_count, duration_s, completed_at (when the label arrived, UTC).
    """
    folder = labels_dir(settings)
    files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    if not files:
        return LABELS_SCHEMA.empty_table().to_pandas()[LABEL_COLUMNS]
    frame = ds.dataset([str(f) for f in files], schema=LABELS_SCHEMA, format="parquet").to_table().to_pandas()
    frame = frame.drop_duplicates("trip_id", keep="first")
    return frame.sort_values(["event_timestamp", "trip_id"], kind="stable")[LABEL_COLUMNS].reset_index(drop=True)
