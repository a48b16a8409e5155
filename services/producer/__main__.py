"""The producer as a stack component: live trips at settings.producer.rate until SIGTERM,
with its fault knobs on the admin server (POST /faults)."""

from __future__ import annotations

import os
import time

# A parent that imported feast (e.g. the `gameday` CLI) leaves PROMETHEUS_MULTIPROC*_DIR pointing at
# a temp folder it deletes on exit; inherited, it breaks every metric of this process. Drop it
# before prometheus_client is imported: this process keeps its metrics in memory.
for _name in ("PROMETHEUS_MULTIPROCESS_DIR", "PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop(_name, None)

from prometheus_client import CollectorRegistry, Counter, Gauge

from ..config import load_settings
from ..runtime.admin_http import AdminServer, Knobs
from ..runtime.admin_key import admin_token
from ..runtime.kafka import kafka_options
from ..runtime.logs import log_event, setup_logging
from ..runtime.shutdown import install_stop_handlers
from .clock import city_clock, warm_start_seconds
from ..contracts.knobs import ProducerFaults
from .simulator import TripSimulator
from ..stack.endpoints import kafka_bootstrap
from .sink import KafkaSink
from .stream import Emitter, run_live


def main() -> None:
    log = setup_logging("producer")
    settings = load_settings()
    cfg = settings.producer
    stopping = install_stop_handlers()
    knobs = Knobs(ProducerFaults)
    registry = CollectorRegistry()
    events = Counter("gameday_producer_events", "Events sent", ["topic", "fault"], registry=registry)
    rate = Gauge("gameday_producer_rate_target", "Target trip requests per second", registry=registry)
    bootstrap = kafka_bootstrap(settings)
    sink = KafkaSink(bootstrap, **kafka_options(settings.kafka))

    def count(topic: str, key: int, value: bytes, kind: str | None) -> None:
        events.labels(topic, kind or "none").inc()

    emitter = Emitter(sink, settings.topics, cfg.seed, lambda: knobs.value, count)
    rate.set_function(lambda: cfg.rate * knobs.value.rate_multiplier)
    admin = AdminServer(cfg.port, ready=lambda: True, knobs=knobs, registry=registry, token=admin_token(settings),
                        host=cfg.host, status=lambda: emitter.report.as_dict()).start()
    clock = city_clock(bootstrap, settings.topics.trips_requested, settings.ingest.max_ahead_s, **kafka_options(settings.kafka))
    warm_start_s = warm_start_seconds(cfg.warm_start_s, clock, time.time())
    log_event(log, "producer started", port=admin.port, rate=cfg.rate, time_scale=cfg.time_scale, seed=cfg.seed,
              city_clock=clock, warm_start_s=round(warm_start_s, 1))
    try:
        report = run_live(TripSimulator(cfg.seed), emitter, cfg.rate, time_scale=cfg.time_scale,
                          label_wait_s=0, stopping=stopping, warm_start_s=warm_start_s)
        log_event(log, "producer stopped", **report.as_dict())
    finally:
        sink.close()
        admin.stop()


if __name__ == "__main__":
    main()
