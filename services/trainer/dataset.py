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
from ..contracts import MODEL_FEATURES, TARGET, ZONE_FEATURES
from ..errors import GamedayError
from .model_store import FEATURE_SERVICE


class TrainerError(GamedayError):
    kind = "TrainerError"


MIN_LABELS = 200  # completed trips needed to train at all
NO_HISTORY_HINT = ("create history first: with the stack up (`gameday up`), run "
                   "`gameday train --history-days 3` (fast-forwards the producer and ingests it)")


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
        raise TrainerError(f"only {len(labels)} completed trips in the labels history; at least {MIN_LABELS} are needed",
                           hint=NO_HISTORY_HINT)
    frame = point_in_time_frame(settings, store, labels)
    for name in MODEL_FEATURES + (TARGET,):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    # The later holdout_share of the trips, cut at a request time: a time split by rows, not by span —
    # a run folder holds days of seeded history and hours of live drills 60x denser, and a cut by span
    # would train on the history alone and judge the model on the live hours.
    cutoff = frame.event_timestamp.iloc[int(len(frame) * (1 - settings.trainer.holdout_share))]
    train, test = frame[frame.event_timestamp < cutoff], frame[frame.event_timestamp >= cutoff]
    if len(train) < 100 or len(test) < 50:
        raise TrainerError(f"time split left {len(train)} training and {len(test)} test rows",
                           hint="create more history (`gameday train --history-days N` with a larger N)")
    missing_share = {name: round(float(train[name].isna().mean()), 4) for name in ZONE_FEATURES}
    fallback = {name: float(np.nanmedian(train[name])) if train[name].notna().any() else 0.0
                for name in MODEL_FEATURES}
    train, test = train.fillna(fallback), test.fillna(fallback)
    return TrainingData(train=train.reset_index(drop=True), test=test.reset_index(drop=True), cutoff=cutoff,
                        fallback=fallback, missing_share=missing_share)
