"""Quality per slice of the traffic: the pickup's borough, and the airports on their own.

An aggregate MAE averages a slice's failure away: airport trips are ~2% of the city's, so their
error can triple while the overall MAE moves by a few percent (ML Test Score: "the model's quality
is monitored per slice"). Each slice is held to its own reference MAE (the reference sample's
rows of that slice). A slice's trips are few per window, so its MAE is read over the labelled
trips of the last few judged windows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..city import AIRPORTS, CITY
from ..contracts import PREDICTION, TARGET

AIRPORT = "airport"
# A slice's reference MAE needs this many reference rows (the airports have ~80 of 5,000).
MIN_REFERENCE_ROWS = 30


def slice_names(zone_ids: np.ndarray | pd.Series) -> np.ndarray:
    """The slice of each pickup zone: "airport" (EWR, JFK, LGA) or its borough."""
    zones = np.asarray(zone_ids, dtype=int)
    names = CITY.borough[CITY.index_of(zones)].astype(object)
    names[np.isin(zones, list(AIRPORTS))] = AIRPORT
    return names


def abs_errors(frame: pd.DataFrame) -> pd.DataFrame:
    """(slice, |prediction - actual|) of the labelled rows that name their zone."""
    labelled = frame.dropna(subset=[PREDICTION, TARGET, "zone_id"])
    return pd.DataFrame({"slice": slice_names(labelled["zone_id"]),
                         "error": (labelled[PREDICTION] - labelled[TARGET]).abs().to_numpy()})


def reference_slices(frame: pd.DataFrame) -> dict[str, float]:
    """Each slice's MAE in the reference sample (slices with too few rows are left out); {} when
    the sample does not name its zones."""
    if "zone_id" not in frame.columns:
        return {}
    grouped = abs_errors(frame).groupby("slice")["error"].agg(["count", "mean"])
    return {str(name): float(row["mean"]) for name, row in grouped.iterrows() if row["count"] >= MIN_REFERENCE_ROWS}


@dataclass
class SliceQuality:
    slice: str
    n: int
    mae: float
    ref_mae: float

    @property
    def increase(self) -> float:
        """(MAE - reference MAE) / reference MAE of the slice."""
        return (self.mae - self.ref_mae) / self.ref_mae if self.ref_mae > 0 else 0.0


class SliceBook:
    """The labelled errors of each slice over the last `windows` judged windows."""

    def __init__(self, windows: int) -> None:
        self._recent: deque[dict[str, tuple[int, float]]] = deque(maxlen=windows)

    def add(self, frame: pd.DataFrame, reference: dict[str, float], min_rows: int) -> list[SliceQuality]:
        """Record a judged window's errors; each slice with a reference and at least `min_rows`
        labelled trips over the recent windows, with its MAE there."""
        grouped = abs_errors(frame).groupby("slice")["error"].agg(["count", "sum"])
        self._recent.append({str(name): (int(row["count"]), float(row["sum"])) for name, row in grouped.iterrows()})
        totals: dict[str, list[float]] = {}
        for window in self._recent:
            for name, (count, total) in window.items():
                seen = totals.setdefault(name, [0, 0.0])
                seen[0] += count
                seen[1] += total
        return [SliceQuality(name, int(count), total / count, reference[name])
                for name, (count, total) in sorted(totals.items())
                if name in reference and count >= min_rows]

    def clear(self) -> None:
        self._recent.clear()
