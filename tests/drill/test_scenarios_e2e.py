"""Every scenario, accelerated, on ONE real stack (Kafka, ingest, producer, serving, monitor):
each expected signal fires within its bound and no other alert fires (none before the fault, none
the scenario does not explain); a shared control run (same seed, no fault) raises no alert at all.

Knobs are reset between scenarios by the drill itself; traffic is the scenarios' modest rate.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mlgameday.config import Settings
from mlgameday.drill.targets import LocalTarget
from mlgameday.models.control import change_models
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.precision import false_alarms
from mlgameday.drill.answer import Answer
from mlgameday.drill.handoff import submit_answer
from mlgameday.drill.oncall import Page
from mlgameday.drill.runner import Drill, control_scenario
from mlgameday.drill.timeline import Timeline
from mlgameday.stack.state import RunFolder

pytestmark = pytest.mark.integration
CATALOG = Catalog()
# Order matters a little: the disruptive ones (process faults) last, so their after-effects
# (a drained backlog, restarted consumers) do not overlap another scenario's window.
ORDER = ["healthy", "schema-change", "undeclared-consumer", "slow-model", "memory-leak", "silent-fallback",
         "feature-ttl", "nan-features", "bad-canary", "duplicate-events", "data-drift", "concept-drift",
         "feedback-loop", "label-delay", "alert-storm", "training-serving-skew", "time-zone-bug", "traffic-spike",
         "stale-features", "broker-outage"]
CONTROL_AFTER = 10  # scenarios are split in two groups only to keep each parametrized list short


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


def recovers_on_its_schedule(drill: Drill) -> bool:
    """A fault of the scenario recovers by itself in a non-blind drill (a burst, a restart)."""
    return any(action.action == "recover" for action in drill.schedule())


def start_blind(settings: Settings, scenario) -> tuple[Drill, threading.Thread, list, Page]:
    """An attached blind drill on a thread, as `gameday drill --blind` runs it: (drill, its thread, where its
    result lands, the page once it came)."""
    pages: list[Page] = []
    drill = Drill(settings, scenario, fast=True, blind=True, on_page=pages.append, time_limit_s=600)
    results: list = []
    runner = threading.Thread(target=lambda: results.append(drill.run()), daemon=True)
    runner.start()
    deadline = time.monotonic() + 600
    while not pages:
        assert runner.is_alive() and time.monotonic() < deadline, "the blind drill never paged"
        time.sleep(1.0)
    return drill, runner, results, pages[0]


PROBLEM_MARKERS = ('"level": "warning"', '"level": "error"', '"level": "critical"', " WARN ", " ERROR ", "%3|", "%4|")
# A broker down refuses connections: counted, not shown, so the lines shown are the ones that tell.
REFUSED_MARKERS = ("ECONNREFUSED", "error 111", "Connection refused", "connection failed -- refreshing metadata")
LOG_LINES_SHOWN = 3


def log_sizes(settings: Settings) -> dict[Path, int]:
    """Where each service's log ends now: what a drill adds starts there."""
    return {log: log.stat().st_size for log in RunFolder(settings.run_path).logs.glob("*.log")}


def services_since(settings: Settings, sizes: dict[Path, int]) -> str:
    """Each service's state now and the last warnings it logged after `sizes` (log_sizes before the drill): a
    failure in CI is explained from its output alone (the run folder is gone with the machine)."""
    states = LocalTarget(settings).components()
    lines = []
    for log in sorted(RunFolder(settings.run_path).logs.glob("*.log")):
        with open(log, "rb") as f:
            f.seek(sizes.get(log, 0))
            text = f.read().decode(errors="replace").splitlines()
        problems = [line for line in text if any(marker in line for marker in PROBLEM_MARKERS)]
        telling = [line for line in problems if not any(marker in line for marker in REFUSED_MARKERS)]
        lines.append(f"{log.stem} ({states.get(log.stem, 'not a component')}): {len(problems)} warnings since the "
                     f"drill started ({len(problems) - len(telling)} of refused connections)"
                     + "".join(f"\n    {line[:300]}" for line in telling[-LOG_LINES_SHOWN:]))
    return "\n".join(lines)


