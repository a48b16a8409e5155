"""Fault injectors, one module per family; REGISTRY maps a scenario's `kind` to its injector."""

from __future__ import annotations

from ...errors import GamedayError
from . import data, features, model, monitor, process, serving, traffic
from .base import FaultContext, Injector

REGISTRY: dict[str, Injector] = {
    cls.kind: cls()
    for family in (process, traffic, data, features, model, serving, monitor)
    for cls in family.INJECTORS
}


class UnknownFault(GamedayError):
    kind = "UnknownFault"


def injector(kind: str) -> Injector:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise UnknownFault(f"no fault kind {kind!r}",
                           hint=f"known kinds: {', '.join(sorted(REGISTRY))} (see `gameday chaos kinds`)") from None


__all__ = ["REGISTRY", "FaultContext", "Injector", "injector", "UnknownFault"]
