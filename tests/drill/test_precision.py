"""Every alert of a drill is judged (pure logic): expected, a consequence, baseline noise or unexpected;
and a blind drill draws its fault parameters from the scenario's ranges."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from mlgameday.drill.precision import BASELINE, CONSEQUENCE, EXPECTED, UNEXPECTED, false_alarms, judge_alerts, tally
from mlgameday.drill.scenario import Scenario
from mlgameday.drill.timeline import Timeline

SCENARIO = {
    "name": "tiny", "title": "A tiny scenario", "teaches": "How alerts are judged in a drill.",
    "symptoms": "Riders see odd ETAs today.",
    "faults": [{"at": "10s", "kind": "shift_feature", "params": {"column": "trip_distance", "multiply": 2.0, "share": 0.5},
                "vary": {"multiply": [1.5, 3.0], "share": [0.3, 0.9], "at": [0, 20]}}],
    "expect": [{"signal": "drift.detected", "columns": ["trip_distance"], "within": "60s"}],
    "may_alert": [{"signal": "prediction.drift"}],
    "explain": {"component": "upstream", "root_cause": "input-drift", "fix": ["retrain"]},
}


def timeline(*alerts: tuple[float, str, str | None]) -> Timeline:
    line = Timeline(t0=0.0)
    for t, kind, column in alerts:
        line.mark("alert", kind, at=t, column=column, score=0.5)
    return line


def test_each_alert_gets_its_verdict() -> None:
    scenario = Scenario.model_validate(SCENARIO)
    line = timeline((5, "drift.detected", "requests_15m"),      # before the fault: noise
                    (30, "drift.detected", "trip_distance"),    # what the scenario expects
                    (31, "prediction.drift", "prediction_s"),   # a consequence it allows
                    (32, "drift.detected", "mean_speed_30m"),   # nothing explains it
                    (40, "freshness.stale", None))
    judged = judge_alerts(scenario, line, fault_at=20.0)
    assert [a.verdict for a in judged] == [BASELINE, EXPECTED, CONSEQUENCE, UNEXPECTED, UNEXPECTED]
    assert tally(judged) == {EXPECTED: 1, CONSEQUENCE: 1, BASELINE: 1, UNEXPECTED: 2}
    assert [a.name for a in false_alarms(judged)] == ["drift.detected on requests_15m", "drift.detected on mean_speed_30m",
                                                      "freshness.stale"]


def test_in_a_control_run_or_before_any_fault_every_alert_is_noise() -> None:
    scenario = Scenario.model_validate(SCENARIO)
    line = timeline((30, "drift.detected", "trip_distance"))
    assert [a.verdict for a in judge_alerts(scenario, line, fault_at=20.0, control=True)] == [BASELINE]
    assert [a.verdict for a in judge_alerts(scenario, line, fault_at=None)] == [BASELINE]


def test_a_blind_drill_draws_each_range_and_the_same_seed_draws_the_same() -> None:
    step = Scenario.model_validate(SCENARIO).faults[0]
    draws = [step.drawn(np.random.default_rng([seed, 29])) for seed in (1, 1, 2)]
    assert draws[0] == draws[1] and draws[0] != draws[2]
    for drawn in draws:
        assert 1.5 <= drawn.params["multiply"] <= 3.0 and 0.3 <= drawn.params["share"] <= 0.9 and 0 <= drawn.at <= 20
        assert drawn.params["column"] == "trip_distance"
        drawn.parsed()  # still valid params of the fault kind


@pytest.mark.parametrize("vary, error", [
    ({"share": [0.9, 0.3]}, "empty"),
    ({"column": [1, 2]}, "only numeric params"),
    ({"share": [0.5, 1.5]}, "not a valid shift_feature param"),
])
def test_bad_ranges_are_refused_with_the_key(vary: dict, error: str) -> None:
    data = {**SCENARIO, "faults": [{**SCENARIO["faults"][0], "vary": vary}]}
    with pytest.raises(ValidationError, match=error):
        Scenario.model_validate(data)


def test_a_scenario_without_faults_expects_nothing_and_is_healthy() -> None:
    healthy = Scenario.model_validate({**SCENARIO, "faults": [], "expect": [], "may_alert": []})
    assert healthy.healthy
    with pytest.raises(ValidationError, match="expects signals but injects no fault"):
        Scenario.model_validate({**SCENARIO, "faults": []})
    with pytest.raises(ValidationError, match="expects no signal"):
        Scenario.model_validate({**SCENARIO, "expect": []})
