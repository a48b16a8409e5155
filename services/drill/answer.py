"""`gameday answer`: score a candidate's explanation of a blind drill, per level, with partial credit.

The four levels of the rubric (as in AIOpsLab's evaluators): detection (which signal
showed it), localization (which component), root cause (from the shared list) and
mitigation (which fix — and, where the scenario says how, whether the signals really
came back to normal after the candidate acted: rolled back, restarted, replayed the DLQ).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..app import open_stack
from ..config import Settings
from ..errors import GamedayError
from ..runtime.kafka import kafka_options
from ..stack.component import Reporter, silent
from ..stack.endpoints import kafka_bootstrap
from .catalog import Catalog, Choices
from .expect import check_all, holds
from .faults import REGISTRY, FaultContext
from .lock import exclusive_drill
from .precision import judge_alerts
from .scenario import Scenario
from .session import Session
from .targets import LocalTarget
from .timeline import Timeline
from .watch import Watcher

LEVELS = ("detection", "localization", "root_cause", "mitigation")
PARTIAL = 0.5


class AnswerError(GamedayError):
    kind = "AnswerError"


@dataclass
class Answer:
    component: str
    root_cause: str
    fix: str
    signal: str | None = None
    # The candidate's own words: not scored, kept beside the score for the debrief and the interviewer.
    reasoning: str = ""


@dataclass
class LevelScore:
    level: str
    score: float
    given: str | None
    expected: str
    note: str = ""


@dataclass
class Score:
    scenario: str
    levels: list[LevelScore]
    mitigation_checks: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(level.score for level in self.levels) / len(self.levels)

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "total": round(self.total, 3),
                "levels": [asdict(level) for level in self.levels], "mitigation_checks": self.mitigation_checks}


def validate_answer(answer: Answer, choices: Choices) -> None:
    """Every id must be one of the shared choices; the error lists them."""
    for name, value, allowed in (("component", answer.component, choices.components),
                                 ("root cause", answer.root_cause, choices.root_causes),
                                 ("fix", answer.fix, choices.fixes)):
        if value not in allowed:
            raise AnswerError(f"{name} {value!r} is not one of the choices",
                              hint=f"pick one of: {', '.join(allowed)} (see `gameday answer --choices`)")


def _graded(given: str, right: list[str], partial: list[str]) -> tuple[float, str]:
    if given in right:
        return 1.0, "right"
    if given in partial:
        return PARTIAL, "partly right (adjacent)"
    return 0.0, "wrong"


def score_answer(scenario: Scenario, answer: Answer, fired_signals: set[str],
                 mitigation: tuple[bool, list[str]] | None = None) -> Score:
    """Score each level in [0, 1]. `mitigation` is (verified, details) when the scenario has checks."""
    key = scenario.explain
    detection_key = scenario.detection_signals()
    if not detection_key:  # the healthy scenario: nothing to detect
        detection = (LevelScore("detection", 1.0, None, "(no signal)", "right: nothing was wrong")
                     if answer.signal is None else
                     LevelScore("detection", 0.0, answer.signal, "(no signal)",
                                "nothing was wrong in this run" + (" (that alert was noise)"
                                                                  if answer.signal in fired_signals else "")))
    elif answer.signal is None:
        detection = LevelScore("detection", 0.0, None, " or ".join(detection_key), "no signal named (--signal)")
    elif answer.signal in detection_key:
        detection = LevelScore("detection", 1.0, answer.signal, " or ".join(detection_key), "right")
    elif answer.signal in fired_signals:
        detection = LevelScore("detection", PARTIAL, answer.signal, " or ".join(detection_key),
                               "a real symptom of this run, but not the one that pins it down")
    else:
        detection = LevelScore("detection", 0.0, answer.signal, " or ".join(detection_key),
                               "that signal did not fire in this run")
    comp, comp_note = _graded(answer.component, [key.component], key.partial.component)
    cause, cause_note = _graded(answer.root_cause, [key.root_cause], key.partial.root_cause)
    fix, fix_note = _graded(answer.fix, key.fix, key.partial.fix)
    checks: list[str] = []
    if key.mitigation and mitigation is not None:
        verified, checks = mitigation
        fix_score = PARTIAL * fix + PARTIAL * (1.0 if verified else 0.0)
        fix_note += "; the signals came back to normal" if verified else "; the signals did not come back to normal"
    else:
        fix_score = fix
    return Score(scenario.name, [
        detection,
        LevelScore("localization", comp, answer.component, key.component, comp_note),
        LevelScore("root_cause", cause, answer.root_cause, key.root_cause, cause_note),
        LevelScore("mitigation", fix_score, answer.fix, " or ".join(key.fix), fix_note),
    ], checks)


def verify_mitigation(settings: Settings, scenario: Scenario, timeline: Timeline,
                      timeout_s: float = 60.0, report: Reporter = silent) -> tuple[bool, list[str]]:
    """Watch the live signals until every mitigation condition holds (or the timeout)."""
    if not scenario.explain.mitigation:
        return True, []
    stack = open_stack(settings)
    target = LocalTarget(settings, stack)
    bootstrap = kafka_bootstrap(settings)
    since = timeline.now()
    timeline.mark("action", "mitigation check started")
    from .runner import pipeline_groups

    watcher = Watcher(bootstrap, target, timeline, security=kafka_options(settings.kafka), topics=settings.topics,
                      lag_groups=pipeline_groups(settings)).start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            results = [holds(c, timeline, since) for c in scenario.explain.mitigation]
            if all(ok for ok, _ in results) or time.monotonic() > deadline:
                break
            report("answer", f"checking that the signals are back to normal ({time.monotonic() - deadline + timeout_s:.0f}s)")
            time.sleep(1.0)
    finally:
        watcher.stop()
    verified = all(ok for ok, _ in results)
    timeline.mark("action", "mitigation verified" if verified else "mitigation not verified",
                  checks=[msg for _, msg in results])
    return verified, [msg for _, msg in results]


def finish_blind_drill(settings: Settings, answer: Answer, catalog: Catalog | None = None,
                       check_timeout_s: float = 60.0, report: Reporter = silent) -> tuple[Score, Path]:
    """Score the active blind drill, check the mitigation, turn its faults off, reveal, write the debrief."""
    catalog = catalog or Catalog()
    session = Session.load(settings)
    scenario = catalog.get(session.scenario)
    validate_answer(answer, catalog.choices)
    # The check watches the live signals: no drill may reset the faults meanwhile.
    with exclusive_drill(settings, "the check of a blind drill's answer"):
        return _finish(settings, session, scenario, answer, check_timeout_s, report)


def _finish(settings: Settings, session: Session, scenario: Scenario, answer: Answer,
            check_timeout_s: float, report: Reporter) -> tuple[Score, Path]:
    from .debrief import write_debrief
    from .runner import DrillResult, Timing

    folder = Path(session.folder)
    timeline = Timeline.load(folder / "timeline.jsonl")
    timeline.mark("action", "answer", component=answer.component, root_cause=answer.root_cause,
                  fix=answer.fix, signal=answer.signal, reasoning=answer.reasoning)
    _reconcile(settings, session, timeline)
    mitigation = verify_mitigation(settings, scenario, timeline, check_timeout_s, report)
    fired = {m.name for m in timeline.marks_of("alert")}
    timing = Timing.of(scenario, session.fast)
    outcomes = check_all(scenario.expect, timeline, session.refs, timing.factor)
    fired |= {o.expectation.signal for o in outcomes if o.fired}
    score = score_answer(scenario, answer, fired, mitigation)
    _recover(settings, session, timeline)
    Session.close(settings)
    timeline.save(folder / "timeline.jsonl")
    result = DrillResult(scenario, folder, outcomes, session.refs, time.time() - session.started_at,
                         fast=session.fast, blind=True,
                         alerts=judge_alerts(scenario, timeline, session.refs.get("fault")), drawn=session.drawn)
    write_debrief(result, timeline, settings, session.counts)
    (folder / "answer.json").write_text(json.dumps({"answer": asdict(answer), **score.as_dict()}, indent=2))
    return score, folder


def _reconcile(settings: Settings, session: Session, timeline: Timeline) -> None:
    ctx = FaultContext(target=LocalTarget(settings), settings=settings, memory=session.memory)
    for fault in session.active:
        injector = REGISTRY[fault["kind"]]
        if (changed := injector.reconcile(ctx, injector.parse(fault["params"]))) is not None:
            timeline.mark("action", f"{fault['kind']}: follows the candidate's action", message=changed)


def _recover(settings: Settings, session: Session, timeline: Timeline) -> None:
    """Whatever the candidate did, the drill's faults end here (a knob reset is idempotent)."""
    ctx = FaultContext(target=LocalTarget(settings), settings=settings, memory=dict(session.memory))
    for fault in session.active:
        injector = REGISTRY[fault["kind"]]
        try:
            message = injector.recover(ctx, injector.parse(fault["params"]))
            timeline.mark("recover", fault["kind"], message=message, at_end=True)
        except GamedayError as exc:
            timeline.mark("note", f"recovering {fault['kind']} failed", error=str(exc))

