"""Scenario files: a bad one fails with the file, the key, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgameday.drill.scenario import ScenarioError, load_scenario
from mlgameday.drill.units import format_duration, parse_duration, parse_rate

GOOD = {
    "name": "tiny",
    "title": "A tiny scenario",
    "teaches": "How a scenario file is validated.",
    "symptoms": "Riders see odd ETAs today.",
    "traffic": {"rate": "10/s", "warmup": "30s", "duration": "1m30s"},
    "faults": [{"at": "10s", "kind": "shift_feature", "params": {"column": "trip_distance", "multiply": 2}}],
    "expect": [{"signal": "drift.detected", "columns": ["trip_distance"], "within": "60s"}],
    "explain": {"component": "upstream", "root_cause": "input-drift", "fix": ["retrain"]},
}


def write(tmp_path: Path, data: dict, name: str = "tiny") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "scenario.yaml").write_text(yaml.safe_dump(data))
    (folder / "brief.md").write_text("# Tiny\n\n## Prompt\n\nSomething is off.\n")
    return folder


def with_changes(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("__")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return data


def error_of(tmp_path: Path, data: dict) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, data))
    return str(info.value)


def test_a_good_file_loads_with_units_parsed(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.traffic.rate == 10.0
    assert scenario.traffic.duration == 90.0
    assert scenario.faults[0].at == 10.0
    assert scenario.duration_s == 120.0
    assert scenario.detection_signals() == ["drift.detected"]


def test_unknown_fault_kind_names_file_key_and_allowed_kinds(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(faults__0__kind="explode"))
    assert "tiny/scenario.yaml" in message
    assert "faults.0.kind = 'explode'" in message
    assert "allowed:" in message and "shift_feature" in message and "units_bug" in message


def test_bad_fault_param_names_the_param_and_allowed_values(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(faults__0__params={"column": "fare", "multiply": 2}))
    assert "faults.0" in message
    assert "params.column = 'fare'" in message
    assert "'trip_distance' or 'passenger_count'" in message


def test_unknown_param_key_lists_the_allowed_params(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(faults__0__params={"column": "trip_distance", "scale": 2}))
    assert "params.scale: unknown key; allowed: column, multiply, add, share" in message


def test_unknown_top_level_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    data = with_changes()
    data["duration"] = "2m"
    message = error_of(tmp_path, data)
    assert "duration: unknown key; allowed: name, title, teaches, symptoms, stack, traffic, fast, faults, expect, may_alert, explain, brief" in message


def test_unknown_nested_key_lists_the_keys_of_that_section(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(traffic__burst=3))
    assert "traffic.burst: unknown key; allowed: rate, warmup, duration, time_scale" in message


def test_unknown_signal_lists_the_signals(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(expect__0__signal="drift.maybe"))
    assert "expect.0.signal = 'drift.maybe'" in message
    assert "drift.detected" in message and "latency_p99_ms" in message


def test_series_signal_needs_exactly_one_threshold(tmp_path: Path) -> None:
    data = with_changes(expect=[{"signal": "latency_p99_ms", "within": "30s"}])
    assert "give exactly one of above/below" in error_of(tmp_path, data)


def test_alert_signal_rejects_a_threshold(tmp_path: Path) -> None:
    assert "use columns/min_score" in error_of(tmp_path, with_changes(expect__0__above=1))


def test_bad_duration_and_missing_required_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(faults__0__at="soon", title=...))
    assert "faults.0.at = 'soon': expected a duration like 40s" in message
    assert "title: missing (required)" in message


def test_stack_option_lists_allowed_values(tmp_path: Path) -> None:
    message = error_of(tmp_path, with_changes(stack={"online_store": "postgres"}))
    assert "stack.online_store = 'postgres'" in message and "'sqlite' or 'redis'" in message


def test_name_must_match_folder_and_brief_must_exist(tmp_path: Path) -> None:
    assert "name = 'other'" in error_of(tmp_path, with_changes(name="other"))
    folder = write(tmp_path, GOOD, name="tiny2")
    (folder / "scenario.yaml").write_text(yaml.safe_dump(with_changes(name="tiny2")))
    (folder / "brief.md").unlink()
    with pytest.raises(ScenarioError, match="brief.md' but .* does not exist"):
        load_scenario(folder)


def test_recover_expectation_needs_a_fault_with_a_duration(tmp_path: Path) -> None:
    data = with_changes(expect=[{"signal": "throughput", "above": 1, "after": "recover", "within": "10s"}])
    assert "no fault has a `for` duration" in error_of(tmp_path, data)


@pytest.mark.parametrize("text, seconds", [("40s", 40), ("2m", 120), ("1m30s", 90), ("250ms", 0.25), (15, 15)])
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == seconds


def test_bad_units_are_refused() -> None:
    with pytest.raises(ValueError):
        parse_duration("40 seconds")
    with pytest.raises(ValueError):
        parse_rate("fast")
    assert parse_rate("600/m") == 10.0
    assert format_duration(90) == "1m30s" and format_duration(0) == "0s"
