"""The alert rules' pure parts: the freshness finding (share past the budget, or a decisive median age) and
the hysteresis that lets a decisive failure alert on its first window."""

from __future__ import annotations

from mlgameday.config import MonitorSettings
from mlgameday.monitor.alerts import Finding, Hysteresis, freshness_finding
from mlgameday.monitor.results import Freshness

CFG = MonitorSettings(max_feature_age_s=30.0, stale_share=0.2, median_age_s=15.0)


def fresh(p50_s: float | None, stale_share: float) -> Freshness:
    return Freshness(n=200, p50_s=p50_s, p95_s=None if p50_s is None else 3 * p50_s, max_s=None,
                     stale_share=stale_share, missing_share=0.0)


def test_quiet_zones_past_the_budget_are_judged_by_their_share_and_not_decisively() -> None:
    at_rest = freshness_finding(fresh(3.5, 0.13), CFG)
    assert not at_rest.failed and not at_rest.decisive and at_rest.score == 0.13
    many_old = freshness_finding(fresh(12.0, 0.4), CFG)  # the median still young: the share decides, with hysteresis
    assert many_old.failed and not many_old.decisive and many_old.threshold == 0.2


def test_a_median_age_past_its_limit_fails_decisively_and_says_so() -> None:
    stopped = freshness_finding(fresh(19.0, 0.2), CFG)  # the pipeline stopped ~15 s ago: the share not yet over
    assert stopped.failed and stopped.decisive
    assert (stopped.score, stopped.threshold) == (19.0, 15.0)
    assert "median age" in stopped.message and "19s" in stopped.message
    all_missing = freshness_finding(fresh(None, 1.0), CFG)  # no age at all (every read fell back): the share
    assert all_missing.failed and not all_missing.decisive


def test_without_a_median_limit_only_the_share_counts() -> None:
    finding = freshness_finding(fresh(500.0, 0.1), MonitorSettings(max_feature_age_s=30.0))
    assert not finding.failed and not finding.decisive


def finding(failed: bool, decisive: bool = False) -> Finding:
    return Finding("freshness.stale", None, 0.0, 0.0, failed, "", decisive=decisive)


def test_a_decisive_failure_alerts_on_its_first_window_and_once_per_episode() -> None:
    hysteresis = Hysteresis(2, 3)
    assert hysteresis.update([finding(True)]) == []                       # one ordinary failure: wait for a second
    assert hysteresis.update([finding(False)]) == []
    assert [f.failed for f in hysteresis.update([finding(True, decisive=True)])] == [True]  # at once
    assert hysteresis.update([finding(True, decisive=True)]) == []        # the same episode
    for _ in range(3):
        hysteresis.update([finding(False)])                              # three passes re-arm it
    assert len(hysteresis.update([finding(True, decisive=True)])) == 1


def test_a_decisive_check_that_passes_does_not_alert() -> None:
    assert Hysteresis(2, 3).update([finding(False, decisive=True)]) == []


def test_missing_labels_are_decisive_only_where_it_is_known_when_they_are_due() -> None:
    from mlgameday.monitor.alerts import judged_findings
    from mlgameday.monitor.results import WindowResult

    window = WindowResult(index=3, model_tag="m", status="ok", n_rows=200, n_labeled=20, label_coverage=0.1)
    for due, decisive in ((10.0, True), (None, False)):
        (labels,) = [f for f in judged_findings(window, MonitorSettings(labels_due_s=due)) if f.kind == "labels.missing"]
        assert labels.failed and labels.decisive == decisive
