"""Point-in-time joins through Feast, in slices of time, so memory stays bounded however long the history.

Feast 0.67's file offline store joins by merging every entity row with every history row
of its zone, and only then filters by TTL and time (feast/infra/offline_stores/dask.py:
`_merge`, then `_filter_ttl`): memory grows with entity rows × history rows per zone.
A run folder after a day of drills (130k labels, 180k zone rows) took `gameday train`
past 22 GB.

A history row outside [first entity time − TTL, last entity time] can never be joined
to an entity row of that span (Feast takes the latest row at or before the entity's
time and within its TTL). So the entity rows are cut into slices of time, each small
enough that its merge stays under a row budget, and Feast joins each slice against only
the rows of its own window: the same Feast join, the same answers, bounded memory. The
window is written to a scratch folder laid out like the run's feature folder, and a
store opened there (sharing the run's registry) reads it as the feature view's source.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..config import Settings
from ..contracts import ZONE_FEATURES
from .definitions import ENTITY_KEY, OFFLINE_FOLDER, load_definitions
from .offline import ZONE_STATS_SCHEMA
from .store import feature_data_dir, offline_dir, open_store, repo_config

# Rows Feast's merge may build for one slice (entity rows × history rows of their zones):
# ~1 GB of pandas at its peak.
MERGE_ROWS_BUDGET = 2_000_000
ROW = "_pit_row"  # the entity row's position, to hand the rows back in the caller's order


def read_history(settings: Settings, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The offline zone rows with start <= event_timestamp <= end, oldest first."""
    in_span = (ds.field("event_timestamp") >= start.to_pydatetime()) & (ds.field("event_timestamp") <= end.to_pydatetime())
    # Part files being written are dot-prefixed temp names, which the dataset ignores.
    table = ds.dataset(str(offline_dir(settings)), schema=ZONE_STATS_SCHEMA, format="parquet").to_table(filter=in_span)
    return table.to_pandas().sort_values("event_timestamp", kind="stable").reset_index(drop=True)


def window_rows(row_times: np.ndarray, first_entity: np.datetime64, last_entity: np.datetime64,
                ttl: np.timedelta64) -> slice:
    """The (time-sorted) history rows a slice of entity rows can join: [first − TTL, last], as Feast
    keeps rows at or before the entity's time and within its TTL."""
    return slice(np.searchsorted(row_times, first_entity - ttl, side="left"),
                 np.searchsorted(row_times, last_entity, side="right"))


def plan_slices(entity_times: np.ndarray, entity_zones: np.ndarray, row_times: np.ndarray, row_zones: np.ndarray,
                ttl: np.timedelta64, budget: int = MERGE_ROWS_BUDGET) -> list[tuple[int, int]]:
    """[start, end) ranges of the (time-sorted) entity rows whose merge with their window's rows fits the budget.

    A slice holds at least one entity row, whatever its cost.
    """
    zones = int(max(entity_zones.max(initial=0), row_zones.max(initial=0))) + 1

    def merged_rows(start: int, end: int) -> int:
        per_zone_entities = np.bincount(entity_zones[start:end], minlength=zones)
        window = window_rows(row_times, entity_times[start], entity_times[end - 1], ttl)
        per_zone_rows = np.bincount(row_zones[window], minlength=zones)
        return int(per_zone_entities @ per_zone_rows)

    slices, start, n = [], 0, len(entity_times)
    while start < n:
        fits, too_big = start + 1, n + 1  # the largest end that fits lies in [fits, too_big)
        while too_big - fits > 1:
            middle = (fits + too_big) // 2
            if merged_rows(start, middle) <= budget:
                fits = middle
            else:
                too_big = middle
        slices.append((start, fits))
        start = fits
    return slices


def point_in_time_join(settings: Settings, entities: pd.DataFrame, features: object, known_then: bool = False,
                       budget: int = MERGE_ROWS_BUDGET, report: Callable[[str], None] = lambda _: None) -> pd.DataFrame:
    """The entity rows (zone_id, event_timestamp, ...) with the zone features as of each row's time.

    One row per entity row, in the caller's order and index; NaN features where the zone
    had no row within the TTL before that time. `features` is a feature service or a list
    of "view:feature" references, as Feast's get_historical_features takes them.
    `known_then`: only rows ingest had written by that time (their `created` stamp), i.e.
    what serving could have read — not rows for earlier events that ingest wrote later.
    """
    frame = entities.copy()
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    frame[ROW] = np.arange(len(frame))
    ordered = frame.sort_values("event_timestamp", kind="stable").reset_index(drop=True)
    if ordered.empty:
        return entities.assign(**{name: np.nan for name in ZONE_FEATURES})

    ttl = pd.Timedelta(load_definitions(settings).zone_stats_fv.ttl)
    history = read_history(settings, ordered["event_timestamp"].iloc[0] - ttl, ordered["event_timestamp"].iloc[-1])
    entity_times = ordered["event_timestamp"].to_numpy("datetime64[ns]")
    row_times = history["event_timestamp"].to_numpy("datetime64[ns]")
    ttl_ns = ttl.to_timedelta64()
    slices = plan_slices(entity_times, ordered[ENTITY_KEY].to_numpy("int64"), row_times,
                         history[ENTITY_KEY].to_numpy("int64"), ttl_ns, budget)
    open_store(settings)  # the registry exists and holds the definitions
    joined = []
    with tempfile.TemporaryDirectory(prefix="point-in-time-", dir=feature_data_dir(settings)) as scratch:
        from feast import FeatureStore

        store = FeatureStore(config=repo_config(settings, repo_path=Path(scratch)))
        window_file = Path(scratch) / OFFLINE_FOLDER / "part-000000000.parquet"
        window_file.parent.mkdir(parents=True)
        for number, (start, end) in enumerate(slices, 1):
            if len(slices) > 1:
                report(f"point-in-time join: slice {number}/{len(slices)} ({end - start} rows)")
            rows = history.iloc[window_rows(row_times, entity_times[start], entity_times[end - 1], ttl_ns)]
            window = pa.Table.from_pandas(rows, schema=ZONE_STATS_SCHEMA, preserve_index=False)
            pq.write_table(window, window_file)
            part = store.get_historical_features(entity_df=ordered.iloc[start:end], features=features,
                                                 filter_by_created_timestamp=known_then).to_df()
            joined.append(part[[ROW, *ZONE_FEATURES]])
    # Feast's file store drops an entity row whose zone has rows, but none within the TTL
    # before it (its TTL filter runs after a left merge): such a row gets NaN, as serving sees it.
    found = pd.concat(joined).drop_duplicates(ROW).set_index(ROW).reindex(np.arange(len(frame)))
    result = frame.drop(columns=ROW)
    for name in ZONE_FEATURES:
        result[name] = found[name].to_numpy()
    return result

