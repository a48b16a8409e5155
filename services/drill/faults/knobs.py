"""Faults that turn service knobs (contracts/knobs.py): set them on inject, put their 'off' value back on recover."""

from __future__ import annotations

from typing import Any, ClassVar

from ...contracts.knobs import off as knob_defaults
from ..targets import get_knobs, set_knobs
from .base import FaultContext, Injector


class KnobFault(Injector):
    """Subclasses name the component, the knobs they turn, and map params to knob changes; recovering
    sets those knobs to their declared "off" defaults."""

    component: ClassVar[str] = ""
    turns: ClassVar[tuple[str, ...]] = ()

    @property
    def off(self) -> dict[str, Any]:
        return knob_defaults(self.component, *self.turns)

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

    @property
    def off(self) -> dict[str, Any]:
        return knob_defaults(self.component, self.list_knob)

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
