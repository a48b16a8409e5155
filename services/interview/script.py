"""The interviewer's script (round.yaml): the phases, their questions, their share of the round's time,
and the words the score sheet credits. Validated on load; the plan of timings is a pure function."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import GamedayError

ROUND_FILE = Path(__file__).with_name("round.yaml")
PHASES = ("design", "tour", "incident", "explain", "impact")


class InterviewError(GamedayError):
    kind = "InterviewError"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FollowUp(_Strict):
    id: str
    question: str
    credit: list[str] = Field(min_length=1)


class Phase(_Strict):
    id: str
    title: str
    share: float = Field(gt=0, le=1)
    prompt: str
    follow_ups: list[FollowUp] = []
    areas: dict[str, list[str]] = {}
    mechanisms: dict[str, list[str]] = {}
    depth_target: int = Field(1, ge=1)


class Script(_Strict):
    minutes: float = Field(gt=0)
    phases: list[Phase]

    @model_validator(mode="after")
    def _every_phase_once(self) -> "Script":
        ids = [p.id for p in self.phases]
        if tuple(ids) != PHASES:
            raise ValueError(f"phases must be {', '.join(PHASES)} in that order, got {', '.join(ids)}")
        total = sum(p.share for p in self.phases)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"the phases' shares must add up to 1, they add up to {total:g}")
        return self

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)


def load_script(path: Path | None = None) -> Script:
    path = Path(path) if path is not None else ROUND_FILE
    try:
        return Script.model_validate(yaml.safe_load(path.read_text()))
    except (OSError, yaml.YAMLError) as exc:
        raise InterviewError(f"cannot read the interview script {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'script'}: {e['msg']}" for e in exc.errors())
        raise InterviewError(f"{path}: {problems}", hint="see services/interview/round.yaml for the format") from None


@dataclass(frozen=True)
class Slot:
    phase: str
    title: str
    start_s: float
    budget_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.budget_s


def plan(script: Script, minutes: float | None = None) -> list[Slot]:
    """Each phase's slot in a round of `minutes` (the script's by default), back to back."""
    total_s = (minutes if minutes is not None else script.minutes) * 60
    slots, start = [], 0.0
    for phase in script.phases:
        budget = phase.share * total_s
        slots.append(Slot(phase.id, phase.title, start, budget))
        start += budget
    return slots


def clock(seconds: float) -> str:
    """mm:ss (minutes may pass 59)."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
