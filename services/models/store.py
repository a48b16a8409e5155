"""The BentoML model store of a stack: where it lives, saving a trained ETA model, listing, loading.

The store is `<run_dir>/bentoml` (BENTOML_HOME), outside `<run_dir>/data`, so
`gameday down --wipe` keeps the trained models. Trainer, serving and CLI all reach it
through `use_model_store` / `bentoml_env` here, so they always agree on the folder.

One model name (`triptime`) holds every variant; a model's labels say which variant
and feature service it is, its metadata carries the metrics, the features it uses and
the fallback values (training medians) serving uses when a feature is missing or stale.
Its folder also holds `model.joblib`, `reference.parquet` (the monitor's baseline),
`model_card.md` and `evaluation.html`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..config import Settings
from ..contracts import FEATURE_SERVICE, MODEL_FEATURES
from ..errors import GamedayError

MODEL_NAME = "triptime"
VARIANTS = ("fast", "accurate", "worse")
ESTIMATOR_FILE = "model.joblib"
REFERENCE_FILE = "reference.parquet"
CARD_FILE = "model_card.md"
PLOTS_FILE = "evaluation.html"


class ModelStoreError(GamedayError):
    kind = "ModelError"


def model_store_home(settings: Settings) -> Path:
    return settings.run_path / "bentoml"


def bentoml_env(settings: Settings) -> dict[str, str]:
    """Environment for a process that uses the stack's model store (e.g. `bentoml serve`)."""
    return {"BENTOML_HOME": str(model_store_home(settings)), "BENTOML_DO_NOT_TRACK": "true"}


def use_model_store(settings: Settings) -> None:
    """Point this process's BentoML at the stack's model store (before any model call)."""
    os.environ.update(bentoml_env(settings))
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml._internal.models import ModelStore

    # BentoML caches the home on first use; a process that switches stacks (tests) must
    # override the cached providers, not only the environment variable.
    home = model_store_home(settings)
    for sub in ("bentos", "models", "envs", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    BentoMLContainer.bentoml_home.set(str(home))
    BentoMLContainer.model_store_dir.set(str(home / "models"))
    BentoMLContainer.model_store.set(ModelStore(str(home / "models")))


@dataclass
class ModelInfo:
    """What `gameday model list` shows about one stored model."""

    tag: str
    variant: str
    feature_service: str
    created: datetime
    metrics: dict[str, float]
    path: Path
    # Trained on the last since_s seconds of trips only (`gameday train --since`); None: the whole history.
    since_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "variant": self.variant, "feature_service": self.feature_service,
                "created": self.created.isoformat(), "metrics": self.metrics, "path": str(self.path),
                "since_s": self.since_s}


def save_model(*, variant: str, estimator: Any, features_used: Sequence[str], fallback: dict[str, float],
               metrics: dict[str, float], training: dict[str, Any],
               write_files: Callable[[Path, str], None]) -> tuple[str, Path]:
    """Save an estimator and its files (write_files(folder, tag)) into the store; returns the tag and folder."""
    import bentoml
    import joblib

    labels = {"variant": variant, "feature_service": FEATURE_SERVICE}
    metadata = {"variant": variant, "feature_service": FEATURE_SERVICE, "features": list(features_used),
                "model_features": list(MODEL_FEATURES), "fallback": fallback, "metrics": metrics,
                "training": training}
    with bentoml.models.create(MODEL_NAME, labels=labels, metadata=metadata) as ref:
        folder = Path(ref.path)
        joblib.dump(estimator, folder / ESTIMATOR_FILE)
        write_files(folder, str(ref.tag))
    return str(ref.tag), Path(bentoml.models.get(ref.tag).path)


def untrained(settings: Settings) -> str | None:
    """None once a model is stored; else why a component that needs one waits (see stack/service.py)."""
    use_model_store(settings)
    return None if list_models() else "no trained model yet — run `gameday train`"


