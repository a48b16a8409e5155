"""Train the ETA variants on the labels history and save each into the BentoML model store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..city import CITY
from ..config import Settings
from ..contracts import FEATURE_SERVICE, MODEL_FEATURES, TARGET
from ..models.store import (CARD_FILE, PLOTS_FILE, REFERENCE_FILE, EtaModel, list_models, save_model,
                            use_model_store)
from .card import model_card
from .dataset import TrainerError, TrainingData, build_training_data, recent_labels, usable_labels
from .evaluate import error_metrics, latency_per_row, write_plots
from .variants import VARIANTS, Variant

Report = Callable[[str], None]


@dataclass
class TrainedModel:
    tag: str
    variant: str
    metrics: dict[str, float]
    path: Path

    def as_dict(self) -> dict:
        return {"tag": self.tag, "variant": self.variant, "metrics": self.metrics, "path": str(self.path)}


def train(settings: Settings, variants: Sequence[str] = tuple(VARIANTS), report: Report = lambda _: None,
          labels: pd.DataFrame | None = None, since_s: float | None = None) -> list[TrainedModel]:
    """Build the point-in-time training set once, then fit, evaluate and save each variant.

    `since_s`: only the trips requested in that many seconds before now (retrain on recent data).
    """
    from ..features.history import load_trip_labels
    from ..features.store import open_store

    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise TrainerError(f"unknown variant {unknown[0]!r}", hint=f"pick from: {', '.join(VARIANTS)}, all")
    use_model_store(settings)
    report("reading the labels history")
    labels = usable_labels(load_trip_labels(settings) if labels is None else labels)
    if since_s is not None:
        labels = recent_labels(labels, since_s)
    report(f"point-in-time join of {len(labels)} trips with zone_stats (Feast, DuckDB offline store)")
    data = build_training_data(settings, open_store(settings), labels)
    data.since_s = since_s
    report(f"train {len(data.train)} trips before {data.cutoff}, evaluate on {len(data.test)} after")
    return [train_variant(settings, VARIANTS[name], data, report) for name in variants]


def untrained_variants(settings: Settings, variants: Sequence[str]) -> tuple[str, ...]:
    """Those of `variants` with no model in the store yet (`gameday train --if-missing`: an upgrade of the
    chart runs its trainer Job again, and a model per variant is what the services need)."""
    use_model_store(settings)
    trained = {model.variant for model in list_models()}
    return tuple(v for v in variants if v not in trained)


def train_variant(settings: Settings, variant: Variant, data: TrainingData, report: Report) -> TrainedModel:
    report(f"{variant.name}: fitting")
    columns = [MODEL_FEATURES.index(name) for name in variant.features]
    x_train = data.train[list(MODEL_FEATURES)].to_numpy(float)
    x_test = data.test[list(MODEL_FEATURES)].to_numpy(float)
    y_train, y_test = data.train[TARGET].to_numpy(float), data.test[TARGET].to_numpy(float)
    estimator = variant.build(settings.trainer.seed).fit(x_train[:, columns], y_train)
    # Evaluate through the same wrapper serving uses, so offline and online predictions agree.
    model = EtaModel(tag="(unsaved)", variant=variant.name, features=variant.features,
                     feature_service=FEATURE_SERVICE, fallback=data.fallback, metrics={}, path=Path("."), estimator=estimator)
    predicted = model.predict(x_test)
    # The serving shortcut (see model_store._fast_predict) must equal the estimator itself.
    if not np.allclose(predicted, estimator.predict(x_test[:, columns]), rtol=1e-6, atol=1e-3):
        raise TrainerError(f"{variant.name}: the fast predict path disagrees with the estimator")
    metrics = {**error_metrics(y_test, predicted), **latency_per_row(model.predict, x_test)}
    baseline = error_metrics(y_test, np.full_like(y_test, y_train.mean()))
    metrics["baseline_mae_s"] = baseline["mae_s"]
    report(f"{variant.name}: MAE {metrics['mae_s']:.1f}s (mean baseline {baseline['mae_s']:.1f}s), "
           f"p90 {metrics['p90_abs_error_s']:.1f}s")

    def write_files(folder: Path, tag: str) -> None:
        # From the held-out trips: the monitor holds live windows to this sample's MAE, and live
        # predictions are out-of-sample too (an in-sample MAE would make every window look worse).
        reference = data.test.sample(min(len(data.test), settings.trainer.reference_rows),
                                     random_state=settings.trainer.seed).sort_values("event_timestamp")
        reference = reference[[*MODEL_FEATURES, "zone_id", "event_timestamp", TARGET]].copy()
        reference["prediction_s"] = model.predict(reference[list(MODEL_FEATURES)].to_numpy(float))
        reference[[*MODEL_FEATURES, "zone_id", "event_timestamp", "prediction_s", TARGET]].to_parquet(
            folder / REFERENCE_FILE, index=False)
        evaluated = data.test[["duration_s", "trip_distance", "zone_id"]].copy()
        evaluated["prediction_s"] = predicted
        evaluated["borough"] = CITY.borough[np.clip(evaluated["zone_id"].to_numpy(int), 1, len(CITY.borough)) - 1]
        write_plots(folder / PLOTS_FILE, f"{variant.name}: held-out {data.window()['test_start']} →", evaluated)
        (folder / CARD_FILE).write_text(model_card(
            tag, variant, FEATURE_SERVICE, data.window(), metrics, baseline,
            data.fallback, data.missing_share))

    tag, path = save_model(variant=variant.name, estimator=estimator, features_used=variant.features,
                     fallback=data.fallback, metrics=metrics,
                     training={**data.window(), "missing_share": data.missing_share}, write_files=write_files)
    report(f"{variant.name}: saved {tag}")
    return TrainedModel(tag=tag, variant=variant.name, metrics=metrics, path=path)
