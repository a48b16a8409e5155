"""The monitor's Evidently workspace keeps the newest windows only, and opens without blocking."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from evidently import Report
from evidently.metrics import ValueDrift

from mlgameday.config import load_settings
from mlgameday.monitor.records import Evidence


def snapshot(shift: float):
    reference = pd.DataFrame({"x": [float(i % 10) for i in range(100)]})
    return Report([ValueDrift(column="x")]).run(reference + shift, reference)


def test_the_workspace_keeps_the_newest_runs_and_a_restart_finds_them(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", monitor={"workspace_runs": 3})
    evidence = Evidence(settings)
    ids = [evidence.save_report(window, snapshot(window / 10), html=False)[2] for window in range(1, 6)]
    workspace, project = evidence.workspace()
    assert sorted(str(run) for run in workspace.list_runs(project.id)) == sorted(ids[-3:])
    again = Evidence(settings)                       # a restarted monitor: same project, same runs
    workspace, project_again = again.workspace()
    assert project_again.id == project.id
    assert sorted(str(run) for run in workspace.list_runs(project.id)) == sorted(ids[-3:])
    assert len(list((tmp_path / "run" / "data" / "monitor" / "reports").glob("window-*.json"))) == 5
