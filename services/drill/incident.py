"""The incident of a drill as the impact model needs it: when it began and ended, and what each priced
signal measured over it against the warm-up before the fault (impact/estimate.py turns that into money).

The incident runs from the first fault to the first of: the candidate's mitigation verified, a
recovery of the fault, the end of the watch. Its signals are the means of the timeline's samples
in that window; the baseline is their mean over the warm-up (before the fault).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import GamedayError
from ..impact import IncidentEstimate, IncidentSignals, Measured, estimate_incident
from ..impact.model import ImpactModel, default_impact_model
from .timeline import Timeline

# The series the impact model prices (drill/watch.py samples them), with their units.
PRICED = {"served_mae_s": "s", "late_share": "share", "fallback_share": "share", "latency_over_slo_ms": "ms",
          "slow_share": "share", "unanswered_share": "share", "latency_p99_ms": "ms"}


def incident_window(timeline: Timeline, fault_at: float | None) -> tuple[float, float, str] | None:
    """(start, end, why it ended) in drill seconds, or None when no fault fired."""
    if fault_at is None:
        return None
    # A blind drill's check of the candidate's fix, or a drill's fix tried live, marks it as a phase.
    candidates = [(m.t, "mitigation verified") for m in timeline.marks_of("phase")
                  if m.name == "mitigation verified" and m.t >= fault_at]
    candidates += [(m.t, f"{m.name} recovered") for m in timeline.marks_of("recover") if m.t >= fault_at]
    if candidates:
        end, reason = min(candidates)
        return fault_at, end, reason
    last = max([p[0] for points in timeline.samples.values() for p in points[-1:]] + [fault_at])
    return fault_at, last, "still on at the end of the watch"


def _mean(points: list[tuple[float, float]], start: float, end: float) -> tuple[float | None, int]:
    values = [v for t, v in points if start <= t <= end]
    return (sum(values) / len(values) if values else None), len(values)


def measure(timeline: Timeline, name: str, window: tuple[float, float]) -> Measured:
    points = timeline.series(name)
    incident, n = _mean(points, *window)
    baseline, _ = _mean(points, 0.0, window[0] - 1e-9)
    return Measured(name, PRICED[name], incident, baseline, n)


def incident_signals(timeline: Timeline, fault_at: float | None) -> IncidentSignals | None:
    """The priced signals of the drill's incident, or None when nothing was injected."""
    found = incident_window(timeline, fault_at)
    if found is None:
        return None
    start, end, reason = found
    window = (start, end)
    return IncidentSignals(duration_s=max(0.0, end - start), window=window, end_reason=reason,
                           **{name: measure(timeline, name, window) for name in PRICED})


def incident_estimate(timeline: Timeline, fault_at: float | None,
                      model: ImpactModel | None = None) -> IncidentEstimate | None:
    """The incident's cost from what this drill measured; None when no fault fired (a control run)."""
    signals = incident_signals(timeline, fault_at)
    if signals is None:
        return None
    return estimate_incident(model or default_impact_model(), signals)


def estimate_drill(folder: Path, model: ImpactModel | None = None) -> IncidentEstimate | None:
    """A recorded drill's incident costed again (with another impact model, say) from its run folder."""
    timeline_path, result_path = folder / "timeline.jsonl", folder / "result.json"
    if not timeline_path.is_file():
        raise GamedayError(f"no drill recorded in {folder} (no timeline.jsonl)",
                           hint="pass a folder of .gameday/drills/ (each drill writes one)")
    refs = json.loads(result_path.read_text()).get("refs", {}) if result_path.is_file() else {}
    timeline = Timeline.load(timeline_path)
    fault = refs.get("fault")
    if fault is None and (mark := timeline.first_mark("fault")) is not None:
        fault = mark.t
    return incident_estimate(timeline, fault, model)
