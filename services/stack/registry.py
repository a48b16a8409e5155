"""Which components a stack has, for given settings, in dependency order.

The stack knows its infrastructure (Kafka, Redis) and no service: the services come from the
catalogue the caller hands over (mlgameday.app.services, the composition root).
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from ..config import Settings
from .component import Component, ComponentCatalogue
from .kafka.container import ContainerKafka
from .kafka.local import ExternalKafka, LocalKafka
from .redis import ContainerRedis, LocalRedis


def infrastructure(settings: Settings) -> list[Component]:
    kafka = {"local": LocalKafka, "external": ExternalKafka, "testcontainers": ContainerKafka}[settings.kafka.mode]
    parts: list[Component] = [kafka()]
    if settings.online_store == "redis" and not settings.redis.url:
        # testcontainers mode runs the infrastructure in containers: Redis too.
        parts.append(ContainerRedis() if settings.kafka.mode == "testcontainers" else LocalRedis())
    return parts


def build_components(settings: Settings, services: ComponentCatalogue | None = None) -> list[Component]:
    """The infrastructure and the catalogue's services, each after what it depends on."""
    parts = infrastructure(settings) + (services(settings) if services else [])
    by_name = {c.name: c for c in parts}
    graph = {c.name: [d for d in c.depends_on if d in by_name] for c in parts}
    return [by_name[name] for name in TopologicalSorter(graph).static_order()]
