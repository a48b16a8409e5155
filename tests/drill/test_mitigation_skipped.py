"""The fix skipped: the mitigation's conditions read as for a candidate who changed nothing (pure logic
on a recorded timeline; the drills run it live in tests/drill/test_scenarios_e2e.py)."""

from __future__ import annotations

from mlgameday.drill.mitigation import MitigationContext, check_skipped, longest_hold
from mlgameday.drill.scenario import Condition
from mlgameday.drill.timeline import Timeline


def timeline_of(latency: list[tuple[float, float]]) -> Timeline:
    timeline = Timeline(t0=0.0)
    for t, value in latency:
        timeline.sample("latency_p99_ms", value, at=t)
    return timeline


def context(timeline: Timeline) -> MitigationContext:
    return MitigationContext(settings=None, target=None, timeline=timeline, fault_at=10.0,  # type: ignore[arg-type]
                             start_offsets={}, live_at_start="m1")


SLO = Condition(signal="latency_p99_ms", below=150, hold=5)


def test_a_symptom_that_stays_fails_the_skipped_check() -> None:
    timeline = timeline_of([(t, 90.0) for t in range(0, 10, 2)] + [(t, 700.0) for t in range(10, 40, 2)])
    [(held, line)] = check_skipped(context(timeline), [SLO], since=20.0)
    assert not held and "did not stay below 150" in line


def test_a_symptom_gone_by_itself_passes_it() -> None:
    """The fault's effect faded without a fix: the check would pass a candidate who did nothing."""
    timeline = timeline_of([(t, 700.0) for t in range(10, 20, 2)] + [(t, 90.0) for t in range(20, 40, 2)])
    [(held, _)] = check_skipped(context(timeline), [SLO], since=20.0)
    assert held


def test_only_samples_since_the_symptom_count() -> None:
    """Healthy warm-up samples before `since` cannot make a skipped fix pass."""
    timeline = timeline_of([(t, 90.0) for t in range(0, 20, 2)] + [(t, 700.0) for t in range(20, 40, 2)])
    assert check_skipped(context(timeline), [SLO], since=20.0)[0][0] is False
    assert check_skipped(context(timeline), [SLO], since=0.0)[0][0] is True


def test_longest_hold_counts_the_conditions_read_on_series() -> None:
    conditions = [Condition(check="components_up"), SLO, Condition(check="mae_near_reference", tolerance=0.3, hold=12)]
    assert longest_hold(conditions) == 12
    assert longest_hold([Condition(check="components_up", hold=30)]) == 0.0
    assert longest_hold([]) == 0.0
