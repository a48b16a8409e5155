"""Replay a real NYC TLC yellow-taxi trip file (parquet) as trip events, at its own times.

Columns read: tpep_pickup_datetime, tpep_dropoff_datetime, PULocationID, DOLocationID,
trip_distance, passenger_count. TLC times are naive local times; they are taken as the
city's clock (UTC here), so hours of day keep their meaning. Rows that cannot be a valid
event (zone outside 1..265, distance or duration out of range) are skipped and counted
by reason; a missing passenger_count (common in TLC data) is read as 1.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .simulator import MAX_DURATION_S, TripBatch
from .sink import ProducerError

TLC_COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "PULocationID", "DOLocationID",
               "trip_distance", "passenger_count"]


def read_tlc_trips(path: Path, limit: int | None = None, chunk: int = 50_000) -> tuple[Iterator[TripBatch], Counter]:
    """Trips of the file in pickup-time order, as batches, and a Counter of skipped rows by reason
    (filled while the batches are consumed)."""
    if not path.is_file():
        raise ProducerError(f"replay file {path} does not exist", hint="pass a TLC yellow-taxi .parquet file")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ProducerError(f"{path} is not a readable parquet file: {exc}") from None
    missing = [c for c in TLC_COLUMNS if c not in schema.names]
    if missing:
        raise ProducerError(f"{path} lacks the TLC columns {missing}",
                            hint="replay reads yellow-taxi files (columns " + ", ".join(TLC_COLUMNS) + ")")
    table = pq.read_table(path, columns=TLC_COLUMNS)
    if limit is not None:
        table = table.slice(0, limit)
    table = table.sort_by("tpep_pickup_datetime")
    skipped: Counter = Counter()
    return _batches(table, chunk, skipped, path.stem), skipped


def _epoch_seconds(column: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False) / 1e6


def _batches(table: pa.Table, chunk: int, skipped: Counter, name: str) -> Iterator[TripBatch]:
    for offset in range(0, table.num_rows, chunk):
        part = table.slice(offset, chunk)
        pickup = _epoch_seconds(part["tpep_pickup_datetime"])
        dropoff = _epoch_seconds(part["tpep_dropoff_datetime"])
        pu = part["PULocationID"].to_numpy(zero_copy_only=False).astype(float)
        do = part["DOLocationID"].to_numpy(zero_copy_only=False).astype(float)
        distance = part["trip_distance"].to_numpy(zero_copy_only=False).astype(float)
        pax = pc.fill_null(part["passenger_count"], 1).to_numpy(zero_copy_only=False).astype(float)
        pax = np.where(pax < 1, 1, pax)
        duration = dropoff - pickup
        checks = {
            "PULocationID outside 1..265": ~((pu >= 1) & (pu <= 265)),
            "DOLocationID outside 1..265": ~((do >= 1) & (do <= 265)),
            "trip_distance not in (0, 200]": ~((distance > 0) & (distance <= 200)),
            "duration not in (0, 6h]": ~((duration > 0) & (duration <= MAX_DURATION_S)),
            "passenger_count above 9": pax > 9,
        }
        bad = np.zeros(len(pickup), dtype=bool)
        for reason, mask in checks.items():
            mask = mask & ~bad
            skipped[reason] += int(mask.sum())
            bad |= mask
        keep = ~bad
        idx = np.flatnonzero(keep)
        yield TripBatch(
            trip_id=[f"tlc-{name}-{offset + i}" for i in idx],
            request_time=pickup[keep], pickup_zone=pu[keep].astype(int), dropoff_zone=do[keep].astype(int),
            trip_distance=np.round(distance[keep], 2), passenger_count=pax[keep].astype(int),
            duration_s=duration[keep],
        )
