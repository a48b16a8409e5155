"""Checking expectations against a recorded timeline: in the bound, out of it, thresholds, columns."""

from __future__ import annotations

from mlgameday.drill.expect import check, holds
from mlgameday.drill.scenario import Condition, Expectation
from mlgameday.drill.timeline import Timeline


def timeline_with(points: dict[str, list[tuple[float, float]]], alerts: list[tuple[float, str, str | None]] = ()) -> Timeline:
    timeline = Timeline(t0=0.0)
    for name, series in points.items():
        for t, value in series:
            timeline.sample(name, value, at=t)
    for t, kind, column in alerts:
        timeline.mark("alert", kind, at=t, column=column, score=0.4)
    return timeline


def test_alert_inside_the_bound_on_the_right_column_fires() -> None:
    timeline = timeline_with({}, [(5, "drift.detected", "passenger_count"), (50, "drift.detected", "trip_distance")])
    expectation = Expectation(signal="drift.detected", columns=["trip_distance"], within=60)
    outcome = check(expectation, timeline, {"fault": 20})
    assert outcome.fired and outcome.after_s == 30


def test_alert_before_the_fault_or_after_the_bound_does_not_count() -> None:
    timeline = timeline_with({}, [(5, "quality.mae_increase", None), (100, "quality.mae_increase", None)])
    outcome = check(Expectation(signal="quality.mae_increase", within=60), timeline, {"fault": 20})
    assert not outcome.fired and "2 outside the bound" in outcome.reason


def test_time_factor_shrinks_the_bound() -> None:
    timeline = timeline_with({}, [(60, "freshness.stale", None)])
    expectation = Expectation(signal="freshness.stale", within=60)
    assert check(expectation, timeline, {"fault": 20}).fired
    assert not check(expectation, timeline, {"fault": 20}, time_factor=0.5).fired


def test_series_threshold_and_reference_moment() -> None:
    timeline = timeline_with({"latency_p99_ms": [(10, 300), (30, 40), (40, 220)]})
    above = Expectation(signal="latency_p99_ms", above=150, within=30)
    assert check(above, timeline, {"fault": 20}).after_s == 20
    below = Expectation(signal="latency_p99_ms", below=100, after="recover", within=15)
    assert check(below, timeline, {"fault": 0, "recover": 25}).fired
    missing = check(below, timeline, {"fault": 0})
    assert not missing.fired and missing.reason == "the recover never happened"


def test_series_that_never_crosses_reports_its_extreme() -> None:
    timeline = timeline_with({"consumer_lag": [(21, 10), (25, 90), (30, 40)]})
    outcome = check(Expectation(signal="consumer_lag", above=150, within=30), timeline, {"fault": 20})
    assert not outcome.fired and outcome.value == 90 and "never above 150" in outcome.reason


def test_expectation_with_hold_needs_a_run_of_samples_not_one_moment() -> None:
    # unanswered_requests is 0 at the recover, then a request goes unanswered: "< 1" must not
    # pass on the first sample alone.
    blip = timeline_with({"unanswered_requests": [(25, 0), (30, 0), (35, 2), (40, 2), (45, 0), (50, 0)]})
    nothing_lost = Expectation(signal="unanswered_requests", below=1, after="recover", within=40, hold=20)
    outcome = check(nothing_lost, blip, {"fault": 0, "recover": 25})
    assert not outcome.fired and "did not hold for 20s" in outcome.reason
    steady = timeline_with({"unanswered_requests": [(t, 0) for t in range(25, 60, 5)]})
    outcome = check(nothing_lost, steady, {"fault": 0, "recover": 25})
    assert outcome.fired and outcome.after_s == 0
    # accelerated: the hold shrinks with the bound
    assert check(nothing_lost, blip, {"fault": 0, "recover": 25}, time_factor=0.25).fired
    assert "for 20s" in nothing_lost.describe()


def test_warmup_baseline_makes_thresholds_relative_to_the_level_before_the_fault() -> None:
    # City speeds follow the hour: 12.4 at night, 8 at rush hour; a units bug multiplies by 1.6.
    night = timeline_with({"mean.mean_speed_30m": [(2, 12.3), (8, 12.5), (22, 12.6), (30, 19.9)]})
    rush = timeline_with({"mean.mean_speed_30m": [(2, 8.0), (8, 8.2), (22, 8.1), (30, 13.0)]})
    skew = Expectation(signal="mean.mean_speed_30m", above=1.3, baseline="warmup", within=40)
    for timeline in (night, rush):
        outcome = check(skew, timeline, {"fault": 20})
        assert outcome.fired and outcome.after_s == 10, outcome
    assert "> 1.3× warm-up" in skew.describe()
    no_warmup = timeline_with({"mean.mean_speed_30m": [(30, 19.9)]})
    assert "during the warm-up" in check(skew, no_warmup, {"fault": 20}).reason
    # mitigation: back near the warm-up level (the warm-up ends at the first fault mark)
    night.mark("fault", "units_bug", at=20)
    for t in (40, 45, 52):
        night.sample("mean.mean_speed_30m", 12.7, at=t)
    ok, message = holds(Condition(signal="mean.mean_speed_30m", below=1.15, baseline="warmup", hold=10), night, since=35)
    assert ok and "below 14.3" in message  # 1.15 × mean(12.3, 12.5)


def test_condition_must_hold_for_its_duration() -> None:
    timeline = timeline_with({"latency_p99_ms": [(0, 300), (2, 120), (6, 200), (8, 100), (14, 90), (19, 95)]})
    ok, message = holds(Condition(signal="latency_p99_ms", below=150, hold=10), timeline, since=0)
    assert ok and "held below 150" in message
    ok, _ = holds(Condition(signal="latency_p99_ms", below=150, hold=15), timeline, since=0)
    assert not ok
