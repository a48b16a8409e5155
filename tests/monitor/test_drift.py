"""Drift: a shifted column alerts within 2 windows, alone; no shift means no alert at all."""

from __future__ import annotations

import pytest

import httpx
from evidently.core.report import Snapshot
from evidently.ui.workspace import Workspace

from mlgameday.monitor.records import project_name, workspace_dir
from mlgameday.monitor.synthetic import Shift, Traffic
from mlgameday.runtime.admin_http import AdminServer

from .conftest import SEED, WINDOW, judged

pytestmark = pytest.mark.integration  # needs a real broker / server

SHIFT_AT = 4  # windows 1-4 clean, 5-8 with longer trips (airport surge)


def test_shift_in_trip_distance_alerts_on_that_column_only(monitor_run):
    run = monitor_run()
    traffic = Traffic(seed=SEED)
    run.send(traffic.events(WINDOW * SHIFT_AT))
    run.send(traffic.events(WINDOW * 4, shifts=(Shift("trip_distance", multiply=1.6),)))
    service = run.start()
    admin = AdminServer(0, ready=service.ready, registry=service.registry, token=None).start()
    try:
        run.run_until(judged(8))
        metrics = httpx.get(f"http://127.0.0.1:{admin.port}/metrics").text
    finally:
        admin.stop()

    assert [r.status for r in service.results] == ["ok"] * 8
    drift_alerts = [a for a in run.alerts() if a.kind == "drift.detected"]
    assert {a.column for a in drift_alerts} == {"trip_distance"}, drift_alerts
    first = min(a.window for a in drift_alerts)
    assert SHIFT_AT < first <= SHIFT_AT + 2
    alert = drift_alerts[0]
    assert alert.score > alert.threshold and alert.evidence_path
    # Before the shift, no window saw trip_distance drift; after it, Evidently's verdict is drift.
    verdict = {r.index: {d.column: d.drifted for d in r.drift} for r in service.results}
    assert not any(verdict[i]["trip_distance"] for i in range(1, SHIFT_AT + 1))
    assert all(verdict[i]["trip_distance"] for i in range(SHIFT_AT + 1, 9))
    assert 'gameday_monitor_drift_score{column="trip_distance"}' in metrics
    assert 'gameday_monitor_alert_active{column="trip_distance",kind="drift.detected"} 1.0' in metrics


def test_same_seed_without_shift_raises_no_alert_and_fills_the_workspace(monitor_run):
    run = monitor_run(save_html=True)
    run.send(Traffic(seed=SEED).events(WINDOW * 10))
    service = run.run_until(judged(10), timeout_s=90)

    assert len(service.results) == 10
    assert [r.status for r in service.results] == ["ok"] * 10
    assert run.alerts() == []
    assert all(r.quality is not None and r.quality_status == "ok" for r in service.results)
    # The Evidently workspace (what `evidently ui --workspace` serves): one project, one run per window.
    workspace = Workspace(str(workspace_dir(run.settings)))
    projects = workspace.list_projects()
    assert [p.name for p in projects] == [project_name(run.settings)]
    runs = workspace.list_runs(projects[0].id)
    assert len(runs) == 10
    loaded = [workspace.get_run(projects[0].id, run_id) for run_id in runs]
    assert sorted(int(s.metadata["window"]) for s in loaded) == list(range(1, 11))
    metrics = Snapshot.load_model(loaded[0]).dict()["metrics"]
    assert {m["config"]["type"].rsplit(":", 1)[-1] for m in metrics} >= {"ValueDrift", "DriftedColumnsCount", "MAE"}
    html = [r.report_html for r in service.results]
    assert all(h and h.endswith(".html") for h in html)
