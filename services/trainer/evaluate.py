"""Evaluation on the held-out later period: error metrics, latency per row, plots."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd


def error_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, p90 absolute error and mean signed error (bias), all in seconds."""
    error = np.asarray(predicted, dtype=float) - np.asarray(actual, dtype=float)
    absolute = np.abs(error)
    return {
        "mae_s": round(float(absolute.mean()), 3),
        "rmse_s": round(float(np.sqrt((error ** 2).mean())), 3),
        "p90_abs_error_s": round(float(np.quantile(absolute, 0.9)), 3),
        "bias_s": round(float(error.mean()), 3),
        "rows": int(len(error)),
    }


def latency_per_row(predict: Callable[[np.ndarray], np.ndarray], rows: np.ndarray,
                    single_row_calls: int = 300) -> dict[str, float]:
    """Microseconds per row when predicting a whole batch, and per call for one row."""
    started = time.perf_counter()
    predict(rows)
    batch_us = (time.perf_counter() - started) / max(len(rows), 1) * 1e6
    calls = min(single_row_calls, len(rows))
    started = time.perf_counter()
    for i in range(calls):
        predict(rows[i:i + 1])
    single_us = (time.perf_counter() - started) / max(calls, 1) * 1e6
    return {"latency_us_per_row_batch": round(batch_us, 3), "latency_us_single_row": round(single_us, 1)}


def write_plots(path: Path, title: str, frame: pd.DataFrame) -> None:
    """One self-contained HTML page: predicted vs actual, residuals by trip length and by borough.

    `frame` has columns duration_s, prediction_s, trip_distance and (optionally) borough.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sample = frame.sample(min(len(frame), 3000), random_state=0)
    residual = frame["prediction_s"] - frame["duration_s"]
    has_borough = "borough" in frame
    fig = make_subplots(rows=1, cols=3 if has_borough else 2, subplot_titles=(
        "predicted vs actual (s)", "residual by trip distance, miles (s)",
        *(["residual by pickup borough (s)"] if has_borough else [])))
    fig.add_trace(go.Scattergl(x=sample["duration_s"], y=sample["prediction_s"], mode="markers",
                               marker={"size": 3, "opacity": 0.4}, name="trips"), row=1, col=1)
    top = float(np.quantile(frame["duration_s"], 0.99))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="ideal",
                             line={"dash": "dash"}), row=1, col=1)
    bands = pd.cut(frame["trip_distance"], [0, 1, 2, 3, 5, 10, 20, np.inf],
                   labels=["<1", "1-2", "2-3", "3-5", "5-10", "10-20", "20+"]).astype(str)
    fig.add_trace(go.Box(x=bands, y=residual, name="by distance", boxpoints=False), row=1, col=2)
    if has_borough:
        fig.add_trace(go.Box(x=frame["borough"], y=residual, name="by borough", boxpoints=False), row=1, col=3)
    fig.update_layout(title=title, showlegend=False, height=480, width=1500)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
