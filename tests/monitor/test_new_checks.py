"""Pure parts of the monitor's newer checks: slices, the missing-feature share, scaled thresholds, a reset's drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlgameday.city import CITY
from mlgameday.config import MonitorSettings
from mlgameday.contracts import PREDICTION, TARGET
from mlgameday.monitor.evaluate import missing_shares
from mlgameday.monitor.service import SCALED_THRESHOLDS, scaled_thresholds
from mlgameday.monitor.slices import AIRPORT, SliceBook, reference_slices, slice_names


M = int(CITY.zones_in(["Manhattan"])[0])  # a Manhattan zone


def _frame(zones: list[int], errors: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"zone_id": zones, PREDICTION: [600.0 + e for e in errors], TARGET: [600.0] * len(zones)})


def test_airports_are_their_own_slice_and_other_zones_their_borough() -> None:
    queens = int(CITY.zones_in(["Queens"])[-1])
    names = slice_names(np.array([1, 132, 138, M, queens]))
    assert list(names) == [AIRPORT] * 3 + ["Manhattan", "Queens"]


def test_reference_slices_leave_out_slices_with_too_few_rows() -> None:
    frame = _frame([M] * 40 + [132] * 5, [100.0] * 40 + [500.0] * 5)
    assert reference_slices(frame) == {"Manhattan": 100.0}
    assert reference_slices(frame.drop(columns="zone_id")) == {}


def test_a_slice_is_judged_over_the_last_windows_once_it_has_enough_rows() -> None:
    book = SliceBook(windows=2)
    reference = {AIRPORT: 100.0, "Manhattan": 100.0}
    first = book.add(_frame([132] * 5 + [M] * 20, [300.0] * 5 + [100.0] * 20), reference, min_rows=8)
    assert [(q.slice, q.n) for q in first] == [("Manhattan", 20)]  # 5 airport trips: too few yet
    second = book.add(_frame([132] * 5 + [M] * 20, [-300.0] * 5 + [-100.0] * 20), reference, min_rows=8)
    airport = next(q for q in second if q.slice == AIRPORT)
    assert (airport.n, airport.mae, airport.increase) == (10, 300.0, 2.0)  # |errors| over both windows
    third = book.add(_frame([M] * 20, [100.0] * 20), reference, min_rows=8)
    assert [q.slice for q in third] == ["Manhattan"]  # the first window fell out: 5 airport trips left
    book.clear()
    assert book.add(_frame([M] * 3, [0.0] * 3), reference, min_rows=8) == []


def test_a_slice_without_a_reference_is_not_judged() -> None:
    book = SliceBook(windows=3)
    assert book.add(_frame([132] * 20, [900.0] * 20), {"Manhattan": 100.0}, min_rows=5) == []


def test_missing_shares_count_each_zone_feature_the_fallback_replaced() -> None:
    frame = pd.DataFrame({"missing": [(), ("mean_speed_30m",), ("mean_speed_30m", "requests_15m"), ()]})
    shares = missing_shares(frame)
    assert shares["mean_speed_30m"] == 0.5 and shares["requests_15m"] == 0.25 and shares["completed_30m"] == 0.0
    assert missing_shares(frame.iloc[:0]) == {}


def test_scaled_thresholds_multiply_every_alert_threshold_and_nothing_else() -> None:
    cfg = MonitorSettings()
    assert scaled_thresholds(cfg, 1.0) is cfg
    low = scaled_thresholds(cfg, 0.5)
    for name in SCALED_THRESHOLDS:
        if getattr(cfg, name) is not None:
            assert getattr(low, name) == pytest.approx(getattr(cfg, name) * 0.5), name
    assert (low.alert_k, low.alert_n, low.min_rows) == (cfg.alert_k, cfg.alert_n, cfg.min_rows)


def test_a_reset_drops_the_windows_not_judged_and_counts_their_predictions() -> None:
    from mlgameday.monitor.synthetic import Traffic
    from mlgameday.monitor.windows import WindowBook

    book = WindowBook(MonitorSettings(window_rows=50, window_s=None))
    pairs = Traffic(seed=3).events(120)
    for prediction, _ in pairs:
        book.add_prediction(prediction)
    assert book.pending_predictions() == 120
    assert book.drop_all() == 120
    assert book.pending_predictions() == 0 and book.counts.predictions_dropped == 120
    book.add_label(pairs[0][1])  # a label of a dropped prediction waits as an orphan: judged nowhere
    assert book.counts.labels_matched == 0
    for prediction, _ in Traffic(seed=4).events(50):
        book.add_prediction(prediction)
    assert book.pending_predictions() == 50 and book.open is None and len(book.pending) == 1  # a new window


def test_a_closed_window_is_screened_once_after_screen_after_s_and_judged_when_its_labels_are_in() -> None:
    from mlgameday.monitor.results import WindowResult
    from mlgameday.monitor.synthetic import Traffic
    from mlgameday.monitor.windows import WindowBook

    now = [0.0]
    book = WindowBook(MonitorSettings(window_rows=1000, window_s=10.0, screen_after_s=3.0, label_wait_s=20.0),
                      clock=lambda: now[0])
    pairs = Traffic(seed=5).events(40)
    for prediction, _ in pairs:
        book.add_prediction(prediction)
    now[0] = 10.0  # the window's time is up: it closes, but is not screened before 3 s passed
    assert book.to_screen() == [] and len(book.pending) == 1
    now[0] = 13.0
    (window,) = book.to_screen()
    window.screening = WindowResult(index=window.index, model_tag=window.model_tag, status="ok")
    assert book.to_screen() == []  # screened once
    assert book.due() == []  # no label yet: not judged
    for _, label in pairs:
        book.add_label(label)
    assert book.due() == [window]


def test_judge_adds_drift_and_quality_to_a_screened_window_and_leaves_the_screening_alone() -> None:
    # The path bench/monitor takes (screen, then judge) on the synthetic traffic, through real Evidently.
    from mlgameday.monitor.evaluate import judge, screen
    from mlgameday.monitor.reference import validate_reference
    from mlgameday.monitor.results import WindowResult
    from mlgameday.monitor.synthetic import Shift, Traffic

    cfg = MonitorSettings(max_feature_age_s=30.0)
    reference = validate_reference(Traffic(seed=1).reference(3000), "test")
    frame = Traffic(seed=2).frame(400, shifts=(Shift("trip_distance", multiply=2.5),), feature_age_s=40.0,
                                  stale_after_s=30.0)
    result = WindowResult(index=1, model_tag="test", status="ok")
    screen(frame, cfg, result)
    screened = (result.n_rows, result.freshness, dict(result.missing))
    assert result.freshness.stale_share > 0.9 and set(result.missing.values()) == {0.0}
    assert judge(frame, reference, cfg, result) is not None
    assert (result.n_rows, result.freshness, result.missing) == screened
    assert [d.column for d in result.drift if d.drifted] == ["trip_distance"]
    assert result.quality is not None and result.status == "ok" and result.n_labeled == 400
    small = WindowResult(index=2, model_tag="test", status="ok")
    screen(frame.head(50), cfg, small)
    assert judge(frame.head(50), reference, cfg, small) is None and small.status == "too_few_rows"


def test_a_window_whose_labels_stopped_is_judged_at_labels_due_s_and_one_still_filling_waits() -> None:
    from mlgameday.monitor.synthetic import Traffic
    from mlgameday.monitor.windows import WindowBook

    now = [100.0]
    book = WindowBook(MonitorSettings(window_rows=40, window_s=None, label_wait_s=20.0, labels_due_s=10.0,
                                      labels_missing_below=0.5), clock=lambda: now[0])
    pairs = Traffic(seed=6).events(80)
    stopped, filling = pairs[:40], pairs[40:]
    for prediction, _ in stopped + filling:  # two windows of 40, both closed at 100 s
        book.add_prediction(prediction)
    for _, label in filling[:30]:  # the second has 75% of its labels: coming, if slowly
        book.add_label(label)
    for _, label in stopped[:10]:  # the first 25%: under half
        book.add_label(label)
    now[0] = 109.9
    assert book.due() == []
    now[0] = 110.0
    assert [w.coverage() for w in book.due()] == [0.25]  # judged without waiting the rest of the 20 s
    now[0] = 119.9
    assert book.due() == []
    now[0] = 120.0
    assert [w.coverage() for w in book.due()] == [0.75]


def test_a_window_under_half_labelled_is_not_judged_for_quality_its_labels_are_the_shortest_trips() -> None:
    from mlgameday.contracts import TARGET
    from mlgameday.monitor.evaluate import judge, screen
    from mlgameday.monitor.reference import validate_reference
    from mlgameday.monitor.results import WindowResult
    from mlgameday.monitor.synthetic import Traffic

    cfg = MonitorSettings(min_labeled_rows=30, labels_missing_below=0.5)
    reference = validate_reference(Traffic(seed=1).reference(3000), "test")
    for share, judged in ((0.4, False), (0.6, True)):
        frame = Traffic(seed=2).frame(400)
        shortest = frame[TARGET].rank(method="first") <= share * len(frame)  # the labels that came first
        frame.loc[~shortest, TARGET] = float("nan")
        result = WindowResult(index=1, model_tag="test", status="ok")
        screen(frame, cfg, result)
        judge(frame, reference, cfg, result)
        assert (result.quality is not None) == judged, (share, result.quality_status)
        assert result.quality_status == "ok" if judged else result.quality_status.startswith("too few labels (40%")
