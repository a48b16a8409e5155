"""Baselines of the join benchmark: Feast's file offline store (dask), in one call and in slices of time.

The sliced join is the one this project ran before it moved to Feast's DuckDB store
(services/features/point_in_time.py up to commit 560bff3): the entity rows are cut into
slices of time small enough that the file store's merge (entity rows × history rows of
their zones) stays under a row budget, and each slice is joined against only the history
rows of its window, [first entity time − TTL, last entity time].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from feast import FeatureStore
from feast.repo_config import RepoConfig

from mlgameday.config import Settings
from mlgameday.contracts import ZONE_FEATURES
from mlgameday.features.definitions import ENTITY_KEY, OFFLINE_FOLDER, load_definitions
from mlgameday.features.offline import ZONE_STATS_SCHEMA
from mlgameday.features.store import offline_dir

# Rows Feast's merge may build for one slice: ~1 GB of pandas at its peak.
MERGE_ROWS_BUDGET = 2_000_000
ROW = "_pit_row"


def file_store(folder: Path, settings: Settings) -> FeatureStore:
    """A Feast store in `folder` on the file offline store, with feature_repo's definitions applied as
    written there (the history source at `folder`/data/zone_stats)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(project=settings.features.project, provider="local", registry=str(folder / "registry.db"),
                        online_store={"type": "sqlite", "path": str(folder / "online_store.db")},
                        offline_store={"type": "file"}, entity_key_serialization_version=3, repo_path=folder)
    store = FeatureStore(repo_path=str(folder), config=config)
    module = load_definitions(settings)
    store.apply([module.zone, module.zone_stats_source, module.zone_stats_push_source, module.zone_stats_fv,
                 module.triptime_v1])
    return store


def one_call(settings: Settings, entities: pd.DataFrame, scratch: Path) -> pd.DataFrame:
    """Feast's file store over the whole history in one get_historical_features."""
    (scratch / OFFLINE_FOLDER).parent.mkdir(parents=True, exist_ok=True)
    (scratch / OFFLINE_FOLDER).symlink_to(offline_dir(settings), target_is_directory=True)
    store = file_store(scratch, settings)
    found = store.get_historical_features(entity_df=entities, features=store.get_feature_service("triptime_v1")).to_df()
    # The file store drops an entity row whose zone has rows, but none within the TTL: NaN, as serving sees it.
    return entities.merge(found[["trip_id", *ZONE_FEATURES]], on="trip_id", how="left")


def read_history(settings: Settings, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The offline zone rows with start <= event_timestamp <= end, oldest first."""
    in_span = (ds.field("event_timestamp") >= start.to_pydatetime()) & (ds.field("event_timestamp") <= end.to_pydatetime())
    table = ds.dataset(str(offline_dir(settings)), schema=ZONE_STATS_SCHEMA, format="parquet").to_table(filter=in_span)
    return table.to_pandas().sort_values("event_timestamp", kind="stable").reset_index(drop=True)


def window_rows(row_times: np.ndarray, first_entity: np.datetime64, last_entity: np.datetime64,
                ttl: np.timedelta64) -> slice:
    """The (time-sorted) history rows a slice of entity rows can join: [first − TTL, last]."""
    return slice(np.searchsorted(row_times, first_entity - ttl, side="left"),
                 np.searchsorted(row_times, last_entity, side="right"))


def plan_slices(entity_times: np.ndarray, entity_zones: np.ndarray, row_times: np.ndarray, row_zones: np.ndarray,
                ttl: np.timedelta64, budget: int = MERGE_ROWS_BUDGET) -> list[tuple[int, int]]:
    """[start, end) ranges of the (time-sorted) entity rows whose merge with their window's rows fits the budget."""
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


def sliced(settings: Settings, entities: pd.DataFrame, scratch: Path) -> pd.DataFrame:
    """Feast's file store, one slice of time at a time, each against only its window of history rows."""
    frame = entities.copy()
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    frame[ROW] = np.arange(len(frame))
    ordered = frame.sort_values("event_timestamp", kind="stable").reset_index(drop=True)
    ttl = pd.Timedelta(load_definitions(settings).zone_stats_fv.ttl)
    history = read_history(settings, ordered["event_timestamp"].iloc[0] - ttl, ordered["event_timestamp"].iloc[-1])
    entity_times = ordered["event_timestamp"].to_numpy("datetime64[ns]")
    row_times = history["event_timestamp"].to_numpy("datetime64[ns]")
    ttl_ns = ttl.to_timedelta64()
    slices = plan_slices(entity_times, ordered[ENTITY_KEY].to_numpy("int64"), row_times,
                         history[ENTITY_KEY].to_numpy("int64"), ttl_ns)
    store = file_store(scratch, settings)
    service = store.get_feature_service("triptime_v1")
    window_file = scratch / OFFLINE_FOLDER / "part-000000000.parquet"
    window_file.parent.mkdir(parents=True, exist_ok=True)
    joined = []
    for start, end in slices:
        rows = history.iloc[window_rows(row_times, entity_times[start], entity_times[end - 1], ttl_ns)]
        pq.write_table(pa.Table.from_pandas(rows, schema=ZONE_STATS_SCHEMA, preserve_index=False), window_file)
        part = store.get_historical_features(entity_df=ordered.iloc[start:end], features=service).to_df()
        joined.append(part[[ROW, *ZONE_FEATURES]])
    found = pd.concat(joined).drop_duplicates(ROW).set_index(ROW).reindex(np.arange(len(frame)))
    result = frame.drop(columns=ROW)
    for name in ZONE_FEATURES:
        result[name] = found[name].to_numpy()
    return result

