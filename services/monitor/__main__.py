"""`python -m mlgameday.monitor`: the monitor service (stack component "monitor")."""

from __future__ import annotations

import sys

from ..config import load_settings
from ..errors import GamedayError
from ..runtime.admin_http import AdminServer
from ..runtime.logs import setup_logging
from ..runtime.shutdown import install_stop_handlers
from .service import MonitorService


def main() -> int:
    log = setup_logging("monitor")
    stopping = install_stop_handlers()
    try:
        settings = load_settings()
        service = MonitorService(settings)
        service.connect()
    except GamedayError as exc:
        log.error(f"{exc.kind}: {exc}")
        return 1
    admin = AdminServer(settings.monitor.port, ready=service.ready, registry=service.registry, token=None,
                        host=settings.monitor.host, status=service.status).start()
    log.info("monitor started", extra={"fields": {"admin_port": admin.port,
                                                    "topics": [settings.topics.predictions,
                                                               settings.topics.trips_completed]}})
    try:
        service.run(stopping)
    finally:
        service.close()
        admin.stop()
        log.info("monitor stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
