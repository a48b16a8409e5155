"""Replay a real NYC TLC yellow-taxi trip file (parquet) as trip events: a history of its own.

Columns read: tpep_pickup_datetime, tpep_dropoff_datetime, PULocationID, DOLocationID,
trip_distance, passenger_count. The file's trips keep their spacing, density and order, and
are shifted in time so that the last pickup is `end` (an hour before now, so the last trips'
labels arrive by now, see contracts.LABEL_MATURITY_S): a replay lands as the stack's history
(features in their own time, labels in the offline store for training), before every trip
already sent (see clock.py). Rows that cannot be a valid event (zone outside the city's zones, contracts.ZONE_IDS: 1..263; distance
or duration out of range) are skipped and counted by reason; a missing passenger_count
(common in TLC data) is read as 1 and counted as imputed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..contracts import FIRST_ZONE, LAST_ZONE, ZONE_RANGE
from .simulator import MAX_DURATION_S, TripBatch
from .sink import ProducerError

TLC_COLUMNS = ["tpep_pickup_datetime", "tpep_dropoff_datetime", "PULocationID", "DOLocationID",
               "trip_distance", "passenger_count"]


@dataclass
class Replay:
    """A file's trips as batches in pickup-time order; the counters fill while they are consumed."""

    batches: Iterator[TripBatch]
    start: float                 # the first pickup, after the shift (epoch s)
    skipped: Counter             # rows that cannot be an event, by reason
    imputed: Counter             # values filled in, by column


def read_tlc_trips(path: Path, limit: int | None = None, end: float | None = None, chunk: int = 50_000) -> Replay:
    """The file's trips, shifted so the last pickup is at `end` (None: at their own times)."""
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
    pickups = _epoch_seconds(table["tpep_pickup_datetime"]) if table.num_rows else np.zeros(1)
    shift = 0.0 if end is None else end - float(np.nanmax(pickups))
    replay = Replay(iter(()), float(np.nanmin(pickups)) + shift, Counter(), Counter())
    replay.batches = _batches(table, chunk, replay, path.stem, shift)
    return replay


def _epoch_seconds(column: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False) / 1e6


def _batches(table: pa.Table, chunk: int, replay: Replay, name: str, shift: float) -> Iterator[TripBatch]:
    skipped = replay.skipped
    for offset in range(0, table.num_rows, chunk):
        part = table.slice(offset, chunk)
        pickup = _epoch_seconds(part["tpep_pickup_datetime"]) + shift
        dropoff = _epoch_seconds(part["tpep_dropoff_datetime"]) + shift
        pu = part["PULocationID"].to_numpy(zero_copy_only=False).astype(float)
        do = part["DOLocationID"].to_numpy(zero_copy_only=False).astype(float)
        distance = part["trip_distance"].to_numpy(zero_copy_only=False).astype(float)
        passengers = part["passenger_count"]
        pax = pc.fill_null(passengers, 1).to_numpy(zero_copy_only=False).astype(float)
        unset = np.asarray(pc.is_null(passengers).to_numpy(zero_copy_only=False)) | (pax < 1)
        duration = dropoff - pickup
        checks = {
            f"PULocationID outside {ZONE_RANGE}": ~((pu >= FIRST_ZONE) & (pu <= LAST_ZONE)),
            f"DOLocationID outside {ZONE_RANGE}": ~((do >= FIRST_ZONE) & (do <= LAST_ZONE)),
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
        replay.imputed["passenger_count (null or 0 → 1)"] += int((unset & keep).sum())
        pax = np.where(unset, 1, pax)
        idx = np.flatnonzero(keep)
        yield TripBatch(
            trip_id=[f"tlc-{name}-{offset + i}" for i in idx],
            request_time=pickup[keep], pickup_zone=pu[keep].astype(int), dropoff_zone=do[keep].astype(int),
            trip_distance=np.round(distance[keep], 2), passenger_count=pax[keep].astype(int),
            duration_s=duration[keep], backfill=True,
        )
