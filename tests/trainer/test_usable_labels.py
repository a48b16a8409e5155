"""Which trips a model learns from (pure logic, no broker): the warm-up and the label maturity rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlgameday.contracts import LABEL_MATURITY_S, LONGEST_ZONE_WINDOW_S
from mlgameday.trainer.dataset import STRETCH_GAP_S, usable_labels

T0 = pd.Timestamp("2026-11-20 00:00", tz="UTC")


def stretch(start_s: float, minutes: float, per_s: float = 1.0, time_scale: float = 1.0,
            duration_s: float = 600.0) -> pd.DataFrame:
    """Trips requested every 1/per_s seconds for `minutes`, each label arriving duration / time_scale later."""
    requested = start_s + np.arange(0, minutes * 60, 1 / per_s)
    return pd.DataFrame({
        "trip_id": [f"t{start_s:.0f}-{i}" for i in range(len(requested))],
        "event_timestamp": T0 + pd.to_timedelta(requested, unit="s"),
        "completed_at": T0 + pd.to_timedelta(requested + duration_s / time_scale, unit="s"),
        "duration_s": duration_s,
    })


def seconds(frame: pd.DataFrame) -> np.ndarray:
    return (frame["event_timestamp"] - T0).dt.total_seconds().to_numpy()


def test_a_history_loses_its_warm_up_and_its_immature_last_hour() -> None:
    """150 min of requests, labels arriving 10 min later: the first 30 min (windows filling) and the
    trips whose hour-long sisters would still be driving at the last label go."""
    kept = seconds(usable_labels(stretch(0, 150)))
    last_label = 150 * 60 + 600 - 1
    assert kept.min() >= LONGEST_ZONE_WINDOW_S
    assert kept.max() <= last_label - LABEL_MATURITY_S
    assert abs(kept.max() - (last_label - LABEL_MATURITY_S)) < 2


def test_labels_that_came_faster_mature_faster() -> None:
    """A drill's labels arrive duration / 300 after the request: its trips are mature seconds later."""
    kept = seconds(usable_labels(stretch(0, 45, time_scale=300)))
    last_label = 45 * 60 + 2 - 1
    assert kept.max() > last_label - 15          # an hour of trip time is 12 s of wall time here


def test_each_stretch_of_traffic_warms_up_on_its_own() -> None:
    """A stack started again after a pause begins a new stretch: its first 30 minutes go too."""
    first = stretch(0, 100)
    second = stretch(100 * 60 + STRETCH_GAP_S + 60, 100)
    kept = seconds(usable_labels(pd.concat([first, second], ignore_index=True)))
    second_start = 100 * 60 + STRETCH_GAP_S + 60
    assert not ((kept >= second_start) & (kept < second_start + LONGEST_ZONE_WINDOW_S)).any()
    assert (kept < 100 * 60).any() and (kept >= second_start + LONGEST_ZONE_WINDOW_S).any()


def test_order_and_index_of_the_input_do_not_matter() -> None:
    frame = stretch(0, 150)
    shuffled = frame.sample(frac=1.0, random_state=3).set_index(np.arange(len(frame)) * 7)
    assert sorted(usable_labels(shuffled)["trip_id"]) == sorted(usable_labels(frame)["trip_id"])


def test_no_labels_no_trips() -> None:
    assert usable_labels(stretch(0, 0)).empty
