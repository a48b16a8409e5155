"""Bad input: malformed events are dead-lettered with the reason, thin windows are not drift,
a reference without a column fails at start naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlgameday.config import load_settings
from mlgameday.monitor.errors import ReferenceError_
from mlgameday.monitor.service import MonitorService
from mlgameday.monitor.synthetic import Traffic

from .conftest import SEED, WINDOW, judged

pytestmark = pytest.mark.integration  # needs a real broker / server


def test_malformed_predictions_and_labels_go_to_the_dlq_with_the_reason(monitor_run):
    run = monitor_run()
    topics = run.settings.topics
    good = Traffic(seed=SEED).events(WINDOW)
    prediction = json.loads(good[0][0].to_bytes())
    run.send_raw(topics.predictions, b"{not json")
    run.send_raw(topics.predictions, json.dumps({k: v for k, v in prediction.items() if k != "prediction_s"}).encode())
    run.send_raw(topics.trips_completed, json.dumps({**json.loads(good[0][1].to_bytes()), "duration_s": "slow"}).encode())
    run.send_raw(topics.trips_completed, json.dumps({**json.loads(good[1][1].to_bytes()), "schema_version": 9}).encode())
    run.send(good)
    service = run.run_until(judged(1))

    letters = run.dead_letters()
    reasons = sorted(letter.reason for letter in letters)
    assert len(letters) == 4
    assert any("invalid JSON" in r for r in reasons)
    assert any("prediction_s: missing" in r for r in reasons)
    assert any(r.startswith("duration_s:") and "'slow'" in r for r in reasons)
    assert any("unknown schema_version 9" in r for r in reasons)
    assert {letter.source_topic for letter in letters} == {topics.predictions, topics.trips_completed}
    assert all(letter.consumer == "monitor" and letter.original for letter in letters)
    # The good events went on to be judged, all of them.
    assert service.results[0].n_rows == WINDOW and service.results[0].n_labeled == WINDOW


def test_a_window_with_too_few_rows_is_reported_as_such_not_as_drift(monitor_run):
    run = monitor_run(window_s=2.0, label_wait_s=0.5)
    # 40 trips, all with a doubled distance: plenty of "drift", but far too few rows to judge.
    traffic = Traffic(seed=SEED)
    from mlgameday.monitor.synthetic import Shift

    run.send(traffic.events(40, shifts=(Shift("trip_distance", multiply=2.0),)))
    service = run.run_until(judged(1), timeout_s=30)
    result = service.results[0]
    assert result.status == "too_few_rows" and "40 rows < monitor.min_rows 200" in result.reason
    assert result.drift == [] and result.quality is None
    assert run.alerts() == []


def test_reference_missing_a_column_fails_at_start_naming_it(tmp_path: Path):
    frame = Traffic(seed=SEED).reference(200).drop(columns=["mean_speed_30m"])
    path = tmp_path / "reference.parquet"
    frame.to_parquet(path)
    settings = load_settings(run_dir=tmp_path / "run", monitor={"reference_path": str(path)})
    with pytest.raises(ReferenceError_, match="has no column 'mean_speed_30m'"):
        MonitorService(settings, lookup=None)
