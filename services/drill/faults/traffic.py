"""Traffic faults through the producer's rate knob: a sustained multiplier, or a burst."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .knobs import KnobFault


class RateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    multiply: float = Field(gt=0, le=100, description="traffic multiplier, e.g. 10 for a 10x spike")


class BurstParams(RateParams):
    seconds: float = Field(gt=0, le=600, description="how long the burst lasts")


class Rate(KnobFault):
    kind, family, component = "rate", "traffic", "producer"
    summary = "multiply the producer's request rate (recover: back to 1x)"
    Params = RateParams
    off = {"rate_multiplier": 1.0}

    def knobs(self, params: RateParams) -> dict:
        return {"rate_multiplier": params.multiply}


class Burst(Rate):
    kind = "burst"
    summary = "multiply the request rate for a few seconds, then back to 1x by itself"
    Params = BurstParams

    def recover_after_s(self, params: BurstParams) -> float:
        return params.seconds


INJECTORS = (Rate, Burst)
