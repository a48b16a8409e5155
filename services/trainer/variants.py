"""The ETA model variants: what each one is, which features it sees, how it is built.

- fast: a linear model on all model features (inputs clipped to their training range, see
  clip.py): tiny and quick, misses the distance / speed interaction that decides most of a
  trip's duration.
- accurate: LightGBM gradient-boosted trees on all model features.
- worse: deliberately weak — a linear model trained without the trip distance (as if a
  feature-pipeline change had dropped the column): passengers and the zone features only.
  Used by the bad-canary scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..contracts import MODEL_FEATURES


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    features: tuple[str, ...]
    build: Callable[[int], Any]  # seed -> an unfitted sklearn-style estimator


def _linear(seed: int) -> Any:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .clip import ClipToTrainingRange

    return make_pipeline(ClipToTrainingRange(), StandardScaler(), Ridge(alpha=1.0))


def _boosted(seed: int) -> Any:
    from lightgbm import LGBMRegressor

    # n_jobs=1: the stack shares two cores; the training set is small enough.
    return LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=31, min_child_samples=20,
                         subsample=0.8, subsample_freq=1, colsample_bytree=1.0,
                         random_state=seed, n_jobs=1, verbose=-1)


VARIANTS: dict[str, Variant] = {
    "fast": Variant("fast", "Ridge regression on all model features, clipped to their training range (linear, "
                            "microseconds per row)",
                    MODEL_FEATURES, _linear),
    "accurate": Variant("accurate", "LightGBM gradient boosting (300 trees) on all model features",
                        MODEL_FEATURES, _boosted),
    "worse": Variant("worse", "Ridge regression without trip distance (passengers and zone features only)",
                     tuple(f for f in MODEL_FEATURES if f != "trip_distance"), _linear),
}
