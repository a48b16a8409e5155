"""Where the monitor keeps its evidence, under <run>/data/monitor/:

- workspace/        an Evidently workspace, one project per stack, one run per judged window
                    (`evidently ui --workspace <run>/data/monitor/workspace` browses it)
- reports/          window-<monitor start>-000001.html / .json (Evidently's HTML and snapshot JSON;
                    named by the monitor's start, so a restarted monitor never overwrites them)
- windows.jsonl     one summary line per judged window (what `gameday monitor` shows)
- alerts.jsonl      every alert published (what `gameday alerts` shows without a broker)
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import Settings
from ..contracts import Alert


# Opening the workspace reads every run it lists; another monitor pruning meanwhile makes a read fail.
WORKSPACE_OPEN_TRIES = 3


def monitor_dir(settings: Settings) -> Path:
    return settings.run_path / "data" / "monitor"


def workspace_dir(settings: Settings) -> Path:
    return monitor_dir(settings) / "workspace"


def reports_dir(settings: Settings) -> Path:
    return monitor_dir(settings) / "reports"


def windows_file(settings: Settings) -> Path:
    return monitor_dir(settings) / "windows.jsonl"


def alerts_file(settings: Settings) -> Path:
    return monitor_dir(settings) / "alerts.jsonl"


def project_name(settings: Settings) -> str:
    return f"mlgameday {settings.run_path.name}"


def set_aside_torn_snapshots(workspace: Path) -> list[Path]:
    """Rename each workspace run whose JSON does not parse (a monitor killed while Evidently wrote it: an
    empty file) to .json.torn: Evidently reads every run when the workspace opens and fails on such a file,
    so the monitor failed every window after it (seen on a cluster, a pod deleted mid-write)."""
    torn = []
    for path in workspace.glob("*/snapshots/*.json"):
        try:
            json.loads(path.read_bytes())
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            path.rename(path.with_name(path.name + ".torn"))
            torn.append(path)
    if torn:
        logging.getLogger("monitor").warning("set aside torn workspace runs: %s", ", ".join(p.name for p in torn))
    return torn


class Evidence:
    """Writes a window's report (workspace run + HTML + JSON) and the local records.

    The workspace opens in the background: Evidently reads every run it holds when it opens
    (seconds), and the monitor should be ready before its first window is due, not after.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reports = reports_dir(settings)
        self.reports.mkdir(parents=True, exist_ok=True)
        # Window numbers restart with the process; the start time keeps report names unique and in order.
        self.started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self._workspace: tuple[Any, Any] | BaseException | None = None
        self._opening = threading.Thread(target=self._open_workspace, name="monitor-workspace", daemon=True)
        self._opening.start()

    def _open_workspace(self) -> None:
        try:
            from evidently.ui.workspace import Workspace

            set_aside_torn_snapshots(workspace_dir(self.settings))
            for attempt in range(WORKSPACE_OPEN_TRIES):
                try:
                    workspace = Workspace.create(str(workspace_dir(self.settings)))
                    break
                except FileNotFoundError:
                    # A run listed, then pruned before it was read: the previous monitor pod of a rollout still
                    # judging on the same volume (seen on a cluster: the new pod crashed). Read the runs again.
                    if attempt == WORKSPACE_OPEN_TRIES - 1:
                        raise
            name = project_name(self.settings)
            found = workspace.search_project(name)
            project = found[0] if found else workspace.create_project(
                name, description=f"TripTime live windows of the stack in {self.settings.run_path}")
            self._workspace = (workspace, project)
        except Exception as exc:  # reported where it is used, in the judging loop
            self._workspace = exc

    def workspace(self) -> tuple[Any, Any]:
        """(workspace, project), once open."""
        self._opening.join()
        if isinstance(self._workspace, BaseException):
            raise self._workspace
        assert self._workspace is not None
        return self._workspace

    def report_path(self, window: int, html: bool) -> str:
        """Where the window's report is (or will be, once it is judged): its HTML, else its JSON."""
        return str(self._stem(window).with_suffix(".html" if html else ".json"))

    def _stem(self, window: int) -> Path:
        return self.reports / f"window-{self.started}-{window:06d}"

    def save_report(self, window: int, snapshot: Any, html: bool) -> tuple[str, str | None, str]:
        """(json path, html path or None, workspace run id)."""
        stem = self._stem(window)
        snapshot.save_json(str(stem.with_suffix(".json")))
        html_path = None
        if html:
            snapshot.save_html(str(stem.with_suffix(".html")))
            html_path = str(stem.with_suffix(".html"))
        workspace, project = self.workspace()
        ref = workspace.add_run(project.id, snapshot, name=f"window {window}")
        self._prune(workspace, project.id)
        return str(stem.with_suffix(".json")), html_path, str(ref.id)

    def _prune(self, workspace: Any, project_id: Any) -> None:
        """Keep the newest monitor.keep_windows windows: workspace runs (ids are UUIDv7: they sort by
        time) and report files (names sort by monitor start, then window)."""
        keep = self.settings.monitor.keep_windows
        runs = sorted(workspace.list_runs(project_id), key=str)
        for old in runs[:max(0, len(runs) - keep)]:
            workspace.delete_run(project_id, old)
        stems = sorted({path.with_suffix("") for path in self.reports.glob("window-*.*")})
        for old_stem in stems[:max(0, len(stems) - keep)]:
            for suffix in (".json", ".html"):
                old_stem.with_suffix(suffix).unlink(missing_ok=True)

    def record_window(self, summary: dict[str, Any]) -> None:
        _append(windows_file(self.settings), summary)

    def record_alert(self, alert: Alert) -> None:
        _append(alerts_file(self.settings), alert.model_dump(mode="json"))


def _append(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(data, default=str) + "\n")


def read_jsonl(path: Path, last: int | None = None) -> list[dict[str, Any]]:
    """The records of a .jsonl file (a torn last line, from a crash mid-write, is skipped)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows[-last:] if last else rows
