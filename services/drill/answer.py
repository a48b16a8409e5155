"""`gameday answer`: score a candidate's explanation of a blind drill, per level, with partial credit.

The four levels of the rubric (as in AIOpsLab's evaluators): detection (which signal
showed it), localization (which component), root cause (from the shared list) and
mitigation (which fix — and whether the candidate's fix achieved its outcome: the dead letters
replayed, the SLO back, a retrained model live; drill/mitigation.py checks it). A fifth, impact,
once the incident is costed from its measured signals (impact/): the free-text reasoning's
quantified impact statement, and the trade-off where the scenario asks for one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import GamedayError
from ..impact import IncidentEstimate, score_impact_statement
from .catalog import Choices
from .scenario import Scenario
from .signals import ALL_SIGNALS

LEVELS = ("detection", "localization", "root_cause", "mitigation", "impact")
PARTIAL = 0.5


class AnswerError(GamedayError):
    kind = "AnswerError"


@dataclass
class Answer:
    component: str
    root_cause: str
    fix: str
    signal: str | None = None
    # Free text: what happened, why, and what it cost (scored for its impact statement).
    reasoning: str | None = None


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
    # The mitigation's outcome verified on the live stack (False without an answer or a check).
    mitigated: bool = False

    @property
    def total(self) -> float:
        return sum(level.score for level in self.levels) / len(self.levels)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Score":
        """The score as_dict() wrote (e.g. handed back by the drill that scored it)."""
        return cls(data["scenario"], [LevelScore(**level) for level in data["levels"]],
                   list(data.get("mitigation_checks", [])), bool(data.get("mitigated", False)))

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "total": round(self.total, 3),
                "levels": [asdict(level) for level in self.levels], "mitigation_checks": self.mitigation_checks,
                "mitigated": self.mitigated}


def validate_answer(answer: Answer, choices: Choices) -> None:
    """Every id must be one of the shared choices; the error lists them."""
    if answer.signal is not None and answer.signal not in ALL_SIGNALS:
        raise AnswerError(f"signal {answer.signal!r} is not one of the signals",
                          hint="see them with `gameday answer --choices` (and their values with `gameday signals`)")
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
                 mitigation: tuple[bool, list[str]] | None = None,
                 impact: IncidentEstimate | None = None) -> Score:
    """Score each level in [0, 1]. `mitigation` is (verified, details) when the scenario has checks;
    `impact`, the incident's estimated cost: given, the reasoning's impact statement is a level too."""
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
    verified = False
    if key.mitigation and mitigation is not None:
        verified, checks = mitigation
        fix_score = PARTIAL * fix + PARTIAL * (1.0 if verified else 0.0)
        fix_note += ("; its outcome was verified" if verified
                     else "; its outcome was not verified (see the mitigation checks)")
    else:
        fix_score = fix
    levels = [
        detection,
        LevelScore("localization", comp, answer.component, key.component, comp_note),
        LevelScore("root_cause", cause, answer.root_cause, key.root_cause, cause_note),
        LevelScore("mitigation", fix_score, answer.fix, " or ".join(key.fix), fix_note),
    ]
    if impact is not None:
        credit = score_impact_statement(answer.reasoning, impact, key.tradeoff)
        wanted = impact.headline() + (f"; a trade-off with numbers on {', '.join(key.tradeoff)}" if key.tradeoff else "")
        levels.append(LevelScore("impact", credit.score, _excerpt(answer.reasoning), wanted, credit.note))
    return Score(scenario.name, levels, checks, mitigated=verified)


def _excerpt(text: str | None, limit: int = 160) -> str | None:
    if not text:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def unanswered(scenario: Scenario, why: str, checks: list[str] | None = None) -> Score:
    """The score of a drill that ended without an answer (its time limit): nothing, at every level."""
    key = scenario.explain
    expected = {"detection": " or ".join(scenario.detection_signals()) or "(no signal)",
                "localization": key.component, "root_cause": key.root_cause, "mitigation": " or ".join(key.fix),
                "impact": "(a quantified impact statement)"}
    return Score(scenario.name, [LevelScore(level, 0.0, None, expected[level], why) for level in LEVELS], checks or [])
