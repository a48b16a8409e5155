"""The model card: what the model is, what it was trained on, how well it did."""

from __future__ import annotations

from typing import Any

from ..contracts import TARGET
from .variants import Variant


def model_card(tag: str, variant: Variant, feature_service: str, window: dict[str, Any],
               metrics: dict[str, float], baseline: dict[str, float], fallback: dict[str, float],
               missing_share: dict[str, float]) -> str:
    rows = "\n".join(f"| {name} | {metrics[name]} | {baseline.get(name, '')} |"
                     for name in ("mae_s", "rmse_s", "p90_abs_error_s", "bias_s"))
    features = "\n".join(f"- `{name}` (fallback when missing or stale: {fallback[name]:.3f})" for name in variant.features)
    missing = ", ".join(f"{k} {v:.1%}" for k, v in missing_share.items())
    return f"""# Model card — {tag}

**Variant:** `{variant.name}` — {variant.description}
**Target:** `{TARGET}` (trip duration, seconds) · **Feature service:** `{feature_service}`

## Features
{features}

Zone features come from the Feast online store at serving time and from a point-in-time
join of the offline history at training time. Rows with no zone row in the TTL before the
trip ({missing}) were filled with the training medians above — the same fallback serving
uses, flagged in each response and prediction event.

## Training window (time split)
- train: {window['train_start']} → {window['train_end']} ({window['train_rows']} trips)
- evaluation (held out, later): {window['test_start']} → {window['test_end']} ({window['test_rows']} trips)

## Metrics on the held-out period
| metric | this model | mean-duration baseline |
|---|---|---|
{rows}

Latency: {metrics['latency_us_single_row']} µs for one row, {metrics['latency_us_per_row_batch']} µs per row in a batch.

## Files
- `model.joblib` — the estimator · `reference.parquet` — training features + predictions (the monitor's baseline)
- `evaluation.html` — predicted vs actual, residuals by hour and by borough
"""
