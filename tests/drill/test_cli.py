"""The drill commands through the CLI runner: choices, fault kinds, bad input named, DLQ repair."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mlgameday.cli import app
from mlgameday.ingest.dlq_replay import DlqError, parse_renames, repair

runner = CliRunner()


def test_answer_choices_lists_every_id_of_the_vocabulary() -> None:
    result = runner.invoke(app, ["answer", "--choices", "--json"])
    assert result.exit_code == 0, result.output
    choices = json.loads(result.output)
    assert {"upstream", "kafka", "ingest", "feature-store", "serving", "model"} <= set(choices["components"])
    assert "unit-mismatch" in choices["root_causes"] and "replay-dlq" in choices["fixes"]
    assert "latency_p99_ms" in choices["signals"] and "drift.detected" in choices["signals"]


def test_chaos_kinds_lists_the_fault_families() -> None:
    result = runner.invoke(app, ["chaos", "kinds"])
    assert result.exit_code == 0, result.output
    for kind in ("shift_feature", "units_bug", "feature_latency", "slow_model", "canary", "burst", "kill"):
        assert kind in result.output


def test_answer_without_an_active_blind_drill_says_how_to_start_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GAMEDAY_RUN_DIR", str(tmp_path))
    result = runner.invoke(app, ["answer", "--component", "model", "--root-cause", "slow-model",
                                 "--fix", "rollback-model"])
    assert result.exit_code != 0
    assert "no blind drill is waiting for an answer" in str(result.exception)
    assert "gameday drill --random --blind" in str(result.exception)


def test_unknown_scenario_is_named_with_the_known_ones(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GAMEDAY_RUN_DIR", str(tmp_path))
    result = runner.invoke(app, ["drill", "meteor-strike", "--fast"])
    assert result.exit_code != 0
    assert "no scenario 'meteor-strike'" in str(result.exception) and "slow-model" in str(result.exception)


def test_dlq_repair_maps_fields_and_refuses_what_is_not_json() -> None:
    original = '{"trip_id":"t1","distance_miles":2.5,"passenger_count":1}'
    repaired = json.loads(repair(original, {"distance_miles": "trip_distance"}))
    assert repaired == {"trip_id": "t1", "trip_distance": 2.5, "passenger_count": 1}
    assert repair('{"trip_id": "t1", "trip_dis', {}) is None
    assert parse_renames(["distance_miles=trip_distance"]) == {"distance_miles": "trip_distance"}
    with pytest.raises(DlqError, match="expected OLD=NEW"):
        parse_renames(["distance_miles"])


def test_dlq_replay_never_sends_a_truncated_original() -> None:
    from mlgameday.contracts import dead_letter_of
    from mlgameday.ingest.dlq_replay import ReplayReport, _replay_one

    huge = b'{"trip_id":"t1","padding":"' + b"x" * 200_000 + b'"}'
    letter = dead_letter_of(huge, source_topic="trips.requested", partition=0, offset=3, consumer="ingest",
                            reason="padding: unexpected field")
    report = ReplayReport()
    _replay_one(letter.to_bytes(), None, report, {}, None, None)
    assert (report.replayed, report.skipped) == (0, {"original truncated (too large to keep whole)": 1})