def run_and_check(settings: Settings, name: str) -> None:
    drill = Drill(settings, CATALOG.get(name), fast=True)
    sizes = log_sizes(settings)
    result = drill.run()
    missing = [f"{o.expectation.describe()}: {o.reason}" for o in result.missing()]
    assert missing == [], (f"{name}: {missing}; debrief {result.debrief.get('markdown')}\n"
                           f"{services_since(settings, sizes)}")
    noise = [f"{a.name} at {a.t}s: {a.verdict}" for a in false_alarms(result.alerts)]
    assert noise == [], f"{name}: alerts the scenario does not explain: {noise}; debrief {result.debrief.get('markdown')}"
    # The mitigation check tells a fix from none: with the fix skipped (the faults on) it fails. Faults that
    # recover on their own schedule here wait for the fix only in blind drills (checked below).
    if drill.scenario.explain.mitigation and drill.steps and not recovers_on_its_schedule(drill):  # healthy: no fault
        assert result.unmitigated and not result.passes_unmitigated, \
            f"{name}: skipped fix {[m.detail for m in result.unmitigated]}; debrief {result.debrief.get('markdown')}"
    assert result.passed
    assert result.crashed == [], f"{name}: died during the drill: {result.crashed}"
    assert result.debrief["html"].is_file()


@pytest.mark.parametrize("name", ORDER[:CONTROL_AFTER])
def test_scenario_fires_every_expected_signal_in_time(drill_stack: Settings, name: str) -> None:
    run_and_check(drill_stack, name)


@pytest.mark.parametrize("name", ORDER[CONTROL_AFTER:])
def test_later_scenario_fires_every_expected_signal_in_time(drill_stack: Settings, name: str) -> None:
    run_and_check(drill_stack, name)


def test_blind_drill_waits_for_the_candidates_rollback(drill_stack: Settings) -> None:
    """--blind keeps the fault on past the scenario's duration; the candidate rolls back and answers;
    the drill checks the rollback's outcome on its own watcher and scores."""
    from mlgameday.drill.active import ActiveDrill

    scenario = CATALOG.get("slow-model")
    _, runner, results, page = start_blind(drill_stack, scenario)
    assert "slow" not in page.folder.name and page.drill_id in page.folder.name
    time.sleep(Drill(drill_stack, scenario, fast=True).timing.duration + 5)  # past the scenario's duration
    assert runner.is_alive() and ActiveDrill.current(drill_stack) is not None
    assert LocalTarget(drill_stack).serving_models()["live"]["variant"] == "accurate"  # still broken
    change_models(drill_stack, "fast")  # the candidate's rollback (`gameday model promote fast`)
    answer = Answer(component="model", root_cause="slow-model", fix="rollback-model", signal="latency_p99_ms")
    scored = submit_answer(drill_stack, answer, check_timeout_s=60)
    runner.join(timeout=300)
    levels = {level["level"]: level["score"] for level in scored["levels"]}
    # Right at every level the investigation scores; the answer gave no reasoning, so no impact figure.
    assert scored["mitigated"] and levels == {"detection": 1.0, "localization": 1.0, "root_cause": 1.0,
                                              "mitigation": 1.0, "impact": 0.0}, scored
    result = results[0]
    assert Path(scored["folder"]) == result.folder and (result.folder / "answer.json").is_file()
    assert (result.folder / "debrief.html").is_file() and ActiveDrill.current(drill_stack) is None


def self_recovering() -> list[str]:
    """The scenarios whose faults recover on their own schedule in a non-blind drill (a burst, a restart)."""
    return [name for name in ORDER if CATALOG.get(name).explain.mitigation
            and recovers_on_its_schedule(Drill(Settings(), CATALOG.get(name), fast=True))]


@pytest.mark.parametrize("name", self_recovering())
def test_blind_fault_that_recovers_by_itself_elsewhere_waits_and_a_skipped_fix_fails(drill_stack: Settings,
                                                                                   name: str) -> None:
    """Blind, the same fault stays on past the time it recovers in a non-blind drill; the right diagnosis with
    no fix done fails the mitigation check."""
    scenario = CATALOG.get(name)
    drill, runner, results, _ = start_blind(drill_stack, scenario)
    paged = time.monotonic()
    recovers_after = max(a.at for a in Drill(drill_stack, scenario, fast=True).schedule() if a.action == "recover")
    time.sleep(max(0.0, recovers_after - drill.timing.warmup + 10 - (time.monotonic() - paged)))
    assert drill.timeline is not None and drill.timeline.marks_of("recover") == [], "the fault recovered by itself"
    explain = scenario.explain
    answer = Answer(component=explain.component, root_cause=explain.root_cause, fix=explain.fix[0],
                    signal=explain.detection[0], reasoning="diagnosed; nothing done yet")
    scored = submit_answer(drill_stack, answer, check_timeout_s=20)
    runner.join(timeout=300)
    assert not runner.is_alive() and results, "the blind drill did not end after the answer"
    levels = {level["level"]: level["score"] for level in scored["levels"]}
    assert not scored["mitigated"] and levels["mitigation"] < 1.0, scored
    assert levels["root_cause"] == 1.0 and scored["mitigation_checks"], scored
