"""Credit for a quantified impact statement in a candidate's free-text reasoning.

A product-impact round wants a number with a unit a business reads — money per hour or for the
incident, riders affected — not "users were impacted". This reads the quantities in a text (money,
rider counts, latency, ETA error, percentages) and scores the statement against the incident's
estimate (estimate.py), which the candidate does not see before answering: the same assumptions
(impact/triptime.yaml, `gameday impact`) and the signals they investigated lead to the same
order of magnitude.

Scores: a money or rider figure within a factor of CLOSE of the estimate: 1; within a factor of
ROUGH: 0.75; a money or rider figure further off: 0.5; numbers without a business unit (only ms,
seconds, per cent): 0.25; nothing quantified: 0. A scenario that asks for a trade-off (slow model,
bad canary) also scores which of its dimensions the text puts a number on.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .estimate import IncidentEstimate

CLOSE = 3.0
ROUGH = 10.0
TRADEOFF_DIMENSIONS = ("accuracy", "latency", "cost")

_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"(k|K|thousand|m|M|mn|million|bn|billion)?"
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_MONEY = re.compile(
    rf"(?:\$|usd\s*|us\$)\s*{_NUMBER}\s*{_SCALE}\b|{_NUMBER}\s*{_SCALE}\s*(?:usd|dollars|\$)", re.I)
_RIDERS = re.compile(rf"{_NUMBER}\s*{_SCALE}\s+(?:\w+\s+){{0,2}}?(riders|trips|rides|requests|customers|users|"
                     r"passengers|bookings)\b", re.I)
_MS = re.compile(rf"{_NUMBER}\s*ms\b", re.I)
_SECONDS = re.compile(rf"{_NUMBER}\s*(s|sec|secs|seconds|min|mins|minutes)\b", re.I)
_PERCENT = re.compile(rf"{_NUMBER}\s*(%|per ?cent|pp)", re.I)
_PER_HOUR = re.compile(r"^\s*(?:per|an|a|/|each)\s*(?:hour|hr|h)\b|^\s*hourly", re.I)
_PER_DAY = re.compile(r"^\s*(?:per|a|/|each)\s*(?:day|d)\b|^\s*daily", re.I)
_ACCURACY_WORDS = re.compile(r"\b(mae|error|accura\w*|late|eta)\b", re.I)


@dataclass(frozen=True)
class Quantity:
    kind: str  # money | riders | ms | seconds | percent
    value: float
    per: str = ""  # hour | day | "" (a total, or unsaid)
    text: str = ""


def _number(raw: str, scale: str | None) -> float:
    value = float(raw.replace(",", ""))
    if scale:
        key = scale.lower()
        # "m" after a number of dollars is millions; "M" too. (Minutes never take a money sign.)
        value *= _SCALES.get(key, 1.0)
    return value


def _per(text: str, end: int) -> str:
    after = text[end:end + 20]
    if _PER_HOUR.search(after):
        return "hour"
    if _PER_DAY.search(after):
        return "day"
    return ""


def quantities(text: str) -> list[Quantity]:
    """Every quantity of the text with its kind, in order of appearance."""
    found: list[tuple[int, Quantity]] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for match in _MONEY.finditer(text):
        raw, scale = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        found.append((match.start(), Quantity("money", _number(raw, scale), _per(text, match.end()), match.group(0))))
        taken.append(match.span())
    for match in _RIDERS.finditer(text):
        if free(match.span()):
            found.append((match.start(), Quantity("riders", _number(match.group(1), match.group(2)),
                                                  _per(text, match.end()), match.group(0))))
            taken.append(match.span())
    for pattern, kind in ((_MS, "ms"), (_PERCENT, "percent"), (_SECONDS, "seconds")):
        for match in pattern.finditer(text):
            if not free(match.span()):
                continue
            value = float(match.group(1).replace(",", ""))
            if kind == "seconds" and match.group(2).lower().startswith("min"):
                value *= 60
            found.append((match.start(), Quantity(kind, value, "", match.group(0))))
            taken.append(match.span())
    return [q for _, q in sorted(found, key=lambda item: item[0])]


@dataclass
class ImpactCredit:
    score: float
    note: str
    statement: float  # the quantified-statement part
    tradeoff: float | None = None  # None: the scenario asks for none
    quantities: list[Quantity] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(given: float, expected: float) -> float:
    if given <= 0 or expected <= 0:
        return float("inf")
    return max(given / expected, expected / given)


def _closest(found: list[Quantity], estimate: IncidentEstimate) -> tuple[float, str]:
    """The best match of a money or rider figure against the estimate: (factor off, what it matched)."""
    best = (float("inf"), "")
    for q in found:
        if q.kind == "money":
            targets = {"hour": [("cost per hour", estimate.cost_per_hour)],
                       "day": [("cost per day", estimate.cost_per_day)]}.get(
                q.per, [("incident cost", estimate.cost), ("cost per hour", estimate.cost_per_hour)])
        elif q.kind == "riders":
            targets = ([("riders per hour", estimate.riders_affected / max(estimate.duration_s / 3600, 1e-9))]
                       if q.per == "hour" else [("riders affected", estimate.riders_affected)])
        else:
            continue
        for label, target in targets:
            factor = _ratio(q.value, target)
            if factor < best[0]:
                best = (factor, f"{q.text.strip()} vs the estimate's {label} {target:,.0f}")
    return best


def tradeoff_coverage(found: Iterable[Quantity], text: str, dimensions: Iterable[str]) -> tuple[float, list[str]]:
    """The share of the trade-off's dimensions the text puts a number on, and the ones it misses.

    accuracy: an error in seconds/minutes, or a percentage said of the error (MAE, late ETAs);
    latency: milliseconds; cost: money."""
    found = list(found)
    has = {
        "accuracy": any(q.kind == "seconds" for q in found)
        or (any(q.kind == "percent" for q in found) and bool(_ACCURACY_WORDS.search(text))),
        "latency": any(q.kind == "ms" for q in found),
        "cost": any(q.kind == "money" for q in found),
    }
    wanted = list(dimensions)
    missing = [d for d in wanted if not has.get(d, False)]
    return (1 - len(missing) / len(wanted)) if wanted else 1.0, missing


def score_impact_statement(text: str | None, estimate: IncidentEstimate | None,
                           tradeoff: Iterable[str] = ()) -> ImpactCredit:
    """Score the reasoning's impact statement (and its trade-off, when the scenario asks for one)."""
    tradeoff = list(tradeoff)
    if not text or not text.strip():
        return ImpactCredit(0.0, "no reasoning given (--reasoning): no impact statement to credit", 0.0,
                            0.0 if tradeoff else None)
    found = quantities(text)
    business = [q for q in found if q.kind in ("money", "riders")]
    if business and estimate is not None and estimate.cost_per_hour > 0:
        factor, matched = _closest(business, estimate)
        if factor <= CLOSE:
            statement, note = 1.0, f"quantified and close to the estimate: {matched}"
        elif factor <= ROUGH:
            statement, note = 0.75, f"quantified, the right order of magnitude: {matched}"
        else:
            statement, note = 0.5, f"quantified, but {factor:,.0f}× off: {matched}"
    elif business and estimate is not None:  # nothing measurable was lost: only "nothing" is right
        nothing = any(q.value == 0 for q in business)
        statement, note = (1.0, "quantified: nothing lost, as measured") if nothing else (
            0.5, "quantified, but the measured signals show no cost in this run")
    elif business:
        statement, note = 0.5, "quantified (no estimate to compare with)"
    elif found:
        statement, note = 0.25, "numbers, but none a business reads (money, riders)"
    else:
        statement, note = 0.0, "no quantity in the reasoning: say what it cost (money per hour, riders affected)"
    if not tradeoff:
        return ImpactCredit(statement, note, statement, None, found)
    coverage, missing = tradeoff_coverage(found, text, tradeoff)
    note += ("; trade-off weighed with numbers on " + ", ".join(tradeoff) if not missing
             else "; trade-off without a number on " + ", ".join(missing))
    return ImpactCredit(0.5 * statement + 0.5 * coverage, note, statement, coverage, found)
