"""Faults that are one service knob: set it on inject, put its 'off' value back on recover."""

from __future__ import annotations

from typing import Any, ClassVar

from ..target import get_knobs, set_knobs
from .base import FaultContext, Injector


class KnobFault(Injector):
    """Subclasses name the component and map params to knob changes; `off` is the knobs' default."""

    component: ClassVar[str] = ""
    off: ClassVar[dict[str, Any]] = {}

    def knobs(self, params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def inject(self, ctx: FaultContext, params: Any) -> str:
        changes = self.knobs(params)
        set_knobs(ctx.target, self.component, changes)
        return f"{self.component} knobs set: {_short(changes)}"

    def recover(self, ctx: FaultContext, params: Any) -> str:
        set_knobs(ctx.target, self.component, dict(self.off))
        return f"{self.component} knobs back to normal: {_short(self.off)}"


class ListKnobFault(KnobFault):
    """A fault that adds one entry to a list knob (several shifts may be active at once)."""

    list_knob: ClassVar[str] = ""

    def entry(self, params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def inject(self, ctx: FaultContext, params: Any) -> str:
        current = list(get_knobs(ctx.target, self.component).get(self.list_knob) or [])
        entry = self.entry(params)
        set_knobs(ctx.target, self.component, {self.list_knob: current + [entry]})
        return f"{self.component} {self.list_knob} += {_short(entry)}"

    def recover(self, ctx: FaultContext, params: Any) -> str:
        entry = self.entry(params)
        current = list(get_knobs(ctx.target, self.component).get(self.list_knob) or [])
        remaining = [e for e in current if not _same(e, entry)]
        set_knobs(ctx.target, self.component, {self.list_knob: remaining})
        return f"{self.component} {self.list_knob} -= {_short(entry)}"


def _same(current: dict, entry: dict) -> bool:
    return all(current.get(k) == v for k, v in entry.items())


def _short(data: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items())
