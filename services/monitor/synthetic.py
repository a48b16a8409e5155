"""Seeded prediction and label streams for tests and benchmarks (no stack needed).

A small stand-in for the producer + serving pair: trips with NYC-like request features,
zone features, a true duration, and a model's prediction of it. Knobs mirror the faults of
the drill's faults: a shift of a request feature, a biased model, stale features, late labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ..contracts import FIRST_ZONE, LAST_ZONE, MODEL_FEATURES, Prediction, TripCompleted, new_event_id

PASSENGER_P = np.array([0.70, 0.15, 0.06, 0.04, 0.03, 0.02])


@dataclass
class Shift:
    """Change a column of the request: value * multiply + add, for `share` of the trips."""

    column: str
    multiply: float = 1.0
    add: float = 0.0
    share: float = 1.0


@dataclass
class Traffic:
    """One seeded generator; every call continues the same random stream."""

    seed: int = 0
    model_tag: str = "triptime:synthetic"
    start: datetime = field(default_factory=lambda: datetime(2025, 1, 6, 8, tzinfo=timezone.utc))
    _rng: np.random.Generator = field(init=False)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def frame(self, n: int, shifts: tuple[Shift, ...] = (), bias_s: float = 0.0,
              feature_age_s: float = 30.0, stale_after_s: float = 3600.0) -> pd.DataFrame:
        """n trips: MODEL_FEATURES, zone_id, event_timestamp, trip_id, duration_s, prediction_s, feature_age_s,
        stale, missing."""
        rng = self._rng
        df = pd.DataFrame({
            "trip_distance": np.clip(rng.lognormal(0.8, 0.6, n), 0.1, 60.0),
            "passenger_count": rng.choice(np.arange(1, 7), size=n, p=PASSENGER_P).astype(float),
            "requests_15m": rng.poisson(25, n).astype(float),
            "completed_30m": rng.poisson(40, n).astype(float),
            "mean_speed_30m": np.clip(rng.normal(12.0, 2.5, n), 3.0, 40.0),
        })
        for shift in shifts:
            hit = rng.random(n) < shift.share
            df.loc[hit, shift.column] = df.loc[hit, shift.column] * shift.multiply + shift.add
        df["trip_distance"] = df["trip_distance"].clip(0.1, 200.0)
        df["passenger_count"] = df["passenger_count"].round().clip(1, 9)
        df["zone_id"] = rng.integers(FIRST_ZONE, LAST_ZONE + 1, n)  # the zone set of the contracts
        ids = np.arange(self._count, self._count + n)
        self._count += n
        df["trip_id"] = [f"s{self.seed}-{i}" for i in ids]
        df["event_timestamp"] = [self.start + timedelta(seconds=float(i)) for i in ids]
        travel = df["trip_distance"] / df["mean_speed_30m"] * 3600 + 120
        df["duration_s"] = np.clip(travel + rng.normal(0, 90, n), 30, 6 * 3600)
        df["prediction_s"] = np.clip(travel + rng.normal(0, 60, n) + bias_s, 1, None)
        df["feature_age_s"] = np.clip(rng.normal(feature_age_s, feature_age_s * 0.1 + 1, n), 0, None)
        df["stale"] = df["feature_age_s"] > stale_after_s
        df["missing"] = [()] * n  # the zone features serving found missing: none (windows.py's column)
        return df

    def reference(self, n: int = 3000) -> pd.DataFrame:
        """A reference sample shaped like the trainer's reference.parquet."""
        df = self.frame(n)
        return df[list(MODEL_FEATURES) + ["zone_id", "event_timestamp", "prediction_s", "duration_s"]]

    def events(self, n: int, stale_after_s: float = 3600.0, **frame_kwargs) -> list[tuple[Prediction, TripCompleted]]:
        """n (prediction, label) pairs as the contracts' events."""
        df = self.frame(n, stale_after_s=stale_after_s, **frame_kwargs)
        return list(events_of(df, self.model_tag))


def events_of(df: pd.DataFrame, model_tag: str):
    """Turn a frame of Traffic.frame rows into (Prediction, TripCompleted) events."""
    for row in df.itertuples(index=False):
        when = row.event_timestamp
        features = {name: float(getattr(row, name)) for name in MODEL_FEATURES}
        prediction = Prediction(
            event_id=new_event_id(), event_time=when, trip_id=row.trip_id, pickup_zone=int(row.zone_id), model_tag=model_tag,
            features=features, prediction_s=float(row.prediction_s), latency_ms=5.0,
            feature_age_s=float(row.feature_age_s), stale=bool(row.stale),
        )
        label = TripCompleted(
            event_id=new_event_id(), event_time=when + timedelta(seconds=float(row.duration_s)), trip_id=row.trip_id,
            pickup_zone=int(row.zone_id), dropoff_zone=1, pickup_time=when,
            trip_distance=float(row.trip_distance), passenger_count=int(row.passenger_count),
            duration_s=float(row.duration_s),
        )
        yield prediction, label
