"""Every scenario, accelerated, on ONE real stack (Kafka, ingest, producer, serving, monitor):
each expected signal fires within its bound and no other alert fires (none before the fault, none
the scenario does not explain); a shared control run (same seed, no fault) raises no alert at all.

Knobs are reset between scenarios by the drill itself; traffic is the scenarios' modest rate.
"""

from __future__ import annotations

import pytest

from mlgameday.config import Settings
from mlgameday.drill.targets import LocalTarget
from mlgameday.models.control import change_models
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.precision import false_alarms
from mlgameday.drill.runner import Drill, control_scenario
from mlgameday.drill.timeline import Timeline

pytestmark = pytest.mark.integration
CATALOG = Catalog()
# Order matters a little: the disruptive ones (process faults) last, so their after-effects
# (a drained backlog, restarted consumers) do not overlap another scenario's window.
ORDER = ["healthy", "schema-change", "slow-model", "silent-fallback", "bad-canary", "data-drift", "concept-drift",
         "training-serving-skew", "traffic-spike", "stale-features", "broker-outage"]
CONTROL_AFTER = 6  # scenarios are split in two groups only to keep each parametrized list short


def test_order_covers_the_catalog() -> None:
    assert sorted(ORDER) == CATALOG.names()


def test_control_run_fires_no_expected_signal_and_no_alert(drill_stack: Settings) -> None:
    """First, on the freshly settled stack: same traffic and seed, no fault, nothing may fire."""
    control = control_scenario([CATALOG.get(name) for name in ORDER if CATALOG.get(name).faults])
    result = Drill(drill_stack, control, fast=True, control=True).run()
    fired = [f"{o.expectation.signal}: {o.expectation.describe()} (value {o.value})"
             for o in result.outcomes if o.fired]
    assert fired == [], f"signals fired without a fault: {fired}; debrief {result.debrief.get('markdown')}"
    alerts = [f"{a.name} at {a.t}s (score {a.score})" for a in result.alerts]
    assert alerts == [], f"alerts on a stack at rest: {alerts}; debrief {result.debrief.get('markdown')}"
    assert result.passed
    # One consistent world: the live model is as good online as on its held-out trips (the drill's own
    # MAE over the last 30 s of labels, once that window is full).
    timeline = Timeline.load(result.folder / "timeline.jsonl")
    online = [value for t, value in timeline.series("mae_s") if t >= 30]
    from mlgameday.models.store import list_models, use_model_store

    use_model_store(drill_stack)
    live = LocalTarget(drill_stack).serving_models()["live"]["tag"]
    offline = next(m.metrics["mae_s"] for m in list_models() if m.tag == live)
    assert online and abs(sum(online) / len(online) / offline - 1) <= 0.15, (sum(online) / len(online), offline)


def run_and_check(settings: Settings, name: str) -> None:
    result = Drill(settings, CATALOG.get(name), fast=True).run()
    missing = [f"{o.expectation.describe()}: {o.reason}" for o in result.missing()]
    assert missing == [], f"{name}: {missing}; debrief {result.debrief.get('markdown')}"
    noise = [f"{a.name} at {a.t}s: {a.verdict}" for a in false_alarms(result.alerts)]
    assert noise == [], f"{name}: alerts the scenario does not explain: {noise}; debrief {result.debrief.get('markdown')}"
    assert result.passed
    assert result.crashed == [], f"{name}: died during the drill: {result.crashed}"
    assert result.debrief["html"].is_file()


@pytest.mark.parametrize("name", ORDER[:CONTROL_AFTER])
def test_scenario_fires_every_expected_signal_in_time(drill_stack: Settings, name: str) -> None:
    run_and_check(drill_stack, name)


@pytest.mark.parametrize("name", ORDER[CONTROL_AFTER:])
def test_later_scenario_fires_every_expected_signal_in_time(drill_stack: Settings, name: str) -> None:
    run_and_check(drill_stack, name)


def test_blind_drill_then_answer_checks_the_candidates_rollback(drill_stack: Settings) -> None:
    """--blind leaves the fault on; the candidate rolls back; `answer` scores and verifies it."""
    from mlgameday.drill.answer import Answer, finish_blind_drill
    from mlgameday.drill.session import Session

    scenario = CATALOG.get("slow-model")
    result = Drill(drill_stack, scenario, fast=True, blind=True).run()
    assert Session.path(drill_stack).is_file()
    assert LocalTarget(drill_stack).serving_models()["live"]["variant"] == "accurate"  # still broken
    change_models(drill_stack, "fast")  # the candidate's rollback (`gameday model promote fast`)
    answer = Answer(component="model", root_cause="slow-model", fix="rollback-model", signal="latency_p99_ms")
    score, folder = finish_blind_drill(drill_stack, answer, CATALOG, check_timeout_s=60)
    assert score.total == 1.0, score.as_dict()
    assert folder == result.folder and (folder / "answer.json").is_file() and (folder / "debrief.html").is_file()
    assert not Session.path(drill_stack).exists()
