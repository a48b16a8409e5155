"""What a fault injector is: a kind, a family, typed params, inject() and recover()."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ...config import Settings
from ...stack.component import Reporter, silent
from ..targets import Target


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class FaultContext:
    """What an injector may use: the target stack, a progress reporter, and notes it keeps
    between inject() and recover() (e.g. which model was live before a promotion)."""

    target: Target
    settings: Settings
    report: Reporter = silent
    memory: dict[str, Any] = field(default_factory=dict)


class Injector:
    """One fault kind. Subclasses set kind, family, summary, Params; override inject/recover."""

    kind: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def parse(self, raw: dict[str, Any] | None) -> BaseModel:
        return self.Params.model_validate(raw or {})

    def inject(self, ctx: FaultContext, params: Any) -> str:
        """Turn the fault on; returns what was done, for the timeline."""
        raise NotImplementedError

    def recover(self, ctx: FaultContext, params: Any) -> str:
        """Turn it off again (idempotent)."""
        raise NotImplementedError

    def reconcile(self, ctx: FaultContext, params: Any) -> str | None:
        """Blind drills: align the simulation with what the candidate did (e.g. a rollback takes
        the slow model's latency with it). Returns what changed, or None."""
        return None

    def recover_after_s(self, params: Any) -> float | None:
        """A fault that ends by itself (a burst) says after how many seconds; others None."""
        return None
