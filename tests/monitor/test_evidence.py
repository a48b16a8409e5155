"""The monitor keeps the newest windows' evidence only (workspace runs and report files), never overwrites
a report of an earlier monitor process, and opens its workspace without blocking."""

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


def test_the_newest_windows_are_kept_and_a_restart_finds_them_and_adds_its_own(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", monitor={"keep_windows": 3})
    evidence = Evidence(settings)
    ids = [evidence.save_report(window, snapshot(window / 10), html=False)[2] for window in range(1, 6)]
    workspace, project = evidence.workspace()
    assert sorted(str(run) for run in workspace.list_runs(project.id)) == sorted(ids[-3:])
    again = Evidence(settings)                       # a restarted monitor: same project, same runs
    workspace, project_again = again.workspace()
    assert project_again.id == project.id
    assert sorted(str(run) for run in workspace.list_runs(project.id)) == sorted(ids[-3:])
    reports = tmp_path / "run" / "data" / "monitor" / "reports"
    first_run = sorted(reports.glob("window-*.json"))
    assert len(first_run) == 3 and first_run[-1].name.endswith("-000005.json")
    # The restarted monitor numbers its windows from 1 again: its reports are new files, the newest.
    json_path, html_path, _ = again.save_report(1, snapshot(0.7), html=True)
    kept = sorted(reports.glob("window-*.json"))
    assert kept == [*first_run[1:], Path(json_path)]
    assert Path(html_path).is_file()


def test_a_run_torn_by_a_kill_mid_write_is_set_aside_and_the_workspace_opens(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    evidence = Evidence(settings)
    kept = evidence.save_report(1, snapshot(0.1), html=False)[2]
    torn = evidence.save_report(2, snapshot(0.2), html=False)[2]
    workspace, project = evidence.workspace()
    files = {p.stem: p for p in (tmp_path / "run" / "data" / "monitor" / "workspace").glob("*/snapshots/*.json")}
    files[torn].write_bytes(b"")  # what a monitor killed while Evidently wrote the run leaves
    again = Evidence(settings)    # the monitor's next start (Evidently alone fails on the empty file)
    workspace, project_again = again.workspace()
    assert project_again.id == project.id
    assert [str(run) for run in workspace.list_runs(project.id)] == [kept]
    assert files[torn].with_name(files[torn].name + ".torn").is_file() and not files[torn].exists()
    assert again.save_report(3, snapshot(0.3), html=False)[2] in {str(r) for r in workspace.list_runs(project.id)}


def test_a_run_pruned_by_another_monitor_while_the_workspace_opens_is_read_again(tmp_path: Path, monkeypatch) -> None:
    from evidently.ui.workspace import Workspace

    real_create, calls = Workspace.create, []

    def pruned_once(path: str):  # as when the previous pod of a rollout deletes a run the open listed
        calls.append(path)
        if len(calls) == 1:
            raise FileNotFoundError(f"{path}/project/snapshots/pruned.json")
        return real_create(path)

    monkeypatch.setattr(Workspace, "create", staticmethod(pruned_once))
    evidence = Evidence(load_settings(run_dir=tmp_path / "run"))
    workspace, project = evidence.workspace()
    assert len(calls) == 2 and project.name.startswith("mlgameday")
