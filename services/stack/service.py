"""A TripTime service as a stack component: `python -m mlgameday.<module>` with an admin HTTP port."""

from __future__ import annotations

import sys
from typing import Callable

import httpx

from ..config import Settings
from .component import Component, LaunchSpec, StackContext
from .ports import LOOPBACK
from .state import ComponentRecord


class ServiceComponent(Component):
    """Generic service process. Readiness is its own /ready endpoint answering 200.

    The service reads its admin port from GAMEDAY_<NAME>__PORT (its config section's
    `port` key), and everything else from the shared config plus the stack's child env.
    `skip_unless(settings)` is a precondition: when it returns a reason, `up` skips the
    service (saying why and what to run) instead of failing.
    """

    ready_path = "/ready"

    def __init__(self, name: str, module: str, depends_on: tuple[str, ...] = ("kafka",),
                 extra_env: dict[str, str] | None = None,
                 skip_unless: Callable[[Settings], str | None] | None = None) -> None:
        self.name = name
        self.module = module
        self.depends_on = depends_on
        self.port_names = ("http",)
        self.extra_env = extra_env or {}
        self.skip_unless = skip_unless
        self.skipped: str | None = None

    def prepare(self, ctx: StackContext) -> None:
        reason = self.skip_unless(ctx.settings) if self.skip_unless else None
        self.skipped = f"skipped: {reason}, then `gameday chaos start {self.name}`" if reason else None
        if self.skipped:
            ctx.report(self.name, self.skipped)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec | None:
        if self.skipped:
            return None
        env = {f"GAMEDAY_{self.name.upper()}__PORT": str(ports["http"]), **self.extra_env}
        return LaunchSpec(argv=[sys.executable, "-m", self.module], env=env)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"skipped": self.skipped} if self.skipped else {"http": f"http://{LOOPBACK}:{ports['http']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        if self.skipped:
            return True
        try:
            return httpx.get(record.endpoints["http"] + self.ready_path, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
