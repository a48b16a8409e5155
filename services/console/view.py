"""What a viewer sees of the console's state, and the live stream of it (server-sent events).

Blind means blind: while a blind drill runs or waits for its answer, the candidate's view names no
scenario and shows no fault, no recovery, no verdict on an alert and no expected signal — only what
production shows anyone (the components, the alerts, the dead letters, the signals, the monitor's
windows). The interviewer's view hides nothing.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from ..drill.debrief import PLOTS
from ..drill.expect import check_all
from ..drill.precision import judge_alerts
from ..drill.runner import Timing
from ..drill.timeline import Mark
from ..monitor.views import latest_windows, window_row
from .live import Console, DrillJob

# What a hidden view keeps of the timeline: what production itself shows.
VISIBLE_WHEN_HIDDEN = frozenset({"alert", "dlq", "action"})
VISIBLE_PHASES_WHEN_HIDDEN = frozenset({"end", "stopped by the user"})
WINDOWS_SHOWN = 30
SERIES = tuple(name for name, _ in PLOTS)  # the series the debrief plots, streamed as they are sampled


def plot_titles() -> dict[str, str]:
    """The debrief's plots, in its order: series -> title (the live view draws the same ones)."""
    return dict(PLOTS)


def drill_header(console: Console, job: DrillJob | None, hidden: bool) -> dict[str, Any] | None:
    if job is None:
        return None
    scenario = job.scenario
    timing = Timing.of(scenario, job.fast)
    timeline = job.timeline
    header: dict[str, Any] = {
        "id": job.id, "state": job.state, "blind": job.blind, "hidden": hidden,
        "name": None if hidden else scenario.name,
        "title": "a hidden scenario" if hidden else scenario.title,
        "teaches": None if hidden else scenario.teaches,
        "mode": ("accelerated" if job.fast else "normal") + (", blind" if job.blind else "")
                + (", picked at random" if job.picked_at_random else ""),
        "progress": job.progress.line, "steps": list(job.progress.steps),
        "planned_s": timing.warmup + timing.duration,
        "elapsed_s": round(timeline.now(), 1) if timeline is not None and job.active else None,
        "problem": vars(job.problem) if job.problem else None,
    }
    oncall = getattr(job.drill, "oncall", None)
    if job.blind and job.active and oncall is not None and oncall.response.paged_at is not None:
        # Paged: what the candidate is told (symptoms, never the scenario); the faults stay on until the answer.
        header.update(paged=True, symptoms=scenario.symptoms)
    if job.result is not None:
        header["folder"] = job.result.folder.name
        if not hidden:
            header.update(passed=job.result.passed, stopped=job.result.stopped,
                          debrief=f"/runs/{job.result.folder.name}" if job.result.debrief else None)
    return header


def visible_mark(mark: Mark, hidden: bool) -> bool:
    if not hidden:
        return True
    if mark.kind == "phase":
        return mark.name in VISIBLE_PHASES_WHEN_HIDDEN
    return mark.kind in VISIBLE_WHEN_HIDDEN


def mark_row(mark: Mark, verdict: str | None) -> dict[str, Any]:
    detail = {k: v for k, v in mark.detail.items() if v not in (None, "", {}, []) and k != "evidence_path"}
    row: dict[str, Any] = {"t": round(mark.t, 1), "kind": mark.kind, "name": mark.name,
                           "detail": ", ".join(f"{k}={_short(v)}" for k, v in detail.items())[:200]}
    if verdict is not None:
        row["verdict"] = verdict
    if path := mark.detail.get("evidence_path"):
        row["report"] = report_url(path)
    return row


def report_url(path: str) -> str | None:
    """An Evidently report of the monitor's folder, as the console serves it."""
    return f"/reports/{Path(path).name}" if path and str(path).endswith(".html") else None


def drill_windows(console: Console, t0: float) -> list[dict[str, Any]]:
    """The monitor's windows judged since the drill started (t: when, on the drill's clock), each with
    its report. Judged, not filled: a busy monitor judges a window of early traffic a minute late, and
    that verdict is what the drill saw."""
    return drill_window_rows(latest_windows(console.settings, 200), t0)


