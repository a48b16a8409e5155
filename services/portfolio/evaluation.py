"""A model's evaluation from its real predictions joined to their labels: residuals and a precision–recall
curve for flagging the trips that will end late.

The rows are the model's reference sample (reference.parquet in its model-store folder): held-out
trips, later than every training trip, each with the duration it really took and the ETA the model
predicted for it out of sample — the trainer's own evaluation rows, and the monitor's baseline.

"Late": the trip ends more than N minutes after its ETA (N: the impact model's late threshold, the
same lateness the drills price). The flag's score is the ETA itself — the model's only output, and a
longer predicted trip carries a larger absolute error — so the curve says how well this model's ETAs
single out, at booking, the trips whose quote will be too short.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..models.store import REFERENCE_FILE


@dataclass
class LatenessCurve:
    threshold_min: float
    base_rate: float  # share of the trips that were late
    average_precision: float
    precision: np.ndarray
    recall: np.ndarray
    thresholds_s: np.ndarray  # the ETA above which a trip is flagged, per point (one fewer than precision)
    rows: int

    def at_recall(self, wanted: float) -> tuple[float, float]:
        """(precision, ETA threshold in s) of the best-precision point with at least `wanted` recall."""
        ok = np.flatnonzero(self.recall[:-1] >= wanted)
        if not len(ok):
            return float("nan"), float("nan")
        best = ok[np.argmax(self.precision[ok])]
        return float(self.precision[best]), float(self.thresholds_s[best])


def predictions_with_labels(model_folder: Path) -> pd.DataFrame:
    """The model's held-out trips: features, prediction_s (its out-of-sample ETA) and duration_s (the label)."""
    frame = pd.read_parquet(model_folder / REFERENCE_FILE)
    return frame[frame["duration_s"].notna() & frame["prediction_s"].notna()]


def lateness_curve(frame: pd.DataFrame, threshold_min: float) -> LatenessCurve:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    actual, eta = frame["duration_s"].to_numpy(float), frame["prediction_s"].to_numpy(float)
    late = (actual - eta) > threshold_min * 60
    if late.all() or not late.any():  # one class only: no curve to draw
        rate = float(late.mean()) if len(late) else 0.0
        return LatenessCurve(threshold_min, rate, rate, np.array([rate, 1.0]), np.array([1.0, 0.0]), np.array([0.0]),
                             len(frame))
    precision, recall, thresholds = precision_recall_curve(late, eta)
    return LatenessCurve(threshold_min, float(late.mean()), float(average_precision_score(late, eta)),
                         precision, recall, thresholds, len(frame))


def residual_figure(frame: pd.DataFrame, title: str, max_points: int = 2000) -> Any:
    """Predicted against actual, and residuals (ETA − actual) by trip distance."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sample = frame.sample(min(len(frame), max_points), random_state=0)
    residual = frame["prediction_s"] - frame["duration_s"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ETA against the actual duration (s)",
                                                        "residual, ETA − actual (s), by trip distance (miles)"))
    fig.add_trace(go.Scattergl(x=sample["duration_s"], y=sample["prediction_s"], mode="markers",
                               marker={"size": 3, "opacity": 0.35}, name="held-out trips"), row=1, col=1)
    top = float(np.quantile(frame["duration_s"], 0.99))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dash"}, name="ETA = actual"),
                  row=1, col=1)
    names = ["<1", "1-2", "2-3", "3-5", "5-10", "10-20", "20+"]
    bands = pd.cut(frame["trip_distance"], [0, 1, 2, 3, 5, 10, 20, np.inf], labels=names).astype(str)
    fig.add_trace(go.Box(x=bands, y=residual, name="residual", boxpoints=False), row=1, col=2)
    fig.update_xaxes(categoryorder="array", categoryarray=names, row=1, col=2)
    fig.update_layout(title=title, showlegend=False, height=380, margin={"l": 50, "r": 20, "t": 60, "b": 40})
    return fig


def lateness_figure(curves: dict[str, LatenessCurve]) -> Any:
    """One precision–recall curve per model, on the same axes."""
    import plotly.graph_objects as go

    fig = go.Figure()
    threshold = next(iter(curves.values())).threshold_min if curves else 0
    for name, curve in curves.items():
        fig.add_trace(go.Scatter(x=curve.recall, y=curve.precision, mode="lines",
                                 name=f"{name}: AP {curve.average_precision:.2f} (late share {curve.base_rate:.1%})"))
        fig.add_trace(go.Scatter(x=[0, 1], y=[curve.base_rate] * 2, mode="lines", showlegend=False,
                                 line={"dash": "dot", "width": 1}, hoverinfo="skip"))
    fig.update_layout(title=f"Flagging trips that end more than {threshold:g} min after their ETA (score: the ETA)",
                      xaxis_title="recall", yaxis_title="precision", xaxis_range=[0, 1], yaxis_range=[0, 1.02],
                      height=420, margin={"l": 50, "r": 20, "t": 60, "b": 40})
    return fig
