"""Every alert of a drill, judged: expected, a consequence the scenario allows, baseline noise, or
unexpected. A stack at rest raises no alert, so anything before the first fault is noise, and an
alert after it that the scenario neither expects nor allows is a finding of its own — a drill
passes only when there is none of either.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from .scenario import AlertRef, Scenario
from .signals import is_alert
from .timeline import Timeline

EXPECTED, CONSEQUENCE, BASELINE, UNEXPECTED = "expected", "consequence", "baseline noise", "unexpected"
VERDICTS = (EXPECTED, CONSEQUENCE, BASELINE, UNEXPECTED)


@dataclass(frozen=True)
class JudgedAlert:
    t: float
    kind: str
    column: str | None
    score: float | None
    verdict: str

    @property
    def name(self) -> str:
        return f"{self.kind}" + (f" on {self.column}" if self.column else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge_alerts(scenario: Scenario, timeline: Timeline, fault_at: float | None, control: bool = False) -> list[JudgedAlert]:
    """Each alert mark of the timeline with its verdict. `fault_at`: when the first fault fired
    (None: it never did); in a control run nothing is injected, so every alert is noise."""
    expected = [AlertRef(signal=e.signal, columns=e.columns) for e in scenario.expect if is_alert(e.signal)]
    judged = []
    for mark in timeline.marks_of("alert"):
        column = mark.detail.get("column")
        if control or fault_at is None or mark.t < fault_at:
            verdict = BASELINE
        elif any(ref.matches(mark.name, column) for ref in expected):
            verdict = EXPECTED
        elif any(ref.matches(mark.name, column) for ref in scenario.may_alert):
            verdict = CONSEQUENCE
        else:
            verdict = UNEXPECTED
        score = mark.detail.get("score")
        judged.append(JudgedAlert(round(mark.t, 1), mark.name, column,
                                  float(score) if isinstance(score, (int, float)) else None, verdict))
    return judged


def tally(alerts: list[JudgedAlert]) -> dict[str, int]:
    counts = Counter(a.verdict for a in alerts)
    return {verdict: counts.get(verdict, 0) for verdict in VERDICTS}


def false_alarms(alerts: list[JudgedAlert]) -> list[JudgedAlert]:
    """The alerts that make a drill fail: noise before the fault and anything unexpected."""
    return [a for a in alerts if a.verdict in (BASELINE, UNEXPECTED)]
