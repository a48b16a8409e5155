"""The interviewer's script: validated on load, timed by share of the round."""

from __future__ import annotations

import pytest
import yaml

from mlgameday.interview.script import PHASES, InterviewError, clock, load_script, plan


def test_the_shipped_script_has_every_phase_and_a_45_minute_round() -> None:
    script = load_script()
    slots = plan(script)
    assert [s.phase for s in slots] == list(PHASES)
    assert slots[0].start_s == 0 and slots[-1].end_s == pytest.approx(45 * 60)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(slots, slots[1:]))
    assert script.phase("design").follow_ups and len(script.phase("design").areas) == 4


def test_a_shorter_round_scales_every_phase() -> None:
    script = load_script()
    long, short = plan(script), plan(script, minutes=9)
    for a, b in zip(long, short):
        assert b.budget_s == pytest.approx(a.budget_s * 9 / 45)


def test_a_script_missing_a_phase_or_with_shares_off_is_refused_with_the_reason(tmp_path) -> None:
    data = yaml.safe_load(load_script.__globals__["ROUND_FILE"].read_text())
    broken = dict(data, phases=data["phases"][:-1])
    path = tmp_path / "round.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(InterviewError, match="phases must be design, tour, incident, explain, impact"):
        load_script(path)
    data["phases"][0]["share"] = 0.5
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InterviewError, match="add up to 1"):
        load_script(path)


def test_clock() -> None:
    assert clock(0) == "00:00" and clock(810) == "13:30" and clock(3725) == "62:05"
