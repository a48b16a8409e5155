"""The score sheet of a mock round: depth, breadth and business alignment, from the candidate's answers.

Pure functions over text and measured figures, so each credit is unit-tested:
- breadth: the design's coverage of the four areas, the stack's parts named on the tour, and the
  incident's detection and localization levels;
- depth: the mechanisms the design names (idempotent writes, point-in-time joins, canaries, …), the
  follow-ups answered with one of theirs, the live model named right on the tour, and the incident's
  root cause and mitigation levels;
- business alignment: the incident's impact level (its cost, against the estimate from the measured
  signals) and the product-impact answer: a figure for what the model choice is worth a day against
  the comparison measured on this stack, numbers on accuracy, latency and money, and the variant worth more.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..impact.statement import CLOSE, ROUGH, TRADEOFF_DIMENSIONS, quantities, tradeoff_coverage
from .script import Phase

DIMENSIONS = ("depth", "breadth", "business alignment")
_CHOICE = re.compile(r"\b(?:serve|serving|choose|choosing|pick|keep|recommend|promote|go with|ship|prefer)\s+"
                     r"(?:the\s+)?(\w+)", re.I)


def mentions(text: str | None, words: list[str]) -> list[str]:
    """The words of the list the text contains (case-insensitive substrings)."""
    low = (text or "").lower()
    return [w for w in words if w.lower() in low]


@dataclass
class Credit:
    """One part of a dimension: a score in [0, 1] and why."""
    part: str
    score: float
    note: str


def design_breadth(text: str | None, phase: Phase) -> Credit:
    covered = [area for area, words in phase.areas.items() if mentions(text, words)]
    missing = [area for area in phase.areas if area not in covered]
    score = len(covered) / len(phase.areas) if phase.areas else 1.0
    return Credit("design: areas covered", score,
                  f"{len(covered)} of {len(phase.areas)}" + (f" (missing: {', '.join(missing)})" if missing else ""))


def design_depth(text: str | None, phase: Phase) -> Credit:
    named = [name for name, words in phase.mechanisms.items() if mentions(text, words)]
    score = min(1.0, len(named) / phase.depth_target)
    return Credit("design: mechanisms named", score,
                  f"{len(named)} of the {phase.depth_target} wanted" + (f": {', '.join(named)}" if named else ""))


def follow_up_depth(answers: dict[str, str], phase: Phase) -> Credit:
    hits = [f.id for f in phase.follow_ups if mentions(answers.get(f.id), f.credit)]
    score = len(hits) / len(phase.follow_ups) if phase.follow_ups else 1.0
    unanswered = [f.id for f in phase.follow_ups if f.id not in hits]
    return Credit("design: follow-ups", score, f"{len(hits)} of {len(phase.follow_ups)} answered with a mechanism"
                  + (f" (not: {', '.join(unanswered)})" if unanswered else ""))


# What a candidate may call each part of the stack (the supervisor's names first).
COMPONENT_NAMES = {
    "kafka": ["kafka", "broker"], "ingest": ["ingest", "stream processor", "consumer"],
    "producer": ["producer", "app"], "serving": ["serving", "bentoml", "model server"],
    "riders": ["riders", "rider app"], "monitor": ["monitor", "evidently"],
    "feature store": ["feast", "feature store", "online store", "sqlite", "redis"],
}


def tour_credits(text: str | None, live_variant: str | None, components: list[str]) -> tuple[Credit, Credit]:
    """(breadth: the running parts named, depth: the live model named right)."""
    present = [c for c in COMPONENT_NAMES if c in components or c == "feature store"]
    named = [c for c in present if mentions(text, COMPONENT_NAMES[c])]
    want = min(4, len(present))
    breadth = Credit("tour: parts of the live stack named", min(1.0, len(named) / want) if want else 1.0,
                     f"{len(named)} named ({', '.join(named) or 'none'}), {want} wanted")
    said = {m.lower() for m in re.findall(r"\b(fast|accurate|worse)\b", text or "", re.I)}
    if live_variant is None:
        depth = Credit("tour: the live model", 1.0 if not said else 0.0, "no model was live")
    elif said == {live_variant}:
        depth = Credit("tour: the live model", 1.0, f"right: {live_variant}")
    elif live_variant in said:
        depth = Credit("tour: the live model", 0.5, f"{live_variant} named, among others: {', '.join(sorted(said))}")
    else:
        depth = Credit("tour: the live model", 0.0, f"the live model was {live_variant}"
                       + (f", not {', '.join(sorted(said))}" if said else "; none named"))
    return breadth, depth


@dataclass(frozen=True)
class ModelChoice:
    """What the comparison on this stack says: the variant worth more, and by how much a day."""
    better: str
    other: str
    delta_per_day: float
    currency: str


def model_choice(values: dict[str, float], currency: str = "USD",
                 between: tuple[str, str] = ("accurate", "fast")) -> ModelChoice | None:
    """The choice the product-impact question asks about, from each variant's value per day."""
    pair = [v for v in between if values.get(v) is not None]
    if len(pair) < 2:
        pair = sorted((v for v in values if values[v] is not None), key=lambda v: -values[v])[:2]
    if len(pair) < 2:
        return None
    a, b = sorted(pair, key=lambda v: -values[v])
    return ModelChoice(a, b, values[a] - values[b], currency)


