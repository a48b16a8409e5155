"""The producer as a stack component. It needs only the broker: ingest reads from its committed
offsets (the earliest ones the first time), so events produced before it listens are not lost."""

from __future__ import annotations

from ..stack.service import ServiceComponent


def producer_component() -> ServiceComponent:
    return ServiceComponent("producer", "mlgameday.producer", depends_on=("kafka",))
