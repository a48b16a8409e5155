"""The training set: completed-trip labels with the zone features *as they were* at request time.

Feast's `get_historical_features` (its DuckDB offline store) does the point-in-time join:
for each trip (zone_id, event_timestamp = request time) it takes the latest zone_stats row
at or before that time and within the view's TTL — never a row from the trip's future. The later part of
the trips is held out for evaluation (a time split, like production: train on the
past, judge on what came after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Settings
from ..contracts import FEATURE_SERVICE, LABEL_MATURITY_S, LONGEST_ZONE_WINDOW_S, MODEL_FEATURES, TARGET, ZONE_FEATURES
from ..errors import GamedayError


class TrainerError(GamedayError):
    kind = "TrainerError"


MIN_LABELS = 200  # completed trips needed to train at all
# Requests this far apart start a new stretch of traffic (a stack started again after a pause):
# at the live density no two requests are minutes apart inside one.
STRETCH_GAP_S = 600.0
NO_HISTORY_HINT = ("create history first: with the stack up (`gameday up`), run "
                   "`gameday train --history 90m` (fast-forwards the producer and ingests it)")


@dataclass
class TrainingData:
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp
    # Training medians of every model feature: the fallback for missing or stale features.
    fallback: dict[str, float]
    # Share of rows per zone feature with no zone_stats row in the TTL before the trip.
    missing_share: dict[str, float]
    # Trained on the trips of this last stretch only (`gameday train --since`); None: the whole history.
    since_s: float | None = None

    def window(self) -> dict[str, str | int | float]:
        window = {"train_start": str(self.train.event_timestamp.min()), "train_end": str(self.train.event_timestamp.max()),
                  "test_start": str(self.test.event_timestamp.min()), "test_end": str(self.test.event_timestamp.max()),
                  "train_rows": int(len(self.train)), "test_rows": int(len(self.test))}
        # Only when set: BentoML's metadata takes no None.
        return window if self.since_s is None else {**window, "since_s": self.since_s}


def point_in_time_frame(settings: Settings, store: object, labels: pd.DataFrame) -> pd.DataFrame:
    """Labels joined with the triptime_v1 zone features as of each trip's request time (NaN: none in the TTL)."""
    from ..features.point_in_time import point_in_time_join

    frame = point_in_time_join(settings, labels, store.get_feature_service(FEATURE_SERVICE))
    return frame.sort_values(["event_timestamp", "trip_id"], kind="stable").reset_index(drop=True)


def usable_labels(labels: pd.DataFrame, warmup_s: float = LONGEST_ZONE_WINDOW_S, gap_s: float = STRETCH_GAP_S,
                  maturity_s: float = LABEL_MATURITY_S) -> pd.DataFrame:
    """The trips a model can learn from, per stretch of traffic (a history; a stack started after a pause):
    - not in its first `warmup_s`: the zone windows were still filling, features no live minute shows;
    - not so late that a trip of `maturity_s` requested with it would still be under way when the
      stretch's last label arrived: those minutes hold the short trips' labels only, and would teach
      the model — and the monitor's reference — that trips are short. A label arrives duration /
      time_scale after its request (history: 1; drills: faster), read off each trip's own delay."""
    if labels.empty:
        return labels
    epoch = pd.Timestamp(0, tz="UTC")
    requested = (pd.to_datetime(labels["event_timestamp"], utc=True) - epoch).dt.total_seconds()
    arrived = (pd.to_datetime(labels["completed_at"], utc=True) - epoch).dt.total_seconds()
    ordered = requested.sort_values()
    gap = ordered.diff()
    stretch = (gap.isna() | (gap > gap_s)).cumsum().reindex(labels.index)
    started = requested.groupby(stretch).transform("min")
    last_label = arrived.groupby(stretch).transform("max")
    wall_per_trip_s = (arrived - requested).clip(lower=0) / labels["duration_s"].astype(float)
    keep = (requested - started >= warmup_s) & (requested + maturity_s * wall_per_trip_s <= last_label)
    return labels[keep].reset_index(drop=True)


def recent_labels(labels: pd.DataFrame, since_s: float, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """The trips requested in the last since_s seconds (enough of them to train on, or an error saying so)."""
    start = (now or pd.Timestamp.now(tz="UTC")) - pd.Timedelta(seconds=since_s)
    recent = labels[pd.to_datetime(labels["event_timestamp"], utc=True) >= start]
    if len(recent) < MIN_LABELS:
        raise TrainerError(f"only {len(recent)} completed trips were requested since {start:%Y-%m-%d %H:%M:%S} UTC "
                           f"(--since); at least {MIN_LABELS} are needed",
                           hint="widen --since, or leave it out to train on the whole history")
    return recent.reset_index(drop=True)


def build_training_data(settings: Settings, store: object, labels: pd.DataFrame) -> TrainingData:
    """Point-in-time join, then a time split; missing zone features filled with training medians."""
    if len(labels) < MIN_LABELS:
        raise TrainerError(f"only {len(labels)} usable completed trips in the labels history (the first "
                           f"{LONGEST_ZONE_WINDOW_S // 60} min only warm the features up, the last hour waits "
                           f"for its long trips' labels); at least {MIN_LABELS} are needed", hint=NO_HISTORY_HINT)
    frame = point_in_time_frame(settings, store, labels)
    for name in MODEL_FEATURES + (TARGET,):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    # The later holdout_share of the trips, cut at a request time: a time split by rows, not by span —
    # a run folder holds a history and then hours of drills with gaps between them, and a cut by
    # span would judge the model on whatever happened last.
    cutoff = frame.event_timestamp.iloc[int(len(frame) * (1 - settings.trainer.holdout_share))]
    train, test = frame[frame.event_timestamp < cutoff], frame[frame.event_timestamp >= cutoff]
    if len(train) < 100 or len(test) < 50:
        raise TrainerError(f"time split left {len(train)} training and {len(test)} test rows",
                           hint="create more history: on a fresh run folder, `gameday train --history 3h`")
    missing_share = {name: round(float(train[name].isna().mean()), 4) for name in ZONE_FEATURES}
    fallback = {name: float(np.nanmedian(train[name])) if train[name].notna().any() else 0.0
                for name in MODEL_FEATURES}
    train, test = train.fillna(fallback), test.fillna(fallback)
    return TrainingData(train=train.reset_index(drop=True), test=test.reset_index(drop=True), cutoff=cutoff,
                        fallback=fallback, missing_share=missing_share)
