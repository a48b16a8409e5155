"""The prediction path, independent of the HTTP layer: features → model(s) → response + events.

For each request: read the pickup zones' online features (serving/features.py), build
the MODEL_FEATURES rows (request features from the request itself), replace a missing,
stale (older than the feature view's TTL) or late zone feature by the answering
model's fallback — the training median stored with the model — and flag it; pick the
live or canary model per trip; score the shadow model too; queue the scored rows for
Kafka (one columnar batch per model; the events are built in the publishing process).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Sequence

import numpy as np

from ..config import Settings
from ..contracts import MODEL_FEATURES, REQUEST_FEATURES, ZONE_FEATURES
from ..runtime.admin_http import Knobs
from ..runtime.kafka import kafka_options
from ..models.store import EtaModel
from .features import ZoneFeatureReader, ZoneLookup
from .metrics import ServingMetrics
from .publisher import PredictionBatch, PredictionPublisher
from ..models.routing import ModelSet, Routing, load_model_set, load_routing, save_routing
from ..contracts.knobs import ServingFaults
from .schemas import TripRequest

log = logging.getLogger("serving")

N_REQUEST = len(REQUEST_FEATURES)
N_FEATURES = len(MODEL_FEATURES)
NO_VALUES = (np.nan,) * len(ZONE_FEATURES)  # every zone feature from the fallback
# Batches from this many rows are scored in MODEL_THREADS slices on a thread pool: the model's C
# code releases the GIL, so the slices run on both cores and the event loop meanwhile parses and
# answers other requests. Smaller ones are scored inline (the hop costs more than the model).
PARALLEL_ROWS = 256
MODEL_THREADS = 2


class _ZoneState:
    """One zone's feature values for this request (NaN where the fallback applies) and flags."""

    __slots__ = ("values", "age_s", "stale", "missing", "reason", "response_fields", "freshness")

    def __init__(self, lookup: ZoneLookup, now: datetime, ttl_s: float) -> None:
        age_s = lookup.age_s(now)
        self.stale = age_s is not None and age_s > ttl_s
        self.missing = lookup.missing
        self.values = NO_VALUES if self.stale or lookup.problem is not None else lookup.vector
        self.reason = lookup.problem or ("stale" if self.stale else "missing" if self.missing else None)
        self.age_s = None if age_s is None else round(age_s, 3)
        # What every answer for a trip from this zone says about its features (EtaResponse fields).
        self.response_fields = {"feature_age_s": self.age_s, "fallback_used": self.reason is not None,
                                "fallback_reason": self.reason, "stale": self.stale, "missing": self.missing}
        self.freshness = (self.age_s, self.stale, self.missing)


