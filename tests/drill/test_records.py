"""The history of a run folder: every drill, its scores per level, time to detect, answer and mitigate —
read from the files the drill and the answer write (built here with the same classes)."""

from __future__ import annotations

import json
from pathlib import Path

from mlgameday.config import load_settings
from mlgameday.drill.answer import Answer, score_answer
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.expect import Outcome
from mlgameday.drill.records import list_records, time_to_detect
from mlgameday.drill.runner import DrillResult, new_run_folder
from mlgameday.drill.active import ActiveDrill
from mlgameday.drill.timeline import Timeline

CATALOG = Catalog()


def write_drill(settings, name: str, *, blind: bool, t0: float, fired_after: float | None,
                answer: Answer | None = None, verified_at: float | None = None, stopped: bool = False) -> Path:
    scenario = CATALOG.get(name)
    folder = new_run_folder(settings, name + ("-blind" if blind else ""))
    timeline = Timeline(t0=t0)
    timeline.mark("phase", "warm-up", at=0.0)
    timeline.mark("fault", scenario.faults[0].kind, at=20.0, index=0)
    timeline.sample("throughput", 20.0, at=21.0)
    expectation = scenario.expect[0]
    outcomes = [Outcome(expectation, fired_after is not None, fired_after)]
    result = DrillResult(scenario, folder, outcomes, {"fault": 20.0}, 80.0, fast=True, blind=blind, stopped=stopped)
    if answer is not None:
        timeline.mark("action", "answer", at=100.0, component=answer.component)
        if verified_at is not None:
            timeline.mark("action", "mitigation verified", at=verified_at)
        score = score_answer(scenario, answer, set(), (verified_at is not None, []))
        (folder / "answer.json").write_text(json.dumps({"answer": vars(answer), **score.as_dict()}))
        (folder / "debrief.html").write_text("<html></html>")
    timeline.save(folder / "timeline.jsonl")
    (folder / "result.json").write_text(json.dumps(result.as_dict()))
    return folder


def test_every_drill_with_its_scores_and_times(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    assert list_records(settings) == []
    write_drill(settings, "data-drift", blind=False, t0=1000.0, fired_after=12.5)
    right = Answer("model", "slow-model", "rollback-model", signal="latency_p99_ms", reasoning="p99 jumped")
    write_drill(settings, "slow-model", blind=True, t0=2000.0, fired_after=8.0, answer=right, verified_at=130.0)
    wrong = Answer("kafka", "broker-down", "restart-ingest")
    write_drill(settings, "slow-model", blind=True, t0=3000.0, fired_after=None, answer=wrong)
    write_drill(settings, "bad-canary", blind=False, t0=4000.0, fired_after=None, stopped=True)

    records = list_records(settings)
    assert [r.scenario for r in records] == ["data-drift", "slow-model", "slow-model", "bad-canary"]
    drift, solved, missed, stopped = records
    assert drift.time_to_detect_s == 12.5 and drift.passed is True
    assert not drift.answered and drift.mode == "accelerated"
    assert solved.score == 1.0 and solved.levels == {"detection": 1.0, "localization": 1.0, "root_cause": 1.0,
                                                     "mitigation": 1.0}
    assert solved.time_to_answer_s == 80.0 and solved.time_to_mitigate_s == 110.0 and solved.time_to_detect_s == 8.0
    assert solved.mode == "accelerated, blind" and solved.debrief is not None
    assert missed.score == 0.0 and missed.levels["mitigation"] == 0.0 and missed.time_to_mitigate_s is None
    assert missed.time_to_detect_s is None
    assert stopped.stopped and stopped.passed is False and stopped.debrief is None


def test_a_blind_drill_waiting_for_its_answer_is_marked(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    folder = write_drill(settings, "schema-change", blind=True, t0=1000.0, fired_after=5.0)
    drill = ActiveDrill.claim(settings, "a1b2", folder, blind=True, time_limit_s=None)  # this process runs it
    (record,) = list_records(settings)
    assert record.awaiting_answer and not record.answered
    drill.release(settings)
    assert not list_records(settings)[0].awaiting_answer


def test_time_to_detect_counts_only_signals_after_the_fault() -> None:
    outcomes = [{"fired": True, "after": "recover", "after_s": 2.0}, {"fired": True, "after": "fault", "after_s": 9.0},
                {"fired": False, "after": "fault", "after_s": None}, {"fired": True, "after_s": 30.0}]
    assert time_to_detect(outcomes) == 9.0
    assert time_to_detect([]) is None