def drill_window_rows(windows: list[dict[str, Any]], t0: float) -> list[dict[str, Any]]:
    rows = []
    for window in windows:
        judged = window.get("judged_at")
        try:
            judged_at = datetime.fromisoformat(judged).timestamp() if judged else None
        except ValueError:
            judged_at = None
        if judged_at is None or judged_at < t0:
            continue
        row = window_row(window)
        rows.append({"window": row["window"], "t": round(judged_at - t0, 1), "status": row["status"],
                     "drift_share": row["drift_share"], "worst_column": row["worst_column"], "mae_s": row["mae_s"],
                     "alerts": [a.get("kind", a) if isinstance(a, dict) else a for a in row["alerts"]],
                     "report": report_url(window.get("report_html") or "")})
    return rows[-WINDOWS_SHOWN:]


class Stream:
    """One viewer's cursor over the live state: each call returns what changed since the last one."""

    def __init__(self, console: Console, interviewer: bool) -> None:
        self.console, self.interviewer = console, interviewer
        self._job_id: int | None = None
        self._marks = 0
        self._points: dict[str, int] = {}
        self._sent: dict[str, str] = {}
        self._windows_at = 0.0

    def update(self) -> dict[str, Any] | None:
        console, job = self.console, self.console.job
        hidden = console.blind_hidden() and not self.interviewer
        update: dict[str, Any] = {}
        if (job.id if job else None) != self._job_id:
            self._job_id, self._marks, self._points, self._sent = (job.id if job else None), 0, {}, {}
            update["reset"] = True
        self._changed(update, "drill", drill_header(console, job, hidden))
        self._changed(update, "components", console.components())
        self._changed(update, "panel", not hidden)
        if not hidden:
            self._changed(update, "hand_faults", [vars(f) for f in console.hand_faults])
        self._changed(update, "answer", answer_state(console))
        timeline = job.timeline if job else None
        if timeline is not None:
            marks = timeline.marks[:]  # appended to by the drill's threads: a copy, then the new ones
            verdicts = {} if hidden else _verdicts(job)
            new = marks[self._marks:]
            self._marks = len(marks)
            rows = [mark_row(m, verdicts.get(id(m))) for m in new if visible_mark(m, hidden)]
            if rows:
                update["marks"] = rows
            series = {}
            for name in SERIES:
                points = timeline.series(name)
                start = self._points.get(name, 0)
                if len(points) > start:
                    series[name] = [[round(t, 2), v] for t, v in points[start:]]
                    self._points[name] = len(points)
            if series:
                update["series"] = series
            if not hidden:
                self._changed(update, "outcomes", _outcomes(job))
            if time.monotonic() - self._windows_at > 2.0:
                self._windows_at = time.monotonic()
                self._changed(update, "windows", drill_windows(console, timeline.t0))
        return update or None

    def _changed(self, update: dict[str, Any], key: str, value: Any) -> None:
        text = json.dumps(value, default=str, sort_keys=True)
        if self._sent.get(key) != text:
            self._sent[key] = text
            update[key] = value



def answer_state(console: Console) -> dict[str, Any] | None:
    job = console.answer_job
    if job is None:
        return None
    state: dict[str, Any] = {"checking": job.active, "progress": job.progress.line,
                             "problem": vars(job.problem) if job.problem else None}
    if job.score is not None:
        state["score"] = round(job.score.total, 3)
    return state


def _verdicts(job: DrillJob) -> dict[int, str]:
    """Every alert of the running drill judged now (precision.py), by its mark."""
    timeline = job.timeline
    alerts = timeline.marks_of("alert")
    judged = judge_alerts(job.scenario, timeline, job.drill.refs.get("fault"), job.drill.control)
    return {id(mark): verdict.verdict for mark, verdict in zip(alerts, judged)}


def _outcomes(job: DrillJob) -> list[dict[str, Any]]:
    """The scenario's expected signals, fired or not yet (final once the drill ends)."""
    if job.result is not None:
        return [o.as_dict() for o in job.result.outcomes]
    outcomes = check_all(job.scenario.expect, job.timeline, dict(job.drill.refs), Timing.of(job.scenario, job.fast).factor)
    return [{**o.as_dict(), "reason": "" if o.fired else "not yet"} for o in outcomes]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)
