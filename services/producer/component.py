"""The producer as a stack component (after ingest, so no event is produced before it listens)."""

from __future__ import annotations

from ..stack.service import ServiceComponent


def producer_component() -> ServiceComponent:
    return ServiceComponent("producer", "mlgameday.producer", depends_on=("kafka", "ingest"))
