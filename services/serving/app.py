"""Build the service's Predictor from the typed config (the heavy part of TripTime.__init__)."""

from __future__ import annotations

import logging

from ..config import Settings, load_settings
from ..errors import GamedayError
from ..runtime.logs import log_event, setup_logging
from ..stack.endpoints import kafka_bootstrap
from .engine import Predictor

log = logging.getLogger("serving")


def publishing_bootstrap(settings: Settings) -> str | None:
    """The broker to publish to (configured, or the stack's); None: predictions are counted as dropped."""
    try:
        return kafka_bootstrap(settings)
    except GamedayError as exc:
        log.warning("no Kafka broker for predictions: %s", exc)
        return None


def build_predictor(settings: Settings | None = None) -> Predictor:
    """Load the models and open the feature store; raises a GamedayError saying what to do if not possible."""
    from ..features.definitions import FEATURE_VIEW
    from ..features.store import open_store
    from ..models.store import use_model_store

    setup_logging("serving")
    # One access-log line per request would cost more than the prediction; metrics count them.
    for access in ("uvicorn.access", "bentoml.access"):
        logging.getLogger(access).setLevel(logging.WARNING)
    settings = settings or load_settings()
    use_model_store(settings)
    store = open_store(settings)
    ttl = store.get_feature_view(FEATURE_VIEW).ttl
    ttl_s = ttl.total_seconds() if ttl else float("inf")
    bootstrap = publishing_bootstrap(settings)
    predictor = Predictor(settings, store, ttl_s=ttl_s, bootstrap=bootstrap)
    log_event(log, "serving ready", run_dir=str(settings.run_path), kafka=bootstrap, feature_ttl_s=ttl_s,
              models=predictor.models.describe())
    return predictor
