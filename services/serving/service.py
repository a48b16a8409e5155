"""TripTime: the ETA service. `bentoml serve mlgameday.serving.service:TripTime --port 3000`

POST /predict        one trip → ETA (seconds), model tag, role, feature freshness flags
POST /predict_batch  {"trips": [...]} → one answer per trip (an ETA, or the row's own error)
GET  /readyz         200 once the model(s) and the feature store are loaded
GET  /metrics        Prometheus (gameday_serving_* plus BentoML's own)
GET  /docs.json      the OpenAPI 3.1 document of all of these (serving/openapi.py)
/admin/faults        GET / POST (merge) / DELETE (reset) the runtime fault knobs
/admin/models        GET the live / canary / shadow models; POST /admin/promote changes them
                     (/admin/* only with the run folder's admin key: runtime/admin_key.py)

Settings come from the typed config (GAMEDAY_* variables; the stack sets the run folder,
the broker and the model store). Nothing a client sends makes a 5xx: a bad request is a
4xx naming the problem (logged as one line), a feature store problem is a flagged fallback.
What reaches the endpoints has passed the edge (serving/edge.py): origin and Host, the
admin key, JSON bodies only (415), at most serving.max_body_mb (413).
"""

from __future__ import annotations

import gc
import bentoml
from pydantic_core import to_json
from starlette.responses import Response

from mlgameday.serving.admin import admin_app
from mlgameday.serving.edge import RequestEdge
from mlgameday.serving.metrics import RequestMetricsMiddleware
from mlgameday.serving.schemas import BatchRequest, BatchResponse, EtaResponse, TripRequest, judge_rows, row_trip_id


# One worker: fault knobs and hot swaps live in the process (2 cores: the rest is for the stack).
# No access log and no OpenTelemetry spans on the hot paths: together they cost more CPU than
# the prediction itself; requests are counted and timed in Prometheus, and every prediction
# is an event on Kafka.
@bentoml.service(name="triptime", workers=1, traffic={"timeout": 30}, logging={"access": {"enabled": False}},
                 tracing={"sample_rate": 0.0, "excluded_urls": ["predict", "readyz", "livez", "metrics", "admin"]})
class TripTime:
    """ETA for taxi trips from online zone features (Feast) and the promoted model."""

    def __init__(self) -> None:
        # Imported here: prometheus_client must load after BentoML set up its worker.
        from mlgameday.serving.app import build_predictor

        self.predictor = build_predictor()
        # BentoML, Feast and pandas leave millions of long-lived objects: freezing them keeps
        # the garbage collector's full passes (100+ ms pauses, seen as p99 spikes) off them.
        gc.collect()
        gc.freeze()
        # A request allocates a few hundred objects: with the default threshold (700) a young
        # collection ran about every other request; every 20,000 allocations costs less CPU in total.
        gc.set_threshold(20_000, 20, 100)

    def __is_ready__(self) -> bool:
        return self.predictor.models is not None and self.predictor.reader is not None

    # The endpoints declare their response models (OpenAPI, clients) and return that JSON already
    # serialized: building a pydantic object per answer costs more than the prediction.
    @bentoml.api(route="/predict")
    async def predict(self, trip: TripRequest, /) -> EtaResponse:
        """The ETA of one trip."""
        return _json((await self.predictor.predict([trip]))[0])

    # The rows arrive unjudged (any JSON value): each is validated on its own, so one bad trip
    # gets its own error instead of failing the batch.
    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, batch: BatchRequest, /) -> BatchResponse:
        """ETAs of many trips in one call (one online read per distinct pickup zone)."""
        good, refused = judge_rows(batch.trips)
        answers = await self.predictor.predict(good) if good else []
        if refused:
            self.predictor.metrics.count_refused_rows(len(refused))
            answered = iter(answers)
            answers = [{"trip_id": row_trip_id(row), "error": refused[i]} if i in refused else next(answered)
                       for i, row in enumerate(batch.trips)]
        return _json({"predictions": answers, "rejected": len(refused)})

    @bentoml.on_shutdown
    def close(self) -> None:
        self.predictor.close()


def _json(body: dict) -> Response:
    return Response(to_json(body), media_type="application/json")


TripTime.add_asgi_middleware(RequestMetricsMiddleware)  # outermost of ours: counts what the edge refuses too
TripTime.add_asgi_middleware(RequestEdge)
TripTime.mount_asgi_app(admin_app, path="/admin")
