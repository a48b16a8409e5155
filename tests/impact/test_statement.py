"""Credit for a quantified impact statement in free text (a pure function over the answer's reasoning)."""

from __future__ import annotations

import pytest

from mlgameday.impact import IncidentEstimate, score_impact_statement
from mlgameday.impact.statement import quantities

# An incident of 90 s that cost $4,900 an hour and touched 780 riders.
ESTIMATE = IncidentEstimate(currency="USD", cost_per_hour=4900.0, cost=122.5, riders_affected=780.0,
                            affected_share=1.0, duration_s=90.0, cost_per_trip=0.157)


def test_quantities_are_read_with_their_kind_scale_and_rate() -> None:
    found = quantities("About $4.5k per hour (USD 110k a day), 1,200 riders; p99 350 ms; +40 s MAE, 12% worse, "
                       "2 minutes late; 3 million trips")
    assert [(q.kind, q.value, q.per) for q in found] == [
        ("money", 4500.0, "hour"), ("money", 110_000.0, "day"), ("riders", 1200.0, ""), ("ms", 350.0, ""),
        ("seconds", 40.0, ""), ("percent", 12.0, ""), ("seconds", 120.0, ""), ("riders", 3_000_000.0, "")]
    assert [q.value for q in quantities("it cost 2,500 dollars and 3k USD")] == [2500.0, 3000.0]


@pytest.mark.parametrize(("text", "score", "note"), [
    ("The slow model costs about $5k per hour in lost bookings.", 1.0, "close to the estimate"),
    ("Roughly 800 riders saw a slow app during the incident.", 1.0, "close to the estimate"),
    ("It cost us about $30k an hour.", 0.75, "the right order of magnitude"),
    ("This is a $2 million an hour problem.", 0.5, "off"),
    ("p99 went from 20 ms to 350 ms.", 0.25, "none a business reads"),
    ("Users were impacted and the app felt slow.", 0.0, "no quantity"),
    ("", 0.0, "no reasoning given"),
])
def test_statements_score_by_how_quantified_and_how_close(text: str, score: float, note: str) -> None:
    credit = score_impact_statement(text, ESTIMATE)
    assert credit.score == score
    assert note in credit.note


def test_a_per_day_figure_is_compared_with_the_cost_per_day() -> None:
    assert score_impact_statement("about $110k a day if left alone", ESTIMATE).score == 1.0
    assert score_impact_statement("about $110k an hour", ESTIMATE).score == 0.5


def test_a_trade_off_needs_numbers_on_each_dimension() -> None:
    full = score_impact_statement(
        "Accurate is 9 s better in MAE but adds 200 ms at p99: that loses ~$4.4k/h, more than the $300 a day "
        "the accuracy earns. Roll back.", ESTIMATE, tradeoff=("accuracy", "latency", "cost"))
    assert full.tradeoff == 1.0 and full.score == 1.0
    half = score_impact_statement("It costs $5k per hour; the model is slower.", ESTIMATE,
                                  tradeoff=("accuracy", "latency", "cost"))
    assert half.tradeoff == pytest.approx(1 / 3)
    assert half.score == pytest.approx(0.5 * 1.0 + 0.5 / 3)
    assert "without a number on accuracy, latency" in half.note


def test_nothing_lost_is_the_right_answer_when_nothing_was_measured() -> None:
    nothing = IncidentEstimate.nothing("USD")
    assert score_impact_statement("No incident: $0 lost, the alerts were quiet.", nothing).score == 1.0
    assert score_impact_statement("This costs $5k per hour.", nothing).score == 0.5
