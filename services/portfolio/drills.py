"""The drills of a run folder as the portfolio lists them: scenario, verdict, score, time to detect and to
mitigate, what the incident cost and what acting on it returned.

- time to detect: the first of the scenario's fault-side expected signals to fire, after the fault;
- time to mitigate: the incident's length as costed (fault → the mitigation verified, or the fault's
  recovery: a scheduled one in a plain drill, the candidate's in a blind one);
- the mitigation's ROI: impact/value.py, from the incident's cost per hour and that time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..drill.catalog import Catalog
from ..drill.runner import drills_dir
from ..drill.scenario import ScenarioError
from ..impact import mitigation_roi
from ..impact.model import ImpactModel

# A mock interview (`gameday interview`) writes its score sheet into its incident's drill folder.
SCORE_SHEET_FILE = "score_sheet.json"
SHEET_DIMENSIONS = ("depth", "breadth", "business alignment")


@dataclass
class DrillRecord:
    folder: str
    scenario: str
    blind: bool
    fast: bool
    passed: bool
    score: float | None  # the answer's total (blind drills answered)
    levels: dict[str, float]
    time_to_detect_s: float | None
    time_to_mitigate_s: float | None
    end_reason: str
    cost_per_hour: float | None
    cost: float | None
    riders_affected: float | None
    roi: float | None
    roi_formula: str = ""
    score_sheet: dict[str, Any] | None = None  # the mock interview this drill was the incident of

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _time_to_detect(result: dict[str, Any], catalog: Catalog) -> float | None:
    try:
        expectations = catalog.get(result["scenario"]).expect
    except (ScenarioError, KeyError):
        expectations = []
    times = [o["after_s"] for o, e in zip(result.get("outcomes", []), expectations)
             if e.after == "fault" and o.get("fired") and o.get("after_s") is not None]
    return min(times) if times else None


def read_drill(folder: Path, catalog: Catalog, impact: ImpactModel) -> DrillRecord | None:
    """One drill's record, or None when the folder holds no finished drill (an unanswered blind one)."""
    result_path = folder / "result.json"
    if not result_path.is_file():
        return None
    result = json.loads(result_path.read_text())
    if result.get("control"):
        return None
    answer = json.loads((folder / "answer.json").read_text()) if (folder / "answer.json").is_file() else None
    if result.get("blind") and answer is None:
        return None  # still waiting for its answer
    estimate = result.get("impact") or {}
    signals = estimate.get("signals") or {}
    window = signals.get("window")
    ttm = (window[1] - window[0]) if window else None
    record = DrillRecord(
        folder=str(folder), scenario=result["scenario"], blind=bool(result.get("blind")), fast=bool(result.get("fast")),
        passed=bool(result.get("passed")), score=answer.get("total") if answer else None,
        levels={lv["level"]: lv["score"] for lv in answer.get("levels", [])} if answer else {},
        time_to_detect_s=_time_to_detect(result, catalog), time_to_mitigate_s=ttm,
        end_reason=signals.get("end_reason", ""), cost_per_hour=estimate.get("cost_per_hour"),
        cost=estimate.get("cost"), riders_affected=estimate.get("riders_affected"), roi=None)
    sheet = folder / SCORE_SHEET_FILE
    record.score_sheet = json.loads(sheet.read_text()) if sheet.is_file() else None
    if record.cost_per_hour is not None and ttm is not None:
        ret = mitigation_roi(impact, cost_per_hour=record.cost_per_hour, time_to_mitigate_s=ttm)
        record.roi, record.roi_formula = ret.roi, ret.formula
    return record


def read_drills(settings: Settings, impact: ImpactModel, catalog: Catalog | None = None) -> list[DrillRecord]:
    """Every finished drill of the run folder, oldest first."""
    folder = drills_dir(settings)
    if not folder.is_dir():
        return []
    catalog = catalog or Catalog()
    records = [read_drill(path, catalog, impact) for path in sorted(p for p in folder.iterdir() if p.is_dir())]
    return [r for r in records if r is not None]
