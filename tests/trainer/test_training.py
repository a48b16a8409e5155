"""Training on seeded history: the point-in-time training set, the variants' ordering, the saved artifacts."""

from __future__ import annotations

import pytest

import json
import subprocess
import sys

import pandas as pd

from mlgameday.contracts import MODEL_FEATURES
from mlgameday.models.store import list_models, load_model, resolve_tag, use_model_store

from ..trained import HISTORY_RATE

pytestmark = pytest.mark.integration  # needs a real broker / server


def test_accurate_beats_fast_and_the_mean_baseline_on_held_out_data(trained_run):
    fast, accurate, worse = (trained_run.models[v].metrics for v in ("fast", "accurate", "worse"))
    # Held-out = the later period; the mean baseline predicts the training mean for every trip.
    assert accurate["mae_s"] < 0.92 * fast["mae_s"], (accurate, fast)
    assert accurate["mae_s"] < 0.6 * accurate["baseline_mae_s"], accurate
    assert fast["mae_s"] < 0.75 * accurate["baseline_mae_s"], fast
    # The bad-canary model is measurably worse than the live (accurate) one.
    assert worse["mae_s"] > 1.15 * accurate["mae_s"], (worse, accurate)
    for metrics in (fast, accurate, worse):
        assert metrics["rows"] > 500
        assert metrics["p90_abs_error_s"] >= metrics["mae_s"] * 0.9
        assert metrics["rmse_s"] >= metrics["mae_s"]


def test_models_are_in_the_store_with_labels_metadata_and_files(trained_run):
    use_model_store(trained_run.settings)
    stored = {m.tag: m for m in list_models()}
    for variant, trained in trained_run.models.items():
        info = stored[trained.tag]
        assert info.variant == variant and info.feature_service == "triptime_v1"
        assert info.metrics["mae_s"] == trained.metrics["mae_s"]
        for name in ("model.joblib", "reference.parquet", "model_card.md", "evaluation.html"):
            assert (info.path / name).is_file(), name
        reference = pd.read_parquet(info.path / "reference.parquet")
        assert list(reference.columns) == [*MODEL_FEATURES, "zone_id", "event_timestamp", "prediction_s", "duration_s"]
        assert len(reference) > 500 and reference[list(MODEL_FEATURES)].notna().all().all()
        card = (info.path / "model_card.md").read_text()
        assert variant in card and "triptime_v1" in card and "train:" in card
    assert resolve_tag("accurate") == trained_run.models["accurate"].tag


def test_reference_predictions_are_the_models_own(trained_run):
    use_model_store(trained_run.settings)
    model = load_model(trained_run.models["accurate"].tag)
    reference = pd.read_parquet(model.reference_path)
    again = model.predict(reference[list(MODEL_FEATURES)].to_numpy(float))
    assert abs(again - reference["prediction_s"].to_numpy()).max() < 1e-6


def test_the_linear_model_does_not_extrapolate_beyond_its_training_range(trained_run):
    """Live drill traffic has zone counts ~100x the history's: a linear model must answer as at
    the edge of what it saw, not predict hours (the unclipped one did: MAE 3,300 s online)."""
    from mlgameday.trainer.clip import ClipToTrainingRange

    use_model_store(trained_run.settings)
    model = load_model(trained_run.models["fast"].tag)
    reference = pd.read_parquet(model.reference_path)[list(MODEL_FEATURES)]
    # The edge is the training set's maximum (the reference is a sample of it and may miss that row).
    clip = model.estimator.named_steps[ClipToTrainingRange.__name__.lower()]
    highest = dict(zip(model.features, clip.high_))
    edge = reference.median().to_numpy(float)
    dense = edge.copy()
    for column in ("requests_15m", "completed_30m"):
        edge[MODEL_FEATURES.index(column)] = highest[column]
        dense[MODEL_FEATURES.index(column)] = 200 * highest[column]
    at_edge, far_out = model.predict(edge[None, :])[0], model.predict(dense[None, :])[0]
    assert far_out == at_edge
    assert 60 < at_edge < 3600                                   # a plausible trip, not hours


def test_the_training_window_is_a_time_split(trained_run):
    use_model_store(trained_run.settings)
    model = load_model(trained_run.models["fast"].tag)
    import bentoml

    training = bentoml.models.get(model.tag).info.metadata["training"]
    assert pd.Timestamp(training["train_end"]) < pd.Timestamp(training["test_start"])
    # The later holdout_share of the trips, whatever their density over time (seeded days, live hours).
    held_out = training["test_rows"] / (training["train_rows"] + training["test_rows"])
    assert abs(held_out - trained_run.settings.trainer.holdout_share) < 0.01, held_out
    json.dumps(training)  # plain data, readable by `gameday model list --json`


