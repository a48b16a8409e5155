"""Ingest as a stack component: consume until SIGTERM, admin server with /faults (speed_unit)."""

from __future__ import annotations

import os

# A parent that imported feast (e.g. the `gameday` CLI) leaves PROMETHEUS_MULTIPROC*_DIR pointing at
# a temp folder it deletes on exit; inherited, it breaks every metric of this process. Drop it
# before prometheus_client is imported: this process keeps its metrics in memory.
for _name in ("PROMETHEUS_MULTIPROCESS_DIR", "PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop(_name, None)

from ..config import load_settings
from ..runtime.admin_http import AdminServer, Knobs
from ..runtime.admin_key import admin_token
from ..runtime.logs import log_event, setup_logging
from ..runtime.shutdown import install_stop_handlers
from .gc_policy import relax_gc
from .metrics import IngestMetrics
from ..contracts.knobs import IngestFaults
from .pipeline import IngestPipeline


def main() -> None:
    log = setup_logging("ingest")
    settings = load_settings()
    stopping = install_stop_handlers()
    knobs = Knobs(IngestFaults)
    metrics = IngestMetrics()
    pipeline = IngestPipeline(settings, knobs=knobs, metrics=metrics)
    admin = AdminServer(settings.ingest.port, ready=lambda: pipeline.ready, knobs=knobs, token=admin_token(settings),
                        registry=metrics.registry, host=settings.ingest.host, status=lambda: pipeline.status() if pipeline.started else {}).start()
    log_event(log, "ingest starting", port=admin.port, group=settings.ingest.group_id,
              online_store=settings.online_store)
    try:
        pipeline.start()
        relax_gc()
        pipeline.run(stopping)
        log_event(log, "ingest stopped", **pipeline.status())
    finally:
        admin.stop()


if __name__ == "__main__":
    main()
