"""Monitor faults through its knob: thresholds that turn the noise of a healthy stack into alerts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...contracts.knobs import MonitorFaults, knob_param
from .knobs import KnobFault


class ThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scale: float = knob_param(MonitorFaults, "threshold_scale")


class Thresholds(KnobFault):
    kind, family, component, turns = "monitor_thresholds", "monitor", "monitor", ("threshold_scale",)
    summary = "multiply every alert threshold of the monitor (below 1: noise becomes alerts)"
    Params = ThresholdParams

    def knobs(self, params: ThresholdParams) -> dict:
        return {"threshold_scale": params.scale}


INJECTORS = (Thresholds,)
