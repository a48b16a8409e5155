"""Quality with late labels (bias sign, waiting for labels) and feature freshness."""

from __future__ import annotations

import pytest

from mlgameday.monitor.synthetic import Traffic

from .conftest import SEED, WINDOW, judged

pytestmark = pytest.mark.integration  # needs a real broker / server


@pytest.mark.parametrize("bias_s", [300.0, -300.0])
def test_biased_model_raises_a_quality_alert_with_the_right_sign(monitor_run, bias_s):
    run = monitor_run()
    run.send(Traffic(seed=SEED).events(WINDOW * 3, bias_s=bias_s))
    service = run.run_until(judged(3))

    bias_alerts = [a for a in run.alerts() if a.kind == "quality.bias"]
    assert len(bias_alerts) == 1, run.alerts()
    alert = bias_alerts[0]
    assert alert.window == 2  # hysteresis: 2 of the last 3 windows
    assert (alert.score > 0) == (bias_s > 0)
    assert abs(alert.score - bias_s) < 40 and abs(alert.score) > alert.threshold
    assert all(r.quality is not None and (r.quality.bias > 0) == (bias_s > 0) for r in service.results)
    # The drift of the inputs is not what failed: no drift alert for a biased model.
    assert not [a for a in run.alerts() if a.kind == "drift.detected"]


def test_delayed_labels_make_quality_wait_then_it_is_judged(monitor_run):
    run = monitor_run(label_wait_s=60.0)
    held = run.send(Traffic(seed=SEED).events(WINDOW * 2), labels=False)
    service = run.start()
    run.run_until(lambda s: s.book.pending_predictions() >= WINDOW * 2, timeout_s=30)
    # Both windows are closed and waiting for their labels: nothing judged, nothing lost.
    assert len(service.results) == 0 and len(service.book.pending) == 2
    for label in held:
        run.producer.send(run.settings.topics.trips_completed, value=label.to_bytes())
    run.producer.flush(30)
    run.run_until(judged(2))
    assert [r.quality_status for r in service.results] == ["ok", "ok"]
    assert [r.n_labeled for r in service.results] == [WINDOW, WINDOW]
    assert not [a for a in run.alerts() if a.kind.startswith("quality")]


def test_labels_that_never_come_are_counted_and_quality_is_not_judged(monitor_run):
    run = monitor_run(label_wait_s=1.0)
    run.send(Traffic(seed=SEED).events(WINDOW * 2), labels=False)
    service = run.run_until(judged(2))
    assert [r.status for r in service.results] == ["ok", "ok"]
    assert all(r.quality is None and r.quality_status.startswith("too few labels") for r in service.results)
    assert service.book.counts.predictions_unlabeled == WINDOW * 2
    kinds = {a.kind for a in run.alerts()}
    assert "labels.missing" in kinds and not {k for k in kinds if k.startswith("quality")}


def test_stopped_ingest_ageing_features_raise_a_freshness_alert(monitor_run):
    run = monitor_run()
    traffic = Traffic(seed=SEED)
    # Ingest stops after window 2: the online features the predictions use keep ageing past the TTL.
    for age in (30.0, 30.0, 1800.0, 3700.0, 5500.0, 7300.0):
        run.send(traffic.events(WINDOW, feature_age_s=age))
    service = run.run_until(judged(6))

    fresh = [a for a in run.alerts() if a.kind == "freshness.stale"]
    assert len(fresh) == 1 and fresh[0].window == 5, run.alerts()
    assert fresh[0].score > 0.9
    ages = [r.freshness.p95_s for r in service.results]  # two windows at ~30 s (noisy), then ageing
    assert max(ages[:2]) < ages[2] and ages[2:] == sorted(ages[2:]) and ages[-1] > 3600



def test_a_freshness_alert_does_not_wait_for_the_labels(monitor_run):
    run = monitor_run(label_wait_s=120.0, screen_after_s=0.0)
    traffic = Traffic(seed=SEED)
    # Labels withheld: no window can be judged for quality, yet stale features are known at once.
    run.send(traffic.events(WINDOW * 2, feature_age_s=5500.0), labels=False)
    service = run.run_until(lambda s: bool(s.hysteresis.active), timeout_s=30)

    fresh = [a for a in run.alerts() if a.kind == "freshness.stale"]
    assert [a.window for a in fresh] == [2], run.alerts()
    assert len(service.results) == 0 and len(service.book.pending) == 2  # both still wait for their labels
    assert fresh[0].evidence_path and fresh[0].evidence_path.endswith("-000002.json")
