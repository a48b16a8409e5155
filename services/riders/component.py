"""The rider app as a stack component (after serving, so its first requests find an ETA service)."""

from __future__ import annotations

from ..stack.service import ServiceComponent


def riders_component() -> ServiceComponent:
    return ServiceComponent("riders", "mlgameday.riders", depends_on=("kafka", "serving"))
