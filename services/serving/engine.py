"""The prediction path, independent of the HTTP layer: features → model(s) → response + events.

For each request: read the pickup zones' online features (serving/features.py), build
the MODEL_FEATURES rows (request features from the request itself), replace a missing,
stale (older than the feature view's TTL) or late zone feature by the answering
model's fallback — the training median stored with the model — and flag it; pick the
live or canary model per trip; score the shadow model too; queue one Prediction event
per scored row for Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Sequence

import numpy as np

from ..config import Settings
from ..contracts import MODEL_FEATURES, REQUEST_FEATURES, ZONE_FEATURES
from ..runtime.admin_http import Knobs
from .features import ZoneFeatureReader, ZoneLookup
from .metrics import ServingMetrics
from .publisher import PredictionPublisher
from .routing import ModelSet, Routing, load_model_set, load_routing, save_routing
from .schemas import EtaResponse, ServingFaults, TripRequest

log = logging.getLogger("serving")

N_REQUEST = len(REQUEST_FEATURES)
N_FEATURES = len(MODEL_FEATURES)


def request_features(trip: TripRequest, now: datetime) -> tuple[float, float, float, float]:
    """trip_distance, passenger_count, pickup_hour, pickup_weekday — the city runs on UTC."""
    when = (trip.request_time or now).astimezone(timezone.utc)
    return float(trip.trip_distance), float(trip.passenger_count), float(when.hour), float(when.weekday())


class _ZoneState:
    """One zone's feature values for this request (NaN where the fallback applies) and flags."""

    __slots__ = ("values", "age_s", "stale", "missing", "reason")

    def __init__(self, lookup: ZoneLookup, now: datetime, ttl_s: float) -> None:
        self.age_s = lookup.age_s(now)
        self.stale = self.age_s is not None and self.age_s > ttl_s
        self.missing = [name for name in ZONE_FEATURES if lookup.values.get(name) is None]
        usable = not self.stale and lookup.problem is None
        self.values = [lookup.values.get(name) if usable and lookup.values.get(name) is not None else np.nan
                       for name in ZONE_FEATURES]
        self.reason = lookup.problem or ("stale" if self.stale else "missing" if self.missing else None)
        if self.age_s is not None:
            self.age_s = round(self.age_s, 3)


class Predictor:
    """Everything the service holds: models, feature reader, publisher, fault knobs, metrics."""

    def __init__(self, settings: Settings, store: object, ttl_s: float, bootstrap: str | None) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self.faults: Knobs[ServingFaults] = Knobs(ServingFaults)
        self.metrics = ServingMetrics.instance()
        self.reader = ZoneFeatureReader(store, settings.serving.feature_cache_ms, lambda: self.faults.value)
        self._swap_lock = threading.Lock()
        self.models: ModelSet = load_model_set(settings, load_routing(settings))
        self.publisher = PredictionPublisher(
            bootstrap, settings.serving.predictions_topic, settings.serving.publish_buffer,
            on_drop=lambda reason, n: self.metrics.publish_drops.labels(reason).inc(n),
            on_sent=lambda n: self.metrics.published.inc(n)).start()
        log.info("serving %s", self.models.describe())

    # ---- predictions ---------------------------------------------------------------------

    async def predict(self, trips: Sequence[TripRequest]) -> list[EtaResponse]:
        started = time.perf_counter()
        now = datetime.now(timezone.utc)
        models = self.models  # one consistent snapshot, even if a promotion lands meanwhile
        lookups = await self.reader.lookup({trip.pickup_zone for trip in trips})
        zones = {zone: _ZoneState(lookup, now, self.ttl_s) for zone, lookup in lookups.items()}

        rows = np.empty((len(trips), N_FEATURES))
        for i, trip in enumerate(trips):
            rows[i, :N_REQUEST] = request_features(trip, now)
            rows[i, N_REQUEST:] = zones[trip.pickup_zone].values

        picks = [models.pick(trip.trip_id) for trip in trips]
        answers = np.empty(len(trips))
        features_used: list[np.ndarray] = [rows[0]] * len(trips)
        for model in {id(m): m for m, _ in picks}.values():
            index = np.array([i for i, (m, _) in enumerate(picks) if m is model], dtype=np.intp)
            filled = _fill(rows[index], model.fallback)
            answers[index] = model.predict(filled)
            for j, i in enumerate(index):
                features_used[i] = filled[j]
        shadow_rows = shadow_answers = None
        if models.shadow is not None:
            shadow_rows = _fill(rows, models.shadow.fallback)
            shadow_answers = models.shadow.predict(shadow_rows)
        delay_ms = self.faults.value.model_latency_ms
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)

        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        responses = []
        publish = self.publisher.publish
        roles: dict[str, int] = {}
        fallbacks: dict[str, int] = {}
        for i, trip in enumerate(trips):
            model, role = picks[i]
            zone = zones[trip.pickup_zone]
            eta = float(answers[i])
            responses.append(EtaResponse.model_construct(
                trip_id=trip.trip_id, eta_s=round(eta, 3), model_tag=model.tag, role=role,
                feature_age_s=zone.age_s, fallback_used=zone.reason is not None, fallback_reason=zone.reason,
                stale=zone.stale, missing=zone.missing, latency_ms=latency_ms))
            roles[role] = roles.get(role, 0) + 1
            if zone.reason is not None:
                fallbacks[zone.reason] = fallbacks.get(zone.reason, 0) + 1
            publish(_record(trip, model.tag, role, features_used[i], eta, latency_ms, zone, now))
            if shadow_answers is not None:
                publish(_record(trip, models.shadow.tag, "shadow", shadow_rows[i], float(shadow_answers[i]),
                                latency_ms, zone, now))
        if shadow_answers is not None:
            roles["shadow"] = len(trips)
        # Counted once per request, not per row: a metric update costs as much as a small prediction.
        for role, n in roles.items():
            self.metrics.rows.labels(role).inc(n)
        for reason, n in fallbacks.items():
            self.metrics.fallbacks.labels(reason).inc(n)
        return responses

    # ---- model versions ------------------------------------------------------------------

    def promote(self, tag: str | None, *, canary: float | None = None, shadow: bool = False,
                clear: str | None = None) -> dict:
        """Load the new routing's models, then swap them in with one assignment; persist the choice."""
        from ..trainer.model_store import resolve_tag

        with self._swap_lock:
            resolved = resolve_tag(tag) if tag else None
            routing: Routing = self.models.routing.change(resolved, canary=canary, shadow=shadow, clear=clear)
            new_set = load_model_set(self.settings, routing, cache=self.models)
            save_routing(self.settings, new_set.routing)
            self.models = new_set
        log.info("models changed: %s", new_set.describe())
        return new_set.describe()

    def close(self) -> None:
        self.publisher.stop()
        self.reader.close()


def _record(trip: TripRequest, tag: str, role: str, features: np.ndarray, eta: float, latency_ms: float,
            zone: _ZoneState, now: datetime) -> tuple:
    """What the publisher turns into a contracts.Prediction (built there, off the request path)."""
    return (trip.trip_id, trip.pickup_zone, tag, role, dict(zip(MODEL_FEATURES, features.tolist())), eta,
            latency_ms, zone.age_s, zone.stale, zone.missing, now)


def _fill(rows: np.ndarray, fallback: dict[str, float]) -> np.ndarray:
    """Rows with NaN zone features replaced by the model's fallback values."""
    if not np.isnan(rows).any():
        return rows
    defaults = np.array([fallback.get(name, np.nan) for name in MODEL_FEATURES])
    return np.where(np.isnan(rows), defaults, rows)