def list_models() -> list[ModelInfo]:
    """Every stored ETA model, newest first."""
    import bentoml

    try:
        stored = bentoml.models.list(MODEL_NAME)
    except bentoml.exceptions.NotFound:  # BentoML's answer for "none of that name yet"
        return []
    infos = []
    for model in stored:
        meta = model.info.metadata
        infos.append(ModelInfo(
            tag=str(model.tag), variant=model.info.labels.get("variant", "?"),
            feature_service=model.info.labels.get("feature_service", "?"),
            created=model.info.creation_time, metrics=dict(meta.get("metrics", {})),
            path=Path(model.path), since_s=dict(meta.get("training", {})).get("since_s")))
    return sorted(infos, key=lambda m: m.created, reverse=True)


def resolve_tag(name: str, whole_history: bool = False) -> str:
    """A full tag, `triptime:latest`, or a variant name (its newest model) → the full tag.

    `whole_history`: a variant resolves to its newest model trained on the whole history, if
    any (drills start from those, not from a candidate's retrain on the last minutes).
    """
    models = list_models()
    if not models:
        raise ModelStoreError("no trained model in the model store",
                              hint="run `gameday train` first (it trains fast, accurate and worse)")
    if name in VARIANTS:
        of_variant = [info for info in models if info.variant == name]
        preferred = [info for info in of_variant if info.since_s is None] if whole_history else []
        for info in preferred or of_variant:
            return info.tag
        raise ModelStoreError(f"no model of variant {name!r} in the store",
                              hint=f"run `gameday train --variant {name}`")
    wanted = name if ":" in name else f"{MODEL_NAME}:{name}"
    if wanted == f"{MODEL_NAME}:latest":
        return models[0].tag
    for info in models:
        if info.tag == wanted:
            return info.tag
    known = ", ".join(f"{m.tag} ({m.variant})" for m in models[:8])
    raise ModelStoreError(f"unknown model {name!r}", hint=f"pick one of: {known} — or a variant name")


@dataclass
class EtaModel:
    """A loaded ETA model: predict() takes rows in contracts.MODEL_FEATURES order."""

    tag: str
    variant: str
    features: tuple[str, ...]
    fallback: dict[str, float]
    metrics: dict[str, float]
    path: Path
    estimator: Any = field(repr=False)

    def __post_init__(self) -> None:
        # Indices of the features this variant uses inside a MODEL_FEATURES row.
        self._columns = [MODEL_FEATURES.index(name) for name in self.features]
        self._predict = _fast_predict(self.estimator)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """ETA in seconds for each row of an (n, len(MODEL_FEATURES)) float array."""
        return np.asarray(self._predict(rows[:, self._columns]), dtype=float)

    @property
    def reference_path(self) -> Path:
        return self.path / REFERENCE_FILE


def load_model(tag: str) -> EtaModel:
    """Load a stored model by full tag (see resolve_tag for variant names)."""
    import bentoml
    import joblib

    try:
        model = bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        raise ModelStoreError(f"model {tag!r} is not in the model store",
                              hint="see `gameday model list`, or run `gameday train`") from None
    meta = model.info.metadata
    folder = Path(model.path)
    return EtaModel(tag=str(model.tag), variant=meta["variant"], features=tuple(meta["features"]),
                    fallback={k: float(v) for k, v in meta["fallback"].items()},
                    metrics=dict(meta.get("metrics", {})), path=folder,
                    estimator=joblib.load(folder / ESTIMATOR_FILE))


def _fast_predict(estimator: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The same predictions without sklearn's per-call overhead (~200 µs a call; serving predicts one row).

    LightGBM: its native booster on one thread. [Clip +] scaler + linear model: the clip, then
    one weight vector and intercept. Anything else: the estimator's own predict.
    """
    booster = getattr(estimator, "booster_", None)
    if booster is not None:
        return lambda rows: booster.predict(rows, num_threads=1)
    steps = [step for _, step in getattr(estimator, "steps", [])]
    clip = steps.pop(0) if steps and hasattr(steps[0], "high_") else None
    if len(steps) == 2 and hasattr(steps[0], "scale_") and hasattr(steps[1], "coef_"):
        scaler, linear = steps
        weights = np.asarray(linear.coef_, dtype=float) / scaler.scale_
        intercept = float(linear.intercept_) - float(np.dot(scaler.mean_, weights))
        if clip is None:
            return lambda rows: rows @ weights + intercept
        low, high = clip.low_, clip.high_
        return lambda rows: np.clip(rows, low, high) @ weights + intercept
    return estimator.predict
