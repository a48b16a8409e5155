"""Scoring `gameday answer`: per level, with partial credit, against the scenario's answer key."""

from __future__ import annotations

import pytest

from mlgameday.drill.answer import Answer, AnswerError, score_answer, validate_answer
from mlgameday.drill.catalog import Catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def levels(score) -> dict[str, float]:
    return {level.level: level.score for level in score.levels}


def test_right_answer_scores_full_marks(catalog: Catalog) -> None:
    scenario = catalog.get("slow-model")
    answer = Answer(component="model", root_cause="slow-model", fix="rollback-model", signal="latency_p99_ms")
    score = score_answer(scenario, answer, fired_signals={"latency_p99_ms"},
                         mitigation=(True, ["latency_p99_ms held below 150 for 10s"]))
    assert levels(score) == {"detection": 1.0, "localization": 1.0, "root_cause": 1.0, "mitigation": 1.0}
    assert score.total == 1.0


def test_partly_right_answer_gets_partial_credit_per_level(catalog: Catalog) -> None:
    scenario = catalog.get("slow-model")
    # serving is adjacent to the model; a slow feature store is a plausible cause; restart is a partial fix;
    # the signal named fired in this run but is not the decisive one; the signals did not recover.
    answer = Answer(component="serving", root_cause="feature-store-slow", fix="restart-serving", signal="throughput")
    score = score_answer(scenario, answer, fired_signals={"latency_p99_ms", "throughput"},
                         mitigation=(False, ["latency_p99_ms did not stay below 150 for 10s"]))
    assert levels(score) == {"detection": 0.5, "localization": 0.5, "root_cause": 0.5, "mitigation": 0.25}
    assert score.total == pytest.approx(0.4375)
    assert "its outcome was not verified" in score.levels[3].note
    assert not score.mitigated


def test_wrong_answer_scores_zero(catalog: Catalog) -> None:
    scenario = catalog.get("schema-change")
    answer = Answer(component="monitor", root_cause="monitor-false-alarm", fix="raise-thresholds", signal="drift.detected")
    score = score_answer(scenario, answer, fired_signals={"dlq_rate"}, mitigation=(False, []))
    assert levels(score) == {"detection": 0.0, "localization": 0.0, "root_cause": 0.0, "mitigation": 0.0}
    assert score.levels[0].note == "that signal did not fire in this run"


def test_right_fix_without_the_signals_recovering_is_half_the_mitigation(catalog: Catalog) -> None:
    scenario = catalog.get("schema-change")
    answer = Answer(component="upstream", root_cause="schema-break", fix="replay-dlq", signal="dlq_rate")
    score = score_answer(scenario, answer, fired_signals={"dlq_rate"}, mitigation=(False, ["dlq_rate stayed up"]))
    assert levels(score)["mitigation"] == 0.5


def test_an_unchecked_mitigation_scores_the_fix_choice(catalog: Catalog) -> None:
    scenario = catalog.get("data-drift")
    answer = Answer(component="model", root_cause="input-drift", fix="retrain", signal=None)
    score = score_answer(scenario, answer, fired_signals=set(), mitigation=None)
    assert levels(score) == {"detection": 0.0, "localization": 0.5, "root_cause": 1.0, "mitigation": 1.0}
    assert score.levels[0].note == "no signal named (--signal)"


def test_an_answer_outside_the_choices_is_refused_with_the_list(catalog: Catalog) -> None:
    with pytest.raises(AnswerError, match="root cause 'gremlins' is not one of the choices") as info:
        validate_answer(Answer("model", "gremlins", "retrain"), catalog.choices)
    assert "input-drift" in str(info.value)


def test_no_incident_is_the_right_answer_for_the_healthy_scenario(catalog: Catalog) -> None:
    scenario = catalog.get("healthy")
    calm = Answer(component="none", root_cause="no-incident", fix="no-action", signal=None)
    assert score_answer(scenario, calm, fired_signals=set()).total == 1.0
    # Chasing a signal that did not fire, blaming the model and retraining a healthy system scores nothing.
    busy = Answer(component="model", root_cause="concept-drift", fix="retrain", signal="mae_s")
    assert levels(score_answer(scenario, busy, fired_signals=set())) == {
        "detection": 0.0, "localization": 0.0, "root_cause": 0.0, "mitigation": 0.0}
    # Suspecting the monitor is half right; raising thresholds half a fix.
    wary = Answer(component="none", root_cause="monitor-false-alarm", fix="raise-thresholds", signal=None)
    assert levels(score_answer(scenario, wary, fired_signals=set()))["root_cause"] == 0.5


def test_the_impact_level_credits_a_quantified_statement_and_the_scenarios_trade_off(catalog: Catalog) -> None:
    from mlgameday.impact import IncidentEstimate

    scenario = catalog.get("slow-model")
    assert scenario.explain.tradeoff == ["accuracy", "latency", "cost"]
    estimate = IncidentEstimate(currency="USD", cost_per_hour=4900.0, cost=122.5, riders_affected=780.0,
                                affected_share=1.0, duration_s=90.0, cost_per_trip=0.157)
    right = dict(component="model", root_cause="slow-model", fix="rollback-model", signal="latency_p99_ms")
    weighed = Answer(**right, reasoning="The accurate model wins 9 s of MAE but adds 200 ms at p99: ~$5k per hour "
                                        "of lost bookings against ~$2k a day it earns. Roll back.")
    score = score_answer(scenario, weighed, fired_signals={"latency_p99_ms"}, mitigation=(True, []), impact=estimate)
    assert levels(score)["impact"] == 1.0 and score.total == 1.0
    assert score.levels[4].expected.startswith("~$4,900 per hour")
    # A cost with one of the trade-off's three numbers (money, not MAE nor ms) is half plus a sixth;
    # no reasoning at all is nothing, and says how to give one.
    costed = Answer(**right, reasoning="Roughly $5k an hour lost while p99 was above the SLO.")
    assert levels(score_answer(scenario, costed, {"latency_p99_ms"}, (True, []), estimate))["impact"] == pytest.approx(
        0.5 + 0.5 / 3)
    silent = score_answer(scenario, Answer(**right), {"latency_p99_ms"}, (True, []), estimate)
    assert levels(silent)["impact"] == 0.0 and "--reasoning" in silent.levels[4].note
    assert silent.total == pytest.approx(0.8)
