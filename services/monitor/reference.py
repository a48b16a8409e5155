"""The model's reference sample: what the live windows are compared with.

The trainer saves `reference.parquet` in each model's folder of the BentoML model store
(contracts.MODEL_FEATURES + zone_id + event_timestamp + prediction_s + duration_s);
`monitor.reference_path` overrides it with a file of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Settings
from ..contracts import MODEL_FEATURES, TARGET
from .errors import ReferenceError_

PREDICTION = "prediction_s"
REQUIRED_COLUMNS = (*MODEL_FEATURES, PREDICTION, TARGET)


@dataclass(frozen=True)
class Reference:
    """A validated reference sample and the baseline quality the live windows are held to."""

    source: str
    frame: pd.DataFrame
    mae: float
    rmse: float
    # Mean error = mean(prediction - actual): positive means the model over-predicts durations.
    bias: float


def validate_reference(frame: pd.DataFrame, source: str) -> Reference:
    """Check the columns and values; the error names the first missing or unusable column."""
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise ReferenceError_(
                f"reference sample {source} has no column {column!r} "
                f"(needs {', '.join(REQUIRED_COLUMNS)})",
                hint="retrain the model (`gameday train`) or point monitor.reference_path at a complete sample")
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise ReferenceError_(f"reference sample {source}: column {column!r} is {frame[column].dtype}, not numeric",
                                  hint="the reference must hold the model's numeric features")
        if frame[column].notna().sum() == 0:
            raise ReferenceError_(f"reference sample {source}: column {column!r} is empty (all null)",
                                  hint="retrain the model so its reference sample has values")
    frame = frame[list(REQUIRED_COLUMNS)].astype(float).dropna(subset=[PREDICTION, TARGET]).reset_index(drop=True)
    if len(frame) < 30:
        raise ReferenceError_(f"reference sample {source} has {len(frame)} usable rows; at least 30 are needed",
                              hint="retrain with a larger trainer.reference_rows")
    error = frame[PREDICTION] - frame[TARGET]
    return Reference(source=source, frame=frame, mae=float(error.abs().mean()),
                     rmse=float(np.sqrt((error ** 2).mean())), bias=float(error.mean()))


def load_reference_file(path: Path) -> Reference:
    """Read and validate a parquet reference sample."""
    if not path.is_file():
        raise ReferenceError_(f"reference sample {path} does not exist",
                              hint="set monitor.reference_path to the reference.parquet of a trained model")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise ReferenceError_(f"cannot read reference sample {path}: {exc}") from None
    return validate_reference(frame, str(path))


def model_reference_path(settings: Settings, model_tag: str) -> Path:
    """Where the trainer put the reference of a stored model (the serving helper's model store)."""
    import bentoml

    from ..models.store import REFERENCE_FILE, use_model_store

    use_model_store(settings)
    try:
        return Path(bentoml.models.get(model_tag).path) / REFERENCE_FILE
    except bentoml.exceptions.NotFound:
        raise ReferenceError_(f"model {model_tag!r} is not in the model store; no reference to compare with",
                              hint="see `gameday model list`, or set monitor.reference_path") from None


class References:
    """Reference per model tag, loaded once (the override file, when set, serves every tag)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, Reference] = {}
        self._override = load_reference_file(settings.monitor.reference_path) if settings.monitor.reference_path else None

    def for_model(self, model_tag: str) -> Reference:
        if self._override is not None:
            return self._override
        if model_tag not in self._cache:
            self._cache[model_tag] = load_reference_file(model_reference_path(self.settings, model_tag))
        return self._cache[model_tag]
