"""What one judged window found: the figures the alerts, metrics, table and reports share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .slices import SliceQuality


@dataclass
class ColumnDrift:
    column: str
    method: str
    score: float
    threshold: float
    drifted: bool  # Evidently's own verdict (its ValueDrift test failed)


@dataclass
class Quality:
    """Regression quality of the labelled rows. Error = prediction - actual (seconds):
    a positive bias means the model over-predicts trip durations, negative under-predicts."""

    n: int
    mae: float
    rmse: float
    bias: float
    ref_mae: float
    ref_rmse: float
    ref_bias: float

    @property
    def mae_increase(self) -> float:
        """(MAE - reference MAE) / reference MAE: 0.3 means 30 % worse than at training time."""
        return (self.mae - self.ref_mae) / self.ref_mae if self.ref_mae > 0 else 0.0


@dataclass
class Freshness:
    """Age of the online features the predictions used (Prediction.feature_age_s)."""

    n: int
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    stale_share: float  # stale flag, older than max_feature_age_s, or no features at all
    missing_share: float


@dataclass
class SkewColumn:
    column: str
    pairs: int
    served_mean: float
    offline_mean: float
    relative_difference: float
    skewed: bool


@dataclass
class WindowResult:
    index: int
    model_tag: str
    # ok | too_few_rows | no_reference
    status: str
    reason: str = ""
    n_rows: int = 0
    n_labeled: int = 0
    label_coverage: float = 0.0
    close_reason: str = ""
    first_event: str | None = None
    last_event: str | None = None
    judged_at: str = ""
    drift: list[ColumnDrift] = field(default_factory=list)
    drift_share: float | None = None
    prediction_drift: ColumnDrift | None = None
    quality: Quality | None = None
    quality_status: str = ""  # ok | waiting for labels (n < min) | too few labels (under half)
    freshness: Freshness | None = None
    skew: list[SkewColumn] = field(default_factory=list)
    skew_status: str = ""  # ok | off | unavailable: <why>
    # Share of the predictions that got each zone feature's fallback because it was missing or NaN.
    missing: dict[str, float] = field(default_factory=dict)
    # Quality per slice over the last few windows (slices with enough labelled trips).
    slices: list[SliceQuality] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    eval_s: float = 0.0
    report_html: str | None = None
    report_json: str | None = None
    workspace_run: str | None = None

    @property
    def worst_drift(self) -> ColumnDrift | None:
        """The column furthest past (or closest to) its threshold."""
        if not self.drift:
            return None
        return max(self.drift, key=lambda d: d.score / d.threshold if d.threshold else d.score)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.quality is not None:
            data["quality"]["mae_increase"] = self.quality.mae_increase
        for item, quality in zip(data["slices"], self.slices):
            item["increase"] = quality.increase
        return data
