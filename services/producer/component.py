"""The producer as a stack component. It needs only the broker: ingest reads from its committed
offsets (the earliest ones the first time), so events produced before it listens are not lost.

It starts only once a model exists (the stack's catalogue gives it that precondition): live
trips must come after the history the first model is trained on (see clock.py)."""

from __future__ import annotations

from typing import Callable

from ..config import Settings
from ..stack.service import ServiceComponent


def producer_component(skip_unless: Callable[[Settings], str | None] | None = None) -> ServiceComponent:
    return ServiceComponent("producer", "mlgameday.producer", depends_on=("kafka",), skip_unless=skip_unless)
