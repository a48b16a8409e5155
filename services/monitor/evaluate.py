"""Judge one window with Evidently: data drift per feature, prediction drift, regression quality.

One Report per window, current = the window's predictions, reference = the model's
reference sample. Quality metrics are added only when enough labels arrived; Evidently's
regression metrics skip the rows whose label is still missing (NaN).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Regression, Report
from evidently.core.report import Snapshot
from evidently.metrics import MAE, RMSE, DriftedColumnsCount, MeanError, ValueDrift

from ..config import MonitorSettings
from ..contracts import MODEL_FEATURES, PREDICTION, TARGET, ZONE_FEATURES
from .reference import Reference
from .results import ColumnDrift, Freshness, Quality, WindowResult


def drift_columns(cfg: MonitorSettings) -> list[str]:
    return [c for c in MODEL_FEATURES if c not in cfg.drift_exclude]


def data_definition(cfg: MonitorSettings) -> DataDefinition:
    categorical = [c for c in MODEL_FEATURES if c in cfg.categorical]
    numerical = [c for c in MODEL_FEATURES if c not in cfg.categorical] + [PREDICTION, TARGET]
    return DataDefinition(numerical_columns=numerical, categorical_columns=categorical,
                          regression=[Regression(target=TARGET, prediction=PREDICTION)])


def numeric_threshold(cfg: MonitorSettings, rows: int, reference_rows: int) -> float | None:
    """The drift threshold for numeric columns: fixed, or above the sampling noise of this window."""
    if cfg.drift_threshold is not None or cfg.num_method != "wasserstein":
        return cfg.drift_threshold
    return max(0.1, cfg.drift_noise_k * math.sqrt(1 / max(rows, 1) + 1 / max(reference_rows, 1)))


def cat_threshold(cfg: MonitorSettings) -> float:
    return cfg.drift_threshold if cfg.drift_threshold is not None else cfg.categorical_threshold


def build_report(cfg: MonitorSettings, with_quality: bool, rows: int, reference_rows: int,
                 metadata: dict[str, Any] | None = None) -> Report:
    columns = drift_columns(cfg)
    num_threshold = numeric_threshold(cfg, rows, reference_rows)

    def method_and_threshold(column: str) -> dict[str, Any]:
        if column in cfg.categorical:
            return {"method": cfg.cat_method, "threshold": cat_threshold(cfg)}
        return {"method": cfg.num_method, "threshold": num_threshold}

    metrics: list = [DriftedColumnsCount(columns=columns, num_method=cfg.num_method, cat_method=cfg.cat_method,
                                         num_threshold=num_threshold, cat_threshold=cat_threshold(cfg))]
    metrics += [ValueDrift(column=c, **method_and_threshold(c)) for c in columns]
    metrics.append(ValueDrift(column=PREDICTION, **method_and_threshold(PREDICTION)))
    if with_quality:
        metrics += [MAE(), RMSE(), MeanError()]
    return Report(metrics, include_tests=True, metadata=metadata or {}, tags=["mlgameday", "window"])


def run_report(frame: pd.DataFrame, reference: Reference, cfg: MonitorSettings,
               with_quality: bool, metadata: dict[str, Any] | None = None) -> Snapshot:
    """Run the window's Evidently report (the part of a window's cost that grows with rows)."""
    columns = [*MODEL_FEATURES, PREDICTION, TARGET]
    definition = data_definition(cfg)
    current = Dataset.from_pandas(frame[columns].astype(float), data_definition=definition)
    ref = Dataset.from_pandas(reference.frame[columns], data_definition=definition)
    return build_report(cfg, with_quality, len(frame), len(reference.frame), metadata).run(current, ref)


def screen(frame: pd.DataFrame, cfg: MonitorSettings, result: WindowResult) -> None:
    """Fill `result` with what needs no label: the window's rows, freshness and missing features (the
    skew check is skew.check_skew). A window of fewer than min_rows rows is judged on nothing."""
    result.n_rows = len(frame)
    result.freshness = freshness(frame, cfg)
    result.missing = missing_shares(frame)
    if len(frame) < cfg.min_rows:
        result.status = "too_few_rows"
        result.reason = f"{len(frame)} rows < monitor.min_rows {cfg.min_rows}: not judged for drift or quality"


def judge(frame: pd.DataFrame, reference: Reference, cfg: MonitorSettings,
          result: WindowResult) -> Snapshot | None:
    """Add the window's drift and quality to its screened `result` (screen() ran on the same frame);
    return Evidently's snapshot (None for a window too small to judge)."""
    started = time.perf_counter()
    result.n_labeled = int(frame[TARGET].notna().sum())
    result.label_coverage = result.n_labeled / len(frame) if len(frame) else 0.0
    if result.status == "too_few_rows":
        return None
    # Under half its labels, a window's labelled rows are its shortest trips (the first labels to come): a
    # biased sample, not judged for quality (labels.missing says why).
    few = cfg.labels_missing(result.label_coverage)
    with_quality = result.n_labeled >= cfg.min_labeled_rows and not few
    snapshot = run_report(frame, reference, cfg, with_quality,
                          {"window": str(result.index), "model_tag": result.model_tag})
    read_snapshot(snapshot.dict(), reference, result)
    result.quality_status = "ok" if with_quality else (
        f"waiting for labels ({result.n_labeled} < monitor.min_labeled_rows {cfg.min_labeled_rows})"
        if not few else f"too few labels ({result.label_coverage:.0%} < monitor.labels_missing_below "
                        f"{cfg.labels_missing_below:.0%}): the labelled ones are the shortest trips")
    result.status = "ok"
    result.eval_s = time.perf_counter() - started
    return snapshot


