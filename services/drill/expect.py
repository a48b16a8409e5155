"""Check a scenario's expectations against a recorded timeline."""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any

from .scenario import Condition, Expectation
from .signals import is_alert
from .timeline import Timeline


@dataclass
class Outcome:
    """One expectation's verdict: fired or not, when (seconds after its reference moment)."""

    expectation: Expectation
    fired: bool
    after_s: float | None = None
    value: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"signal": self.expectation.signal, "expected": self.expectation.describe(),
                "after": self.expectation.after, "fired": self.fired, "after_s": self.after_s,
                "value": self.value, "reason": self.reason}


def check(expectation: Expectation, timeline: Timeline, refs: dict[str, float],
          time_factor: float = 1.0) -> Outcome:
    """Did the signal fire in [ref, ref + within * time_factor]?"""
    ref = refs.get(expectation.after)
    if ref is None:
        return Outcome(expectation, False, reason=f"the {expectation.after} never happened")
    bound = expectation.within * time_factor
    if is_alert(expectation.signal):
        for mark in timeline.marks_of("alert"):
            if mark.name != expectation.signal or not (ref <= mark.t <= ref + bound):
                continue
            if expectation.columns and mark.detail.get("column") not in expectation.columns:
                continue
            score = mark.detail.get("score")
            if expectation.min_score is not None and (score is None or score < expectation.min_score):
                continue
            return Outcome(expectation, True, round(mark.t - ref, 1), score)
        seen = [m for m in timeline.marks_of("alert") if m.name == expectation.signal]
        reason = (f"no {expectation.signal} alert within {bound:.0f}s"
                  + (f" ({len(seen)} outside the bound or on other columns)" if seen else ""))
        return Outcome(expectation, False, reason=reason)
    try:
        above, below = thresholds(expectation, timeline, refs.get("fault"))
    except NoBaseline as exc:
        return Outcome(expectation, False, reason=str(exc))
    hold = (expectation.hold or 0.0) * time_factor
    later = [(t, v) for t, v in timeline.series(expectation.signal) if ref <= t <= ref + bound + hold]
    points = [(t, v) for t, v in later if t <= ref + bound]
    run = _held_run(later, above, below, hold, start_by=ref + bound)
    if run is not None:
        return Outcome(expectation, True, round(run[0] - ref, 1), run[1])
    if not points:
        return Outcome(expectation, False, reason=f"no {expectation.signal} samples within {bound:.0f}s")
    extreme = max(v for _, v in points) if above is not None else min(v for _, v in points)
    if hold and _crosses(extreme, above, below):
        return Outcome(expectation, False, value=extreme,
                       reason=f"{expectation.signal} passed its threshold but did not hold for {hold:.0f}s")
    return Outcome(expectation, False, value=extreme,
                   reason=f"{expectation.signal} reached {extreme:.3g}, never "
                          + (f"above {above:.3g}" if above is not None else f"below {below:.3g}"))


class NoBaseline(Exception):
    """A warm-up-relative threshold without warm-up samples to be relative to."""


def thresholds(item: Expectation | Condition, timeline: Timeline, warmup_end: float | None) -> tuple[float | None, float | None]:
    """The absolute (above, below) of an expectation or condition: as written, or times the warm-up mean."""
    if not item.baseline:
        return item.above, item.below
    first_fault = timeline.first_mark("fault")
    end = warmup_end if warmup_end is not None else (first_fault.t if first_fault else None)
    level = warmup_level(timeline, item.signal, end)
    if level is None:
        raise NoBaseline(f"no {item.signal} samples during the warm-up to compare with")
    return (item.above * level if item.above is not None else None,
            item.below * level if item.below is not None else None)


def warmup_level(timeline: Timeline, signal: str, until: float | None) -> float | None:
    """The series' mean before the first fault (None without samples)."""
    values = [v for t, v in timeline.series(signal) if until is None or t < until]
    return sum(values) / len(values) if values else None


def check_all(expectations: list[Expectation], timeline: Timeline, refs: dict[str, float],
              time_factor: float = 1.0) -> list[Outcome]:
    return [check(e, timeline, refs, time_factor) for e in expectations]


def holds(condition: Condition, timeline: Timeline, since: float) -> tuple[bool, str]:
    """Did the series stay on the right side of its threshold for `hold` seconds, from `since` on?

    True as soon as the samples of any window of `hold` seconds after `since` all pass.
    """
    try:
        above, below = thresholds(condition, timeline, None)
    except NoBaseline as exc:
        return False, str(exc)
    points = [(t, v) for t, v in timeline.series(condition.signal) if t >= since]
    if _held_run(points, above, below, condition.hold) is not None:
        return True, f"{condition.signal} held {_side(above, below)} for {condition.hold:.0f}s"
    last = points[-1][1] if points else None
    return False, (f"{condition.signal} did not stay {_side(above, below)} for {condition.hold:.0f}s"
                   + (f" (last value {last:.3g})" if last is not None else " (no samples)"))


def _held_run(points: list[tuple[float, float]], above: float | None, below: float | None, hold: float,
              start_by: float = math.inf) -> tuple[float, float] | None:
    """(start, value at `hold` seconds) of the first run of samples past the threshold that lasts
    `hold` seconds and starts by `start_by`; None when there is none."""
    run_start = None
    for t, value in points:
        if not _crosses(value, above, below):
            run_start = None
            continue
        if run_start is None:
            if t > start_by:
                return None
            run_start = t
        if t - run_start >= hold:
            return run_start, value
    return None


def _side(above: float | None, below: float | None) -> str:
    return f"above {above:.3g}" if above is not None else f"below {below:.3g}"


def _crosses(value: float, above: float | None, below: float | None) -> bool:
    return (above is not None and value > above) or (below is not None and value < below)
