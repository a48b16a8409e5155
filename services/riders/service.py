"""The rider app: asks serving for an ETA for every trip request on `trips.requested`.

In the design, `trips.requested` flows to serving; serving itself is an HTTP service, so
something must call it — in production the rider app does. This stack component plays
that caller: a consumer group (`riders`) that posts each poll's requests to serving's
/predict_batch. Serving publishes the predictions (the monitor's and the drill's input).

A request that does not fit serving's request schema (e.g. a renamed field) cannot be
asked for; it is counted as `invalid` (ingest dead-letters the same event with the reason).
Trips of the past (a history, a producer's warm start: contracts.BACKFILL_HEADER) have no
rider waiting: they are counted as `backfill` and not asked for.

Entry point: `python -m mlgameday.riders`; admin HTTP on $GAMEDAY_RIDERS__PORT.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
from prometheus_client import Counter, Histogram

from ..config import Settings
from ..contracts import is_backfill
from ..runtime.admin_http import AdminServer
from ..runtime.kafka import kafka_options
from ..runtime.logs import log_event, setup_logging
from ..runtime.shutdown import install_stop_handlers
from ..stack.endpoints import kafka_bootstrap, service_url

GROUP_ID = "riders"
REQUEST_FIELDS = ("trip_id", "pickup_zone", "dropoff_zone", "trip_distance", "passenger_count")
MAX_BATCH = 500

log = logging.getLogger("riders")
EVENTS = Counter("gameday_riders_events_total", "trip requests seen by the rider app", ["outcome"])
CALL_SECONDS = Histogram("gameday_riders_call_seconds", "round trip of one /predict_batch call")


def to_request(raw: bytes) -> dict[str, Any] | None:
    """The /predict body for one trips.requested event, or None when the event does not carry one."""
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(event, dict) or any(event.get(f) is None for f in REQUEST_FIELDS):
        return None
    request = {f: event[f] for f in REQUEST_FIELDS}
    if event.get("event_time"):
        request["request_time"] = event["event_time"]
    return request


class RiderApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=15.0)
        self.url: str | None = None

    def ask(self, requests: list[dict[str, Any]]) -> None:
        """One /predict_batch call; on failure the batch is counted as failed (riders retry nothing)."""
        self.url = self.url or self.settings.riders.serving_url or service_url(self.settings, "serving")
        if self.url is None:
            EVENTS.labels("no_serving").inc(len(requests))
            return
        started = time.perf_counter()
        try:
            response = self.http.post(f"{self.url}/predict_batch", json={"trips": requests})
        except httpx.HTTPError as exc:
            EVENTS.labels("failed").inc(len(requests))
            log_event(log, "serving did not answer", error=str(exc), trips=len(requests))
            self.url = None  # re-read the address: serving may have been restarted
            return
        CALL_SECONDS.observe(time.perf_counter() - started)
        if response.status_code == 200:
            # Serving judges each trip: a refused one (say, a zone it does not serve) is answered with its error.
            answer = response.json()
            rejected = answer.get("rejected", 0)
            EVENTS.labels("answered").inc(len(requests) - rejected)
            if rejected:
                EVENTS.labels("refused").inc(rejected)
                log_event(log, "serving refused trips", trips=rejected,
                          first=next(a["error"] for a in answer["predictions"] if "error" in a))
        else:
            EVENTS.labels("refused").inc(len(requests))
            log_event(log, "serving refused a batch", status=response.status_code, body=response.text[:300])


def run(settings: Settings, port: int) -> None:
    from kafka import KafkaConsumer

    setup_logging("riders")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per call would drown the log
    stopping = install_stop_handlers()
    consumer = None
    ready = {"value": False}
    admin = AdminServer(port, lambda: ready["value"], token=None, host=settings.riders.host).start()  # health and metrics only
    app = RiderApp(settings)
    bootstrap = kafka_bootstrap(settings)
    try:
        consumer = KafkaConsumer(settings.topics.trips_requested, bootstrap_servers=bootstrap, group_id=GROUP_ID,
                                 auto_offset_reset="latest", enable_auto_commit=True,
                                 auto_commit_interval_ms=1000, client_id="riders",
                                 receive_message_max_bytes=64 * 2**20,  # see watch.RECEIVE_MAX_BYTES
                                 **kafka_options(settings.kafka))
        log_event(log, "rider app started", bootstrap=bootstrap, group=GROUP_ID)
        while not stopping.is_set():
            batches = consumer.poll(timeout_ms=200, max_records=MAX_BATCH)
            ready["value"] = True
            requests = []
            for records in batches.values():
                for record in records:
                    if is_backfill(record.headers):
                        EVENTS.labels("backfill").inc()
                        continue
                    request = to_request(record.value)
                    if request is None:
                        EVENTS.labels("invalid").inc()
                    else:
                        requests.append(request)
            if requests:
                app.ask(requests)
    finally:
        if consumer is not None:
            consumer.close()
        admin.stop()
