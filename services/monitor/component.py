"""The monitor as stack components: the monitor service, and Prometheus when asked for."""

from __future__ import annotations

from ..config import Settings
from ..stack.component import Component
from ..stack.service import ServiceComponent
from .prometheus import PrometheusComponent


def monitor_components(settings: Settings) -> list[Component]:
    parts: list[Component] = [ServiceComponent("monitor", "mlgameday.monitor", depends_on=("kafka",))]
    if settings.monitor.prometheus:
        parts.append(PrometheusComponent())
    return parts