def read_snapshot(data: dict[str, Any], reference: Reference, result: WindowResult) -> None:
    """Pick the figures out of Evidently's snapshot dict (metrics + their tests' verdicts)."""
    verdicts: dict[str, str] = {}
    for test in data.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type", "").endswith("ValueDrift"):
            verdicts[params["column"]] = test.get("status", "")
    quality: dict[str, float] = {}
    for metric in data["metrics"]:
        config, value = metric["config"], metric["value"]
        kind = config["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            column = config["column"]
            drift = ColumnDrift(column=column, method=str(config.get("method")), score=float(value),
                                threshold=float(config.get("threshold") or 0.0),
                                drifted=verdicts.get(column) == "FAIL")
            if column == PREDICTION:
                result.prediction_drift = drift
            else:
                result.drift.append(drift)
        elif kind == "DriftedColumnsCount":
            result.drift_share = float(value["share"])
        elif kind == "MAE":
            quality["mae"] = float(value["mean"])
        elif kind == "RMSE":
            quality["rmse"] = float(value)
        elif kind == "MeanError":
            quality["bias"] = float(value["mean"])
    if quality:
        result.quality = Quality(n=result.n_labeled, mae=quality["mae"], rmse=quality["rmse"], bias=quality["bias"],
                                 ref_mae=reference.mae, ref_rmse=reference.rmse, ref_bias=reference.bias)


def missing_shares(frame: pd.DataFrame) -> dict[str, float]:
    """Per zone feature: the share of the window's predictions that got its fallback because serving
    found it missing or NaN."""
    if not len(frame):
        return {}
    return {name: float(frame["missing"].map(lambda names, name=name: name in names).mean()) for name in ZONE_FEATURES}


def freshness(frame: pd.DataFrame, cfg: MonitorSettings) -> Freshness:
    ages = frame["feature_age_s"].astype(float)
    known = ages.dropna()
    stale = frame["stale"].astype(bool) | ages.isna() | (ages > cfg.max_feature_age_s)
    n = len(frame)

    def q(p: float) -> float | None:
        return float(np.quantile(known, p)) if len(known) else None

    return Freshness(n=n, p50_s=q(0.5), p95_s=q(0.95), max_s=float(known.max()) if len(known) else None,
                     stale_share=float(stale.mean()) if n else 0.0,
                     missing_share=float(ages.isna().mean()) if n else 0.0)
