"""Point-in-time joins on Feast's DuckDB offline store, against a real Feast repo in a run folder:
the features it answers are those of the join's definition, computed row by row."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feast import FeatureStore
from feast.repo_config import RepoConfig

from mlgameday.config import load_settings
from mlgameday.features.definitions import load_definitions
from mlgameday.features.duckdb_engine import duckdb_settings
from mlgameday.features.offline import ZONE_STATS_SCHEMA, write_part
from mlgameday.features.point_in_time import SPILL_FOLDER, point_in_time_join
from mlgameday.features.store import feature_data_dir, offline_dir, open_store, store_yaml

FEATURES = ["requests_15m", "completed_30m", "mean_speed_30m"]
START = pd.Timestamp("2026-03-02 06:00", tz="UTC")
TTL = pd.Timedelta(hours=1)  # zone_stats_fv's


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(run_dir=tmp_path / "run", features={"offline_memory_mb": 256})


def write_history(settings, seed: int = 5) -> pd.DataFrame:
    """Zone rows over 4 h as ingest writes them: zones 1-6 busy, zone 7 quiet for 2 h (beyond the 1 h TTL),
    zone 8 never; ingest writes each row 5-40 s after its event time."""
    rng = np.random.default_rng(seed)
    frames = []
    for zone in range(1, 8):
        minutes = np.sort(rng.choice(np.arange(240), 60 if zone < 7 else 12, replace=False))
        if zone == 7:
            minutes = np.concatenate([minutes[:6] % 60, 180 + minutes[6:] % 60])
        times = START + pd.to_timedelta(minutes * 60 + rng.integers(0, 60, len(minutes)), unit="s")
        frames.append(pd.DataFrame({"zone_id": zone, "requests_15m": rng.poisson(30, len(times)),
                                    "completed_30m": rng.poisson(50, len(times)),
                                    "mean_speed_30m": rng.normal(12, 3, len(times)), "event_timestamp": times,
                                    "created": times + pd.to_timedelta(rng.integers(5, 40, len(times)), unit="s")}))
    history = pd.concat(frames).sort_values("event_timestamp", kind="stable").reset_index(drop=True)
    open_store(settings)
    for seq, part in enumerate(np.array_split(np.arange(len(history)), 9), start=1):
        write_part(offline_dir(settings), seq, history.iloc[part], ZONE_STATS_SCHEMA)
    return history


def entity_grid(seed: int = 9) -> pd.DataFrame:
    """Every zone (and one unknown) every 7 min from before the history to past its end, shuffled, with
    a duplicate row and an index of its own."""
    times = pd.date_range(START - pd.Timedelta(minutes=30), START + pd.Timedelta(hours=5), freq="7min")
    grid = pd.DataFrame([(zone, at) for at in times for zone in range(1, 10)], columns=["zone_id", "event_timestamp"])
    grid = pd.concat([grid, grid.iloc[[100]]]).sample(frac=1, random_state=seed, ignore_index=True)
    grid["trip_id"] = [f"t{i}" for i in range(len(grid))]
    grid.index = grid.index * 3 + 11
    return grid


def reference_join(history: pd.DataFrame, entities: pd.DataFrame, known_then: bool = False) -> pd.DataFrame:
    """The join by its definition, row by row: the zone's latest row at or before the time and within the
    TTL (ties: the latest written); known then, only rows written by that time."""
    values = []
    for zone, at in zip(entities["zone_id"], entities["event_timestamp"]):
        rows = history[(history["zone_id"] == zone) & (history["event_timestamp"] <= at)
                       & (history["event_timestamp"] >= at - TTL)]
        if known_then:
            rows = rows[rows["created"] <= at]
        rows = rows.sort_values(["event_timestamp", "created"])
        values.append(rows.iloc[-1][FEATURES].astype(float).to_numpy() if len(rows) else [np.nan] * len(FEATURES))
    return pd.DataFrame(values, columns=FEATURES, index=entities.index)


def test_join_answers_the_definition_row_for_row_in_the_callers_order(settings) -> None:
    history = write_history(settings)
    grid = entity_grid()
    joined = point_in_time_join(settings, grid, open_store(settings).get_feature_service("triptime_v1"))

    assert list(joined.index) == list(grid.index) and list(joined["trip_id"]) == list(grid["trip_id"])
    pd.testing.assert_frame_equal(joined[FEATURES].astype(float), reference_join(history, grid))
    # The grid meets every case: values, nothing yet (before the history), a quiet zone past its TTL, no zone.
    assert joined[FEATURES].notna().all(axis=1).sum() > 200
    assert joined.loc[grid["event_timestamp"] < START, FEATURES].isna().all().all()
    quiet = (grid["zone_id"] == 7) & (grid["event_timestamp"] > START + pd.Timedelta(hours=2, minutes=5)) \
        & (grid["event_timestamp"] < START + pd.Timedelta(hours=3))
    assert quiet.sum() > 3 and joined.loc[quiet, FEATURES].isna().all().all()
    assert joined.loc[grid["zone_id"] >= 8, FEATURES].isna().all().all()



def test_known_then_leaves_out_rows_ingest_wrote_after_the_time(settings) -> None:
    history = write_history(settings)
    # Just after each row's event time, before ingest wrote it: known then, the previous row (or none).
    probes = history[history["zone_id"] <= 6].iloc[::7]
    entities = pd.DataFrame({"zone_id": probes["zone_id"].to_numpy(),
                             "event_timestamp": (probes["event_timestamp"] + pd.Timedelta(seconds=1)).to_numpy(),
                             "trip_id": [f"p{i}" for i in range(len(probes))]})
    entities["event_timestamp"] = pd.to_datetime(entities["event_timestamp"], utc=True)
    refs = [f"zone_stats:{name}" for name in FEATURES]
    latest = point_in_time_join(settings, entities, refs)
    known = point_in_time_join(settings, entities, refs, known_then=True)

    assert (latest["requests_15m"].to_numpy() == probes["requests_15m"].to_numpy()).all()
    changed = (known["requests_15m"] != latest["requests_15m"]) | known["requests_15m"].isna()
    assert changed.mean() > 0.9
    pd.testing.assert_frame_equal(known[FEATURES].astype(float), reference_join(history, entities, known_then=True))


def test_the_join_runs_in_bounded_memory_and_spills_into_the_run_folder(settings, tmp_path, monkeypatch) -> None:
    write_history(settings)
    monkeypatch.chdir(tmp_path)  # DuckDB's own default spills into the working directory
    point_in_time_join(settings, entity_grid(), [f"zone_stats:{name}" for name in FEATURES])
    engine = duckdb_settings()
    assert engine["memory_limit"] == "244.1 MiB"  # 256 MB
    assert Path(engine["temp_directory"]) == feature_data_dir(settings) / SPILL_FOLDER
    assert not (tmp_path / ".tmp").exists()


def test_no_entity_rows_give_no_rows_and_an_empty_history_gives_nan(settings) -> None:
    open_store(settings)
    empty = pd.DataFrame({"zone_id": pd.Series([], dtype="int64"),
                          "event_timestamp": pd.Series([], dtype="datetime64[ns, UTC]")})
    joined = point_in_time_join(settings, empty, [f"zone_stats:{name}" for name in FEATURES])
    assert joined.empty and set(FEATURES) <= set(joined.columns)
    # No history written yet (only the store's empty schema part): every feature is missing.
    one = pd.DataFrame({"zone_id": [4], "event_timestamp": [START]})
    assert point_in_time_join(settings, one, [f"zone_stats:{name}" for name in FEATURES])[FEATURES].isna().all().all()


def test_a_registry_from_before_the_duckdb_store_is_applied_again(settings) -> None:
    """A run folder of an older version registered the source under its relative path and without a
    format, which Feast's DuckDB store cannot read: opening the store applies the definitions again."""
    history = write_history(settings)
    module = load_definitions(settings)
    old = copy.deepcopy([module.zone, module.zone_stats_source, module.zone_stats_push_source,
                         module.zone_stats_fv, module.triptime_v1])
    old[1].file_options.file_format = None
    folder = feature_data_dir(settings)
    config = RepoConfig(**{**store_yaml(settings), "offline_store": {"type": "file"}}, repo_path=folder)
    FeatureStore(repo_path=str(folder), config=config).apply(old)
    registered = FeatureStore(repo_path=str(folder), config=config).get_feature_view("zone_stats").batch_source
    assert registered.path == "data/zone_stats" and registered.file_format is None

    source = open_store(settings).get_feature_view("zone_stats").batch_source
    assert source.path == str(offline_dir(settings)) and os.path.isabs(source.path)
    last = history.iloc[-1]
    joined = point_in_time_join(settings, pd.DataFrame({"zone_id": [last["zone_id"]], "event_timestamp": [last["event_timestamp"]]}),
                                [f"zone_stats:{name}" for name in FEATURES])
    assert joined.loc[0, "requests_15m"] == last["requests_15m"]