def test_an_empty_model_store_lists_nothing_and_says_to_train(tmp_path):
    from mlgameday.config import load_settings
    from mlgameday.stack.component import StackContext
    from mlgameday.stack.state import RunFolder
    from mlgameday.serving.component import ServingComponent
    from mlgameday.models.store import ModelStoreError, untrained

    settings = load_settings(run_dir=tmp_path / "run")
    use_model_store(settings)
    assert list_models() == []
    try:
        resolve_tag("accurate")
    except ModelStoreError as exc:
        assert "gameday train" in str(exc)
    else:
        raise AssertionError("resolve_tag found a model in an empty store")
    # Under `gameday up`, serving is skipped with a message saying what to run, not a failure.
    component, reports = ServingComponent(skip_unless=untrained), []
    ctx = StackContext(settings, RunFolder(settings.run_path), {}, report=lambda name, msg: reports.append(msg))
    component.prepare(ctx)
    assert component.launch(ctx, {"http": 1}) is None
    skipped = component.endpoints(ctx, {"http": 1})["skipped"]
    assert "gameday train" in skipped and "gameday chaos start serving" in skipped and reports == [skipped]


def test_a_few_minutes_of_live_labels_are_not_a_history():
    """The drill starts the producer before the first training: its first labels must not stop
    the history from being created (the trainer then failed on 2 labels)."""
    from mlgameday.history import is_history

    def labels(n: int, span: str) -> pd.DataFrame:
        step = pd.Timedelta(span) / max(n, 1)
        return pd.DataFrame({"event_timestamp": pd.date_range("2026-11-20", periods=n, freq=step, tz="UTC")})

    assert not is_history(labels(0, "1h"))
    assert not is_history(labels(2, "2s"))
    assert not is_history(labels(5_000, "5min"))  # a live burst
    assert is_history(labels(30_000, "3D"))


def test_since_trains_on_recent_trips_only_and_names_a_window_too_narrow(trained_run):
    """`gameday train --since 75m`: retrain on recent data (the fix for drift), judged on its latest part."""
    def gameday(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mlgameday", "--config", str(trained_run.config_file), *args],
                              capture_output=True, text=True, timeout=600)

    started = pd.Timestamp.now(tz="UTC")
    done = gameday("train", "--variant", "worse", "--since", "75m", "--json")
    assert done.returncode == 0, done.stderr
    tag = json.loads(done.stdout)[0]["tag"]
    use_model_store(trained_run.settings)
    import bentoml

    training = bentoml.models.get(tag).info.metadata["training"]
    assert pd.Timestamp(training["train_start"]) >= started - pd.Timedelta(minutes=76)
    usable = HISTORY_RATE * 60 * 60                   # the history's settled, mature hour of trips
    assert 0.1 * usable < training["train_rows"] + training["test_rows"] < 0.5 * usable  # its last 15 min

    # A variant name still means its newest model; drills start from the newest whole-history one.
    assert training["since_s"] == 75 * 60
    assert resolve_tag("worse") == tag
    assert resolve_tag("worse", whole_history=True) == trained_run.models["worse"].tag

    narrow = gameday("train", "--variant", "worse", "--since", "1s")
    assert narrow.returncode == 1 and "--since" in narrow.stderr and "at least 200" in narrow.stderr, narrow.stderr
    bad = gameday("train", "--since", "yesterday")
    assert bad.returncode == 2 and "yesterday" in bad.stderr, bad.stderr


def test_if_missing_trains_only_the_variants_the_store_lacks(trained_run):
    """`gameday train --if-missing` (the chart's trainer Job at an upgrade): nothing when every variant asked
    for has a model; an unknown variant is still refused."""
    def gameday(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mlgameday", "--config", str(trained_run.config_file), *args],
                              capture_output=True, text=True, timeout=600)

    use_model_store(trained_run.settings)
    before = [m.tag for m in list_models()]
    done = gameday("train", "--variant", "all", "--if-missing", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [] and "nothing to train" in done.stderr, (done.stdout, done.stderr)
    assert [m.tag for m in list_models()] == before
    refused = gameday("train", "--variant", "better", "--if-missing")
    assert refused.returncode != 0 and "unknown variant 'better'" in refused.stdout + refused.stderr
