"""Blind means blind in the console: while a blind drill runs or waits for its answer, the candidate's
stream names no scenario and shows no fault, no verdict and no expected signal; the interviewer's
shows everything, alerts judged live."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mlgameday.config import load_settings
from mlgameday.console.live import Console, DrillJob, Progress
from mlgameday.console.view import Stream
from mlgameday.drill.catalog import Catalog
from mlgameday.drill.runner import Drill
from mlgameday.drill.active import ActiveDrill
from mlgameday.drill.timeline import Timeline


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return Console(load_settings(run_dir=tmp_path / "run"))


def running(console: Console, name: str, blind: bool) -> DrillJob:
    scenario = Catalog().get(name)
    drill = Drill(console.settings, scenario, fast=True, blind=blind)
    drill.timeline = Timeline()
    job = console.job = DrillJob(1, drill, picked_at_random=False, progress=Progress())
    timeline = drill.timeline
    timeline.mark("phase", "warm-up", at=0.0)
    timeline.mark("alert", "freshness.stale", at=5.0, column=None, score=0.3)  # before the fault: noise
    timeline.mark("phase", "faults", at=15.0)
    drill.refs["fault"] = 15.0
    timeline.mark("fault", "shift_feature", at=15.0, index=0, params={"column": "trip_distance"}, message="(hidden)")
    timeline.mark("alert", "drift.detected", at=40.0, column="trip_distance", score=0.9,
                  evidence_path="/x/reports/window-1.html")
    timeline.mark("dlq", "missing field", at=41.0, source_topic="trips.requested")
    timeline.sample("drift_share", 0.4)
    timeline.sample("dlq_total", 3.0)  # not one of the debrief's plots: not streamed
    return job


def test_the_candidate_sees_nothing_that_names_a_blind_drill(console: Console) -> None:
    running(console, "data-drift", blind=True)
    update = Stream(console, interviewer=False).update()
    text = json.dumps(update)
    for secret in ("data-drift", "shift_feature", "trip_distance distribution", "expected", "baseline noise", "faults"):
        assert secret not in text, secret
    assert update["drill"]["title"] == "a hidden scenario" and update["drill"]["name"] is None
    assert update["panel"] is False and "hand_faults" not in update and "outcomes" not in update
    assert [(m["kind"], m["name"]) for m in update["marks"]] == [
        ("alert", "freshness.stale"), ("alert", "drift.detected"), ("dlq", "missing field")]
    assert all("verdict" not in m for m in update["marks"])
    assert update["marks"][1]["report"] == "/reports/window-1.html"  # the monitor's evidence stays visible
    assert list(update["series"]) == ["drift_share"]


def test_the_interviewer_sees_everything_with_live_verdicts(console: Console) -> None:
    job = running(console, "data-drift", blind=True)
    stream = Stream(console, interviewer=True)
    update = stream.update()
    assert update["drill"]["name"] == "data-drift" and update["panel"] is True
    verdicts = {m["name"]: m.get("verdict") for m in update["marks"] if m["kind"] == "alert"}
    assert verdicts == {"freshness.stale": "baseline noise", "drift.detected": "expected"}
    assert "shift_feature" in [m["name"] for m in update["marks"] if m["kind"] == "fault"]
    assert {o["signal"] for o in update["outcomes"]} == {e.signal for e in job.scenario.expect}
    # The next update carries only what is new.
    job.timeline.mark("recover", "shift_feature", index=0)
    job.timeline.sample("drift_share", 0.1)
    later = stream.update()
    assert [m["name"] for m in later["marks"]] == ["shift_feature"] and later["series"]["drift_share"][0][1] == 0.1
    assert "components" not in later and "panel" not in later  # what did not change is not sent again


def test_a_blind_drill_stays_hidden_until_answered_and_a_plain_one_never_is(console: Console) -> None:
    job = running(console, "data-drift", blind=True)
    assert console.blind_hidden()
    job.ended_at = job.started_at + 60  # answered: the drill ended
    assert not console.blind_hidden()
    # A blind drill of another process (`gameday drill --blind` in a terminal) hides it too, while it runs.
    drill = ActiveDrill.claim(console.settings, "c3d4", console.settings.run_path / "drills" / "x", blind=True,
                              time_limit_s=None)
    assert console.blind_hidden()
    drill.release(console.settings)
    assert not console.blind_hidden()
    running(console, "data-drift", blind=False)
    update = Stream(console, interviewer=False).update()
    assert update["drill"]["name"] == "data-drift" and update["panel"] is True
    assert any(m["kind"] == "fault" for m in update["marks"])


def test_the_drills_windows_are_those_judged_since_it_started_with_their_reports() -> None:
    from mlgameday.console.view import drill_window_rows

    t0 = 1_800_000_000.0

    def window(index: int, judged_s: float, first_event_s: float) -> dict:
        at = lambda s: datetime.fromtimestamp(t0 + s, timezone.utc).isoformat()  # noqa: E731
        return {"index": index, "status": "ok", "n_rows": 200, "n_labeled": 150, "drift_share": 0.0,
                "first_event": at(first_event_s), "judged_at": at(judged_s),
                "report_html": f"/run/data/monitor/reports/window-{index:06d}.html"}

    rows = drill_window_rows([window(1, -5.0, -20.0),   # judged before the drill: not the drill's
                              window(2, 12.5, -8.0),    # early traffic judged late: the drill saw it
                              window(3, 21.0, 11.0)], t0)
    assert [(r["window"], r["t"], r["report"]) for r in rows] == [
        (2, 12.5, "/reports/window-000002.html"), (3, 21.0, "/reports/window-000003.html")]
