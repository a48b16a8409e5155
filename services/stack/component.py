"""What a part of the stack must say about itself so the supervisor can run it.

Infrastructure (Kafka, Redis) and the services (producer, ingest, serving, monitor)
are all components: the supervisor starts them in dependency order, waits on their
own readiness checks, and signals their processes for chaos.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from ..config import Settings, settings_as_dict
from .state import ComponentRecord, RunFolder

# What `gameday chaos ACTION COMPONENT` can do to a component of the local stack.
CHAOS_ACTIONS = ("kill", "stop", "start", "pause", "resume", "restart")


class Reporter(Protocol):
    """Receives progress lines for long steps (downloads, waiting for readiness)."""

    def __call__(self, component: str, message: str) -> None: ...


def silent(component: str, message: str) -> None:
    """A reporter that shows nothing (for tests and scripts)."""


@dataclass
class LaunchSpec:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass
class StackContext:
    """What a component may look at while starting: settings, run folder, the others' records."""

    settings: Settings
    run: RunFolder
    records: dict[str, ComponentRecord]
    report: Reporter = silent

    def endpoint(self, component: str, name: str) -> str | None:
        record = self.records.get(component)
        return record.endpoints.get(name) if record else None

    def child_env(self) -> dict[str, str]:
        """Environment for service processes: the stack's addresses, as if they were external."""
        env = {"GAMEDAY_RUN_DIR": str(self.run.root), "GAMEDAY_CONFIG": str(self.run.settings_file)}
        if bootstrap := self.endpoint("kafka", "bootstrap"):
            env["GAMEDAY_KAFKA__MODE"] = "external"
            env["GAMEDAY_KAFKA__BOOTSTRAP"] = bootstrap
        if redis_url := self.endpoint("redis", "url"):
            env["GAMEDAY_REDIS__URL"] = redis_url
        if password := self.settings.kafka.sasl_password:  # never in the run folder's settings.yaml
            env["GAMEDAY_KAFKA__SASL_PASSWORD"] = password.get_secret_value()
        return env


class Component:
    """Base class: override what differs. A component without a process returns no LaunchSpec."""

    name: str = ""
    depends_on: tuple[str, ...] = ()
    # Names of the loopback ports the component needs; the supervisor assigns free ones.
    port_names: tuple[str, ...] = ()
    # Seconds to wait for SIGTERM before SIGKILL.
    stop_timeout_s: float = 15.0

    def fixed_ports(self, ctx: StackContext) -> dict[str, int]:
        """Ports the user pinned in config (a taken one is an error, not silently moved)."""
        return {}

    def prepare(self, ctx: StackContext) -> None:
        """One-time work before launch: fetch binaries, format storage. May be slow; report progress."""

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec | None:
        return None

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        return True

    def after_ready(self, ctx: StackContext, record: ComponentRecord) -> None:
        """Work that needs the component up, e.g. creating topics."""

    def data_paths(self, ctx: StackContext) -> list[Path]:
        """What `down --wipe` removes for this component."""
        return [ctx.run.data_of(self.name)]

    def settings_digest(self, settings: Settings) -> str:
        """A digest of the settings this component runs with: its own section (settings.<name>), if
        the config has one. Equal digests: a restart would change nothing."""
        section = settings_as_dict(settings, secrets="left out").get(self.name)
        return hashlib.sha256(json.dumps(section, sort_keys=True).encode()).hexdigest()[:16]


# The services a stack runs besides its infrastructure, for given settings (mlgameday.app.services).
ComponentCatalogue = Callable[[Settings], "list[Component]"]