class Predictor:
    """Everything the service holds: models, feature reader, publisher, fault knobs, metrics."""

    def __init__(self, settings: Settings, store: object, ttl_s: float, bootstrap: str | None) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self.faults: Knobs[ServingFaults] = Knobs(ServingFaults)
        self.metrics = ServingMetrics.instance()
        self.reader = ZoneFeatureReader(store, settings.serving.feature_cache_ms, lambda: self.faults.value)
        self._swap_lock = threading.Lock()
        self._model_pool = ThreadPoolExecutor(max_workers=MODEL_THREADS, thread_name_prefix="model")
        self.models: ModelSet = load_model_set(settings, load_routing(settings))
        self.publisher = PredictionPublisher(
            bootstrap, settings.topics.predictions, settings.serving.publish_buffer,
            on_drop=lambda reason, n: self.metrics.publish_drops.labels(reason).inc(n),
            on_sent=lambda n: self.metrics.published.inc(n), security=kafka_options(settings.kafka)).start()
        log.info("serving %s", self.models.describe())

    # ---- predictions ---------------------------------------------------------------------

    async def predict(self, trips: Sequence[TripRequest]) -> list[dict]:
        """One EtaResponse (as a plain dict, ready for JSON) per trip, in order.

        Built as columns: one feature lookup for the distinct pickup zones, one matrix,
        one model call per answering model, one publish per model — the per-trip Python
        work is reading the request fields and writing the answer.
        """
        started = time.perf_counter()
        now = datetime.now(timezone.utc)
        models = self.models  # one consistent snapshot, even if a promotion lands meanwhile
        pickup_zones = [trip.pickup_zone for trip in trips]
        distinct = list(dict.fromkeys(pickup_zones))
        lookups = await self.reader.lookup(distinct)
        zones = {zone: _ZoneState(lookups[zone], now, self.ttl_s) for zone in distinct}

        rows = np.empty((len(trips), N_FEATURES))
        rows[:, 0] = [trip.trip_distance for trip in trips]
        rows[:, 1] = [trip.passenger_count for trip in trips]
        if len(distinct) == 1:
            rows[:, N_REQUEST:] = zones[distinct[0]].values
        else:
            position = {zone: i for i, zone in enumerate(distinct)}
            zone_values = np.array([zones[zone].values for zone in distinct], dtype=float)
            rows[:, N_REQUEST:] = zone_values[[position[zone] for zone in pickup_zones]]

        trip_ids = [trip.trip_id for trip in trips]
        answers = np.empty(len(trips))
        groups = models.split(trip_ids)
        used = []
        for model, role, index in groups:
            features = _fill(rows if index is None else rows[index], model.fallback)
            predicted = await self._score(model, features)
            if index is None:
                answers = predicted
            else:
                answers[index] = predicted
            used.append((model, role, index, features, predicted))
        if models.shadow is not None:
            features = _fill(rows, models.shadow.fallback)
            used.append((models.shadow, "shadow", None, features, await self._score(models.shadow, features)))
        delay_ms = self.faults.value.model_latency_ms
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)

        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        freshness = {zone: state.freshness for zone, state in zones.items()}
        for model, role, index, features, predicted in used:
            ids, pickups = (trip_ids, pickup_zones) if index is None else (
                [trip_ids[i] for i in index], [pickup_zones[i] for i in index])
            self.publisher.publish(PredictionBatch(
                trip_ids=ids, pickup_zones=pickups, model_tag=model.tag, role=role,
                features=features, predictions=predicted.tolist(), latency_ms=latency_ms,
                zone_freshness=freshness, event_time=now))
            # Counted once per request, not per row: a metric update costs as much as a small prediction.
            self.metrics.count_rows(role, len(predicted))
        if any(state.reason is not None for state in zones.values()):
            fallbacks: dict[str, int] = {}
            for zone in pickup_zones:
                if (reason := zones[zone].reason) is not None:
                    fallbacks[reason] = fallbacks.get(reason, 0) + 1
            for reason, n in fallbacks.items():
                self.metrics.count_fallbacks(reason, n)

        etas = np.round(answers, 3).tolist()
        if len(groups) == 1:
            tags_roles = [{"model_tag": groups[0][0].tag, "role": groups[0][1]}] * len(trips)
        else:
            tags_roles = [None] * len(trips)
            for model, role, index in groups:
                fields = {"model_tag": model.tag, "role": role}
                for i in index:
                    tags_roles[i] = fields
        return [{"trip_id": trip_id, "eta_s": eta, **tag_role, **zones[zone].response_fields, "latency_ms": latency_ms}
                for trip_id, eta, tag_role, zone in zip(trip_ids, etas, tags_roles, pickup_zones)]

    async def _score(self, model: EtaModel, features: np.ndarray) -> np.ndarray:
        if len(features) < PARALLEL_ROWS:
            return model.predict(features)
        loop = asyncio.get_running_loop()
        slices = np.array_split(features, MODEL_THREADS)
        parts = await asyncio.gather(*(loop.run_in_executor(self._model_pool, model.predict, part) for part in slices))
        return np.concatenate(parts)

    # ---- model versions ------------------------------------------------------------------

    def promote(self, tag: str | None, *, canary: float | None = None, shadow: bool = False,
                clear: str | None = None) -> dict:
        """Load the new routing's models, then swap them in with one assignment; persist the choice."""
        from ..models.store import resolve_tag

        with self._swap_lock:
            resolved = resolve_tag(tag) if tag else None
            routing: Routing = self.models.routing.change(resolved, canary=canary, shadow=shadow, clear=clear)
            new_set = load_model_set(self.settings, routing, cache=self.models)
            save_routing(self.settings, new_set.routing)
            self.models = new_set
        log.info("models changed: %s", new_set.describe())
        return new_set.describe()

    def close(self) -> None:
        self._model_pool.shutdown(wait=False, cancel_futures=True)
        self.publisher.stop()
        self.reader.close()


def _fill(rows: np.ndarray, fallback: dict[str, float]) -> np.ndarray:
    """Rows with NaN zone features replaced by the model's fallback values."""
    if not np.isnan(rows).any():
        return rows
    defaults = np.array([fallback.get(name, np.nan) for name in MODEL_FEATURES])
    return np.where(np.isnan(rows), defaults, rows)
