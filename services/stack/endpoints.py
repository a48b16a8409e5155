"""Where the parts of a stack answer: the one place that resolves the broker's and the services' addresses.

An address set in the settings wins (`kafka.bootstrap`: an external cluster, or the stack's own
broker handed to the processes it starts); otherwise it is read from the run folder's
state.json, where the supervisor records each component's endpoints as it starts them.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import StackError
from .state import RunFolder

# A component's record keeps the address under this name (the services' admin or HTTP port).
SERVICE_ENDPOINT = "http"


def endpoint(settings: Settings, component: str, name: str) -> str | None:
    """The address `name` that the run folder's `component` published, or None."""
    record = RunFolder(settings.run_path).load().get(component)
    return record.endpoints.get(name) if record else None


def kafka_bootstrap(settings: Settings) -> str:
    """The broker address: kafka.bootstrap if set, else the running stack's broker."""
    if settings.kafka.bootstrap:
        return settings.kafka.bootstrap
    if bootstrap := endpoint(settings, "kafka", "bootstrap"):
        return bootstrap
    raise StackError(f"no Kafka broker: the stack in {settings.run_path} is not running",
                     hint="start it with `gameday up`, or set kafka.mode=external and kafka.bootstrap")


def service_url(settings: Settings, component: str, *, running: bool = False) -> str | None:
    """A service's base URL (http://host:port) in the run folder's stack, or None when it has none;
    with `running`, also None when its process is not running (or paused)."""
    record = RunFolder(settings.run_path).load().get(component)
    if record is None or (running and record.state() not in ("running", "paused")):
        return None
    return record.endpoints.get(SERVICE_ENDPOINT)
