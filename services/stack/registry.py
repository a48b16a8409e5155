"""Which components a stack has, for given settings, in dependency order."""

from __future__ import annotations

from graphlib import TopologicalSorter

from ..config import Settings
from .component import Component
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


def services(settings: Settings) -> list[Component]:
    """The TripTime services (ingest, serving, monitor, producer) as they are built."""
    from ..drill.riders import riders_component
    from ..ingest.component import IngestComponent
    from ..monitor.component import monitor_components
    from ..producer.component import producer_component
    from ..serving.component import ServingComponent
    from ..trainer.model_store import untrained

    # The producer waits for a model too: live trips must come after the history it is trained on.
    every = [IngestComponent(), producer_component(skip_unless=untrained), ServingComponent(skip_unless=untrained),
             riders_component(), *monitor_components(settings)]
    return [c for c in every if c.name in settings.services]


def build_components(settings: Settings, with_services: bool = True) -> list[Component]:
    parts = infrastructure(settings) + (services(settings) if with_services else [])
    by_name = {c.name: c for c in parts}
    graph = {c.name: [d for d in c.depends_on if d in by_name] for c in parts}
    return [by_name[name] for name in TopologicalSorter(graph).static_order()]
