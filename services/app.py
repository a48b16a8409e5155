"""The composition root: the TripTime services as stack components, and the stack that runs them.

The stack (stack/) knows a Component and its infrastructure, no service; each service folder
knows its own component. Only this module knows them all.
"""

from __future__ import annotations

from .config import Settings
from .ingest.component import IngestComponent
from .models.store import untrained
from .monitor.component import monitor_components
from .producer.component import producer_component
from .riders.component import riders_component
from .serving.component import ServingComponent
from .stack.component import Component, Reporter, silent
from .stack.supervisor import Stack


def services(settings: Settings) -> list[Component]:
    """The TripTime services (ingest, producer, serving, riders, monitor) that settings.services names."""
    # The producer waits for a model too: live trips must come after the history it is trained on.
    every = [IngestComponent(), producer_component(skip_unless=untrained), ServingComponent(skip_unless=untrained),
             riders_component(), *monitor_components(settings)]
    return [c for c in every if c.name in settings.services]


def open_stack(settings: Settings, report: Reporter = silent) -> Stack:
    """The run folder's stack with every TripTime service (up, down, status, chaos)."""
    return Stack(settings, report=report, services=services)
