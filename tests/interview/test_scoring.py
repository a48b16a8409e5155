"""The score sheet's credits: pure functions over the candidate's text and the measured figures."""

from __future__ import annotations

import pytest

from mlgameday.interview.scoring import (ModelChoice, PhaseTime, design_breadth, design_depth, follow_up_depth,
                                         model_choice, product_impact, score_sheet, sheet_markdown, tour_credits)
from mlgameday.interview.script import load_script

DESIGN = load_script().phase("design")


def test_design_breadth_counts_the_areas_covered() -> None:
    assert design_breadth("Kafka topics, a Feast online store, BentoML serving, Evidently drift", DESIGN).score == 1
    partial = design_breadth("events land in Kafka and a model server answers", DESIGN)
    assert partial.score == 0.5 and "missing: feature store, monitoring" in partial.note
    assert design_breadth("", DESIGN).score == 0


def test_design_depth_counts_mechanisms_up_to_the_target() -> None:
    some = design_depth("dedup by event id, a DLQ, point-in-time joins", DESIGN)
    assert some.score == pytest.approx(3 / DESIGN.depth_target)
    many = design_depth("idempotent, dead-letter, event time, point-in-time, skew, fallback, canary, p99", DESIGN)
    assert many.score == 1.0


def test_follow_ups_are_credited_for_their_own_mechanism() -> None:
    answers = {"design.duplicates": "dedupe on the event_id", "design.skew": "I would be careful",
               "design.labels": ""}
    credit = follow_up_depth(answers, DESIGN)
    assert credit.score == pytest.approx(1 / 3) and "design.skew" in credit.note


def test_tour_credits_the_live_model_and_the_parts_named() -> None:
    running = ["kafka", "ingest", "producer", "serving", "riders", "monitor"]
    breadth, depth = tour_credits("The fast model is live: kafka, ingest, Feast, BentoML, Evidently.", "fast", running)
    assert depth.score == 1 and breadth.score == 1
    _, wrong = tour_credits("The accurate model is live.", "fast", running)
    assert wrong.score == 0 and "live model was fast" in wrong.note
    _, hedged = tour_credits("fast or accurate, I'm not sure", "fast", running)
    assert hedged.score == 0.5


def test_model_choice_is_the_variant_worth_more_and_by_how_much() -> None:
    choice = model_choice({"fast": 1200.0, "accurate": 900.0, "worse": 100.0}, "USD")
    assert choice == ModelChoice("fast", "accurate", 300.0, "USD")
    assert model_choice({"fast": 10.0, "accurate": None}) is None


def test_product_impact_wants_the_right_figure_numbers_on_all_three_and_the_better_variant() -> None:
    choice = ModelChoice("fast", "accurate", 300.0, "USD")
    best = product_impact("Serve fast: accurate saves 5 s of MAE but costs 200 ms p99 and $280 per day.", choice)
    assert best.score == 1.0
    far = product_impact("Serve fast: accurate saves 5 s of MAE but costs 200 ms p99 and $28,000 per day.", choice)
    assert far.score == pytest.approx(0.5 * 0.5 + 0.25 + 0.25)
    wrong = product_impact("I would serve accurate: 5 s of MAE better for 200 ms and $300 a day.", choice)
    assert wrong.score == pytest.approx(0.75) and "chose accurate" in wrong.note
    vague = product_impact("The accurate one is better.", choice)
    assert vague.score == 0 and "no number on accuracy, latency, cost" in vague.note
    assert product_impact("", choice).score == 0


def test_score_sheet_has_three_dimensions_and_its_markdown_lists_every_part() -> None:
    answers = {"design": "Kafka, Feast online store, BentoML serving, Evidently drift; idempotent, DLQ",
               "tour": "accurate is live; kafka, ingest, serving, monitor",
               "impact": "serve fast, $300 per day, 200 ms, 5 s MAE"}
    sheet = score_sheet(started_at="2026-11-30T03:00:00+00:00", scenario="slow-model", design=DESIGN, answers=answers,
                        live_variant="accurate", components=["kafka", "ingest", "serving", "monitor"],
                        incident_levels={"detection": 1, "localization": 1, "root_cause": 1, "mitigation": 0.5,
                                         "impact": 0.75},
                        choice=ModelChoice("fast", "accurate", 300.0, "USD"),
                        phases=[PhaseTime("design", 600, 700), PhaseTime("tour", 120, 60)])
    data = sheet.as_dict()
    assert set(data["dimensions"]) == {"depth", "breadth", "business alignment"}
    assert data["dimensions"]["business alignment"]["score"] == pytest.approx((0.75 + 1.0) / 2)
    assert data["elapsed_s"] == 760 and data["budget_s"] == 720 and data["phases"][0]["over_s"] == 100
    text = "\n".join(sheet_markdown(sheet))
    assert "## Mock interview: score sheet" in text and "| depth | tour: the live model | 100% |" in text
    assert "1.7 min" in text  # design ran 100 s over
