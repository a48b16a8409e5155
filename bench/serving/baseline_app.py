"""Baseline for bench.py: a plain FastAPI app (uvicorn) with the same model and the Feast SDK per request.

No cache, no Kafka publishing: the straightforward way to serve the model. Settings from
GAMEDAY_CONFIG (the same file the bench gives the BentoML service).
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

from mlgameday.config import load_settings
from mlgameday.contracts import ZONE_FEATURES
from mlgameday.features.online import read_zone_features
from mlgameday.features.store import open_store
from mlgameday.serving.schemas import TripRequest
from mlgameday.models.store import load_model, resolve_tag, use_model_store

settings = load_settings()
use_model_store(settings)
model = load_model(resolve_tag(settings.serving.model))
store = open_store(settings)
app = FastAPI()


class Batch(BaseModel):
    trips: list[TripRequest]


def _predict(trips: list[TripRequest]) -> list[dict]:
    now = datetime.now(timezone.utc)
    features = read_zone_features(store, sorted({t.pickup_zone for t in trips}))
    rows = []
    for t in trips:
        when = t.request_time or now
        zone = features[t.pickup_zone].values
        rows.append([t.trip_distance, t.passenger_count, when.hour, when.weekday(),
                     *(model.fallback[n] if zone[n] is None else zone[n] for n in ZONE_FEATURES)])
    etas = model.predict(np.asarray(rows, dtype=float))
    return [{"trip_id": t.trip_id, "eta_s": float(e), "model_tag": model.tag} for t, e in zip(trips, etas)]


@app.post("/predict")
def predict(trip: TripRequest) -> dict:
    return _predict([trip])[0]


@app.post("/predict_batch")
def predict_batch(batch: Batch) -> dict:
    return {"predictions": _predict(batch.trips)}
