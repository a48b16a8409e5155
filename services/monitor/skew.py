"""Training-serving skew: the zone features a prediction was served with, against the values
the offline store holds for the same zone and time (what training would have seen).

The units bug (ingest writing mean_speed_30m in km/h to the online store while the offline
history stays in mph) shows up here as a relative difference of about 0.61.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ..config import MonitorSettings, Settings
from ..contracts import ZONE_FEATURES
from .results import SkewColumn

# Entity rows (zone_id, event_timestamp UTC) -> the same rows, in order, with the offline ZONE_FEATURES.
OfflineLookup = Callable[[pd.DataFrame], pd.DataFrame]


def feast_offline_lookup(settings: Settings) -> OfflineLookup:
    """Point-in-time values from the stack's Feast offline store (the pipeline's store)."""
    refs = [f"zone_stats:{name}" for name in ZONE_FEATURES]

    def lookup(entities: pd.DataFrame) -> pd.DataFrame:
        from ..features.point_in_time import point_in_time_join

        # What serving could have read then: ingest lags event time by a batch or more, and that lag
        # is freshness (its own signal), not two code paths disagreeing.
        return point_in_time_join(settings, entities, refs, known_then=True)

    return lookup


def sample_for_skew(frame: pd.DataFrame, cfg: MonitorSettings, seed: int) -> pd.DataFrame:
    """Predictions served with fresh online features (stale or missing ones used the fallback, not the store)."""
    complete = frame["missing"].map(len) == 0
    usable = frame[~frame["stale"].astype(bool) & frame["feature_age_s"].notna() & complete]
    if len(usable) > cfg.skew_sample:
        usable = usable.sample(cfg.skew_sample, random_state=seed)
    return usable


def compare(served: pd.DataFrame, offline: pd.DataFrame, cfg: MonitorSettings) -> list[SkewColumn]:
    """Relative difference of each zone feature's mean, over the rows both sides have."""
    merged = served.reset_index(drop=True).join(offline.reset_index(drop=True)[list(ZONE_FEATURES)], rsuffix="_offline")
    columns = []
    for name in ZONE_FEATURES:
        both = merged[[name, f"{name}_offline"]].astype(float).dropna()
        if len(both) < 5:
            continue
        served_mean, offline_mean = float(both[name].mean()), float(both[f"{name}_offline"].mean())
        scale = max(abs(offline_mean), 1e-9)
        rel = abs(served_mean - offline_mean) / scale
        columns.append(SkewColumn(column=name, pairs=len(both), served_mean=served_mean, offline_mean=offline_mean,
                                  relative_difference=float(rel), skewed=bool(rel > cfg.skew_threshold)))
    return columns


def check_skew(frame: pd.DataFrame, lookup: OfflineLookup | None, cfg: MonitorSettings,
               seed: int) -> tuple[str, list[SkewColumn]]:
    """(status, per-column results). Lookup failures are reported, never fatal to the window."""
    if lookup is None or cfg.skew_sample == 0:
        return "off", []
    sample = sample_for_skew(frame, cfg, seed)
    if len(sample) < 5:
        return f"unavailable: {len(sample)} predictions with fresh features", []
    entities = pd.DataFrame({
        "zone_id": sample["zone_id"].astype("int64").to_numpy(),
        "event_timestamp": pd.to_datetime(sample["event_timestamp"], utc=True).to_numpy(),
    })
    entities["event_timestamp"] = pd.to_datetime(entities["event_timestamp"], utc=True)
    try:
        offline = lookup(entities)
    except Exception as exc:  # the offline store may be empty or not applied yet
        return f"unavailable: {type(exc).__name__}: {str(exc)[:200]}", []
    return "ok", compare(sample[list(ZONE_FEATURES)], offline, cfg)
