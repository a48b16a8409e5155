"""The debrief, rendered from a recorded timeline: markdown and one self-contained HTML page."""

from __future__ import annotations

import re
from pathlib import Path

from mlgameday.drill.catalog import Catalog
from mlgameday.drill.debrief import write_debrief
from mlgameday.drill.expect import check_all
from mlgameday.drill.precision import judge_alerts
from mlgameday.drill.runner import DrillResult
from mlgameday.drill.timeline import Timeline


def recorded_timeline(path: Path, report: Path = Path("/tmp/reports/window-12.html")) -> Path:
    """A data-drift run as the watcher records it, saved and read back like a real run folder."""
    timeline = Timeline(t0=1_700_000_000.0)
    timeline.mark("phase", "warm-up", at=0.0)
    timeline.mark("phase", "faults", at=20.0)
    timeline.mark("fault", "shift_feature", at=20.0, index=0, params={"column": "trip_distance"})
    for i in range(0, 60, 2):
        timeline.sample("mean.trip_distance", 2.9 if i < 22 else 6.1, at=float(i))
        timeline.sample("latency_p99_ms", 12.0 + (i % 5), at=float(i))
        timeline.sample("mae_s", 180.0 if i < 30 else 260.0, at=float(i))
        timeline.sample("drift_share", 0.0 if i < 36 else 0.43, at=float(i))
    timeline.mark("alert", "drift.detected", at=41.5, column="trip_distance", score=0.43, threshold=0.1,
                  evidence_path=str(report))
    timeline.mark("recover", "shift_feature", at=60.0, index=0)
    return timeline.save(path / "timeline.jsonl")


def test_debrief_from_a_recorded_timeline(tmp_path: Path) -> None:
    scenario = Catalog().get("data-drift")
    report = tmp_path / "monitor" / "window-20260105T081500000000Z-000012.html"
    report.parent.mkdir()
    report.write_text("<html>the drift report</html>")
    timeline = Timeline.load(recorded_timeline(tmp_path, report))
    outcomes = check_all(scenario.expect, timeline, {"fault": 20.0}, time_factor=0.5)
    result = DrillResult(scenario, tmp_path, outcomes, {"fault": 20.0}, wall_s=61.0, fast=True,
                         alerts=judge_alerts(scenario, timeline, 20.0))
    assert result.passed

    paths = write_debrief(result, timeline, settings=None, counts={"events": {"predictions": 1200}})
    markdown = paths["markdown"].read_text()
    assert "PASSED: every expected signal fired in time, and no other alert" in markdown
    assert "| 41.5 | alert: drift.detected |" in markdown
    assert "| 42 | `drift.detected on trip_distance` | 0.43 | expected |" in markdown
    assert "Counts: 1 expected, 0 consequence, 0 baseline noise, 0 unexpected." in markdown
    # The drill keeps its own link to the report it cites: the monitor prunes old windows.
    kept = tmp_path / "evidence" / report.name
    assert f"Evidently report: `{kept}`" in markdown
    report.unlink()
    assert kept.read_text() == "<html>the drift report</html>"
    assert "## Root cause" in markdown  # the brief is part of the debrief

    page = paths["html"].read_text()
    assert "<script src=" not in page.replace(" ", "") and not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=\"http", page)  # no external stylesheet either
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js itself is inlined
    assert "drift share (monitor)" in page and "serving latency p99, ms" in page
    assert (tmp_path / "brief.md").read_text().startswith("# Data drift")


def test_a_failed_expectation_is_named_in_the_debrief(tmp_path: Path) -> None:
    scenario = Catalog().get("data-drift")
    timeline = Timeline.load(recorded_timeline(tmp_path))
    timeline.marks = [m for m in timeline.marks if m.kind != "alert"]
    outcomes = check_all(scenario.expect, timeline, {"fault": 20.0}, time_factor=0.5)
    result = DrillResult(scenario, tmp_path, outcomes, {"fault": 20.0}, wall_s=61.0, fast=True)
    assert not result.passed and [o.expectation.signal for o in result.missing()] == ["drift.detected"]
    markdown = write_debrief(result, timeline, settings=None)["markdown"].read_text()
    assert "FAILED: an expected signal did not fire" in markdown
    assert "no drift.detected alert within 50s" in markdown


def test_a_section_added_after_the_drill_lands_in_both_debriefs(tmp_path) -> None:
    from mlgameday.drill.debrief import add_to_debrief

    (tmp_path / "debrief.md").write_text("# Debrief: slow-model\n")
    (tmp_path / "debrief.html").write_text("<html><body><h1>Debrief</h1>\n</body></html>\n")
    add_to_debrief(tmp_path, ["", "## Mock interview: score sheet", "", "| a | b |", "|---|---|", "| 1 | 2 |"])
    assert (tmp_path / "debrief.md").read_text().startswith("# Debrief: slow-model\n\n## Mock interview")
    page = (tmp_path / "debrief.html").read_text()
    assert page.index("<h2>Mock interview: score sheet</h2>") < page.index("</body></html>")
    assert "<td>1</td>" in page and page.count("</body></html>") == 1
