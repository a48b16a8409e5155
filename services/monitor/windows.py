"""Windows of predictions, and the late labels joined to them by trip id.

A window opens with its first prediction and closes at `window_rows` predictions or after
`window_s` seconds (or when the live model changes). `screen_after_s` after closing it is due for
its label-free checks (freshness, missing features, skew: see service.py). A closed window waits for its labels
(which arrive when the trips end) until `label_coverage` of them are in, or `label_wait_s`
passed, or more than `max_pending_windows` wait — then it is due to be judged. Nothing waits
forever: a prediction judged without its label is counted as unlabelled, a label whose
prediction never shows up is counted as unmatched after `orphan_label_ttl_s`.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import pandas as pd

from ..config import MonitorSettings
from ..contracts import MODEL_FEATURES, PREDICTION, TARGET, Prediction, TripCompleted
from .results import WindowResult


@dataclass
class Window:
    index: int
    model_tag: str
    opened_at: float
    rows: list[dict] = field(default_factory=list)
    by_trip: dict[str, int] = field(default_factory=dict)
    n_labeled: int = 0
    closed_at: float | None = None
    close_reason: str = ""
    first_event: datetime | None = None
    last_event: datetime | None = None
    # What its label-free checks found (service.MonitorService.screen_window), once they ran.
    screening: WindowResult | None = None

    def coverage(self) -> float:
        return self.n_labeled / len(self.rows) if self.rows else 0.0

    def frame(self) -> pd.DataFrame:
        """One row per prediction: MODEL_FEATURES, prediction_s, duration_s (NaN until labelled), freshness,
        and the zone features serving found missing (it gave the model their fallback)."""
        columns = [*MODEL_FEATURES, PREDICTION, TARGET, "feature_age_s", "stale", "missing", "zone_id",
                   "event_timestamp", "trip_id"]
        return pd.DataFrame(self.rows, columns=columns)


@dataclass
class JoinCounts:
    predictions: int = 0
    duplicates: int = 0
    labels_matched: int = 0
    labels_unmatched: int = 0
    predictions_unlabeled: int = 0
    predictions_dropped: int = 0  # in windows dropped unjudged by a reset (a drill's fresh start)


class WindowBook:
    """Holds the open window, the closed ones waiting for labels, and labels waiting for predictions."""

    def __init__(self, cfg: MonitorSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.clock = clock
        self.open: Window | None = None
        self.pending: list[Window] = []
        self.counts = JoinCounts()
        self._next_index = 1
        self._where: dict[str, Window] = {}  # trip id -> the window holding its prediction
        self._orphans: OrderedDict[str, tuple[float, float]] = OrderedDict()  # trip id -> (duration, arrived)

    # ---- input ---------------------------------------------------------------------------

    def add_prediction(self, prediction: Prediction) -> None:
        now = self.clock()
        if prediction.trip_id in self._where:
            self.counts.duplicates += 1
            return
        if self.open is not None and self.open.model_tag != prediction.model_tag:
            self._close(now, "model changed")
        if self.open is None:
            self.open = Window(self._next_index, prediction.model_tag, now)
            self._next_index += 1
        window = self.open
        row = {name: _number(prediction.features.get(name)) for name in MODEL_FEATURES}
        age = prediction.feature_age_s
        row.update(prediction_s=prediction.prediction_s, duration_s=math.nan,
                   feature_age_s=math.nan if age is None else age,
                   stale=bool(prediction.stale or age is None), missing=tuple(prediction.missing),
                   zone_id=prediction.pickup_zone,
                   event_timestamp=prediction.event_time, trip_id=prediction.trip_id)
        window.by_trip[prediction.trip_id] = len(window.rows)
        window.rows.append(row)
        window.first_event = window.first_event or prediction.event_time
        window.last_event = prediction.event_time
        self._where[prediction.trip_id] = window
        self.counts.predictions += 1
        orphan = self._orphans.pop(prediction.trip_id, None)
        if orphan is not None:
            self._attach(window, prediction.trip_id, orphan[0])
        if len(window.rows) >= self.cfg.window_rows:
            self._close(now, "rows")

    def add_label(self, label: TripCompleted) -> None:
        window = self._where.get(label.trip_id)
        if window is not None:
            self._attach(window, label.trip_id, label.duration_s)
            return
        self._orphans[label.trip_id] = (label.duration_s, self.clock())
        self._orphans.move_to_end(label.trip_id)
        while len(self._orphans) > self.cfg.max_orphan_labels:
            self._orphans.popitem(last=False)
            self.counts.labels_unmatched += 1

    def _attach(self, window: Window, trip_id: str, duration_s: float) -> None:
        row = window.rows[window.by_trip[trip_id]]
        if math.isnan(row[TARGET]):
            window.n_labeled += 1
            self.counts.labels_matched += 1
        row[TARGET] = duration_s

    # ---- output --------------------------------------------------------------------------

    def to_screen(self) -> list[Window]:
        """Closed windows due for their label-free checks, oldest first (closing the open one if its time is
        up): closed `screen_after_s` ago and not screened yet."""
        now = self.clock()
        self._close_if_time_is_up(now)
        return [w for w in self.pending
                if w.screening is None and now - (w.closed_at or now) >= self.cfg.screen_after_s]

    def due(self) -> list[Window]:
        """Windows ready to be judged, oldest first (closing the open one if its time is up)."""
        now = self.clock()
        self._expire_orphans(now)
        self._close_if_time_is_up(now)
        ready = []
        while self.pending:
            head = self.pending[0]
            waited = now - (head.closed_at or now)
            if (head.coverage() >= self.cfg.label_coverage or waited >= self.cfg.label_wait_s
                    or self._labels_stopped(head, waited) or len(self.pending) > self.cfg.max_pending_windows):
                ready.append(self._release(self.pending.pop(0)))
            else:
                break
        return ready

    def _labels_stopped(self, window: Window, waited: float) -> bool:
        due = self.cfg.labels_due_s
        return due is not None and waited >= due and self.cfg.labels_missing(window.coverage())

    def flush(self) -> list[Window]:
        """Close and hand over everything (on stop): judged with the labels that came."""
        if self.open is not None:
            self._close(self.clock(), "stop")
        ready = [self._release(w) for w in self.pending]
        self.pending.clear()
        return ready

    def drop_all(self) -> int:
        """Drop the open window and those waiting for labels, unjudged (a reset); their predictions are
        counted as dropped, and labels still coming for them end as unmatched. Returns how many."""
        windows = self.pending + ([self.open] if self.open is not None else [])
        dropped = sum(len(w.rows) for w in windows)
        for window in windows:
            for trip_id in window.by_trip:
                self._where.pop(trip_id, None)
        self.pending, self.open = [], None
        self.counts.predictions_dropped += dropped
        return dropped

    def pending_predictions(self) -> int:
        return sum(len(w.rows) for w in self.pending) + (len(self.open.rows) if self.open else 0)

    def _close_if_time_is_up(self, now: float) -> None:
        if self.open is not None and self.cfg.window_s is not None and now - self.open.opened_at >= self.cfg.window_s:
            self._close(now, "time")

    def _close(self, now: float, reason: str) -> None:
        assert self.open is not None
        self.open.closed_at, self.open.close_reason = now, reason
        self.pending.append(self.open)
        self.open = None

    def _release(self, window: Window) -> Window:
        for trip_id in window.by_trip:
            self._where.pop(trip_id, None)
        self.counts.predictions_unlabeled += len(window.rows) - window.n_labeled
        return window

    def _expire_orphans(self, now: float) -> None:
        while self._orphans:
            trip_id, (_, arrived) = next(iter(self._orphans.items()))
            if now - arrived < self.cfg.orphan_label_ttl_s:
                break
            self._orphans.popitem(last=False)
            self.counts.labels_unmatched += 1


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)
