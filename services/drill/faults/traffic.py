"""Traffic faults through the producer's rate knob: a sustained multiplier, or a burst."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ...contracts.knobs import ProducerFaults, knob_param
from ..targets import set_knobs
from .base import FaultContext
from .knobs import KnobFault


class RateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    multiply: float = knob_param(ProducerFaults, "rate_multiplier")  # e.g. 10 for a 10x spike


class BurstParams(RateParams):
    seconds: float = Field(gt=0, le=600, description="how long the burst lasts")


class Rate(KnobFault):
    kind, family, component, turns = "rate", "traffic", "producer", ("rate_multiplier",)
    summary = "multiply the producer's request rate, relative to the scenario's (recover: back to it)"
    Params = RateParams

    def knobs(self, params: RateParams) -> dict:
        return {"rate_multiplier": params.multiply}

    # Relative to the drill's own traffic: a drill at 15/s on a producer set to 20/s runs at
    # multiplier 0.75 (ctx.memory["rate_multiplier"]), so 10x means 7.5 and "off" means 0.75.
    def inject(self, ctx: FaultContext, params: RateParams) -> str:
        base = float(ctx.memory.get("rate_multiplier", 1.0))
        set_knobs(ctx.target, self.component, {"rate_multiplier": params.multiply * base})
        return f"producer rate x{params.multiply:g} (multiplier {params.multiply * base:g})"

    def recover(self, ctx: FaultContext, params: RateParams) -> str:
        base = float(ctx.memory.get("rate_multiplier", 1.0))
        set_knobs(ctx.target, self.component, {"rate_multiplier": base})
        return f"producer rate back to the drill's (multiplier {base:g})"


class Burst(Rate):
    kind = "burst"
    summary = "multiply the request rate for a few seconds, then back to 1x by itself"
    Params = BurstParams

    def recover_after_s(self, params: BurstParams) -> float:
        return params.seconds


INJECTORS = (Rate, Burst)