def product_impact(text: str | None, choice: ModelChoice | None) -> Credit:
    """Half for a money figure near the measured difference a day, a quarter for numbers on accuracy, latency
    and money, a quarter for choosing the variant worth more."""
    if not text or not text.strip():
        return Credit("product impact: the model choice", 0.0, "no answer")
    found = quantities(text)
    coverage, missing = tradeoff_coverage(found, text, TRADEOFF_DIMENSIONS)
    notes = ["numbers on " + ", ".join(TRADEOFF_DIMENSIONS) if not missing else "no number on " + ", ".join(missing)]
    money = [q for q in found if q.kind == "money"]
    if choice is None:
        figure = 0.5 if money else 0.0
        chosen = 0.0
        notes.append("no comparison measured to check the figure against")
    else:
        best = min((max(q.value / abs(choice.delta_per_day), abs(choice.delta_per_day) / q.value)
                    for q in money if q.value > 0 and choice.delta_per_day), default=float("inf"))
        figure = 1.0 if best <= CLOSE else 0.75 if best <= ROUGH else 0.5 if money else 0.0
        notes.append(f"the difference measured: {choice.delta_per_day:,.0f} {choice.currency}/day for "
                     f"{choice.better} over {choice.other}; "
                     + ("no money figure" if not money else f"closest figure {best:,.1f}× off"))
        picked = [m.group(1).lower() for m in _CHOICE.finditer(text)
                  if m.group(1).lower() in (choice.better, choice.other)]
        chosen = 1.0 if picked and picked[0] == choice.better else 0.0
        notes.append(f"chose {picked[0]}" if picked else f"no variant chosen (say e.g. 'serve {choice.better}')")
    return Credit("product impact: the model choice", 0.5 * figure + 0.25 * coverage + 0.25 * chosen, "; ".join(notes))


def level_credit(levels: dict[str, float], names: tuple[str, ...], part: str) -> Credit:
    got = [levels[n] for n in names if n in levels]
    score = sum(got) / len(got) if got else 0.0
    return Credit(part, score, ", ".join(f"{n} {levels.get(n, 0):.0%}" for n in names) if got
                  else "the incident was not answered")


@dataclass
class PhaseTime:
    phase: str
    budget_s: float
    elapsed_s: float

    @property
    def over_s(self) -> float:
        return max(0.0, self.elapsed_s - self.budget_s)


@dataclass
class ScoreSheet:
    started_at: str
    budget_s: float
    elapsed_s: float
    scenario: str
    dimensions: dict[str, dict[str, Any]]
    phases: list[PhaseTime] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(d["score"] for d in self.dimensions.values()) / len(self.dimensions)

    def as_dict(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "budget_s": self.budget_s, "elapsed_s": self.elapsed_s,
                "scenario": self.scenario, "total": round(self.total, 3), "dimensions": self.dimensions,
                "phases": [{**asdict(p), "over_s": p.over_s} for p in self.phases]}


def dimension(credits: list[Credit]) -> dict[str, Any]:
    return {"score": round(sum(c.score for c in credits) / len(credits), 3), "parts": [asdict(c) for c in credits]}


def score_sheet(*, started_at: str, scenario: str, design: Phase, answers: dict[str, str],
                live_variant: str | None, components: list[str], incident_levels: dict[str, float],
                choice: ModelChoice | None, phases: list[PhaseTime]) -> ScoreSheet:
    """The sheet of a whole round. `answers`: the candidate's text by question id (design, its follow-ups,
    tour, impact); `incident_levels`: `gameday answer`'s score per level."""
    tour_breadth, tour_depth = tour_credits(answers.get("tour"), live_variant, components)
    dims = {
        "depth": dimension([design_depth(answers.get("design"), design), follow_up_depth(answers, design), tour_depth,
                            level_credit(incident_levels, ("root_cause", "mitigation"), "incident: cause and fix")]),
        "breadth": dimension([design_breadth(answers.get("design"), design), tour_breadth,
                              level_credit(incident_levels, ("detection", "localization"),
                                           "incident: signal and component")]),
        "business alignment": dimension([
            level_credit(incident_levels, ("impact",), "incident: what it cost"),
            product_impact(answers.get("impact"), choice)]),
    }
    return ScoreSheet(started_at, sum(p.budget_s for p in phases), sum(p.elapsed_s for p in phases), scenario,
                      dims, phases)


def sheet_markdown(sheet: ScoreSheet) -> list[str]:
    """The score sheet as a debrief section."""
    lines = ["", "## Mock interview: score sheet", "",
             f"Started {sheet.started_at[:19]}; {sheet.elapsed_s / 60:.1f} of {sheet.budget_s / 60:.0f} minutes used. "
             f"**Total {sheet.total:.0%}**: " + ", ".join(f"{name} {d['score']:.0%}" for name, d in sheet.dimensions.items())
             + ".", "", "| dimension | part | score | why |", "|---|---|---|---|"]
    for name, d in sheet.dimensions.items():
        for part in d["parts"]:
            lines.append(f"| {name} | {part['part']} | {part['score']:.0%} | {part['note']} |")
    lines += ["", "| phase | budget | used | over |", "|---|---|---|---|"]
    for p in sheet.phases:
        lines.append(f"| {p.phase} | {p.budget_s / 60:.1f} min | {p.elapsed_s / 60:.1f} min | "
                     f"{'–' if not p.over_s else f'{p.over_s / 60:.1f} min'} |")
    return lines
