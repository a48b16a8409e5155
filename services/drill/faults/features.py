"""Feature faults: the units bug in ingest; a slow feature store under serving (and its fallback)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...contracts.knobs import ServingFaults, knob_param
from .base import NoParams
from .knobs import KnobFault


class LatencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: float = knob_param(ServingFaults, "feature_latency_ms")
    timeout_ms: float | None = knob_param(ServingFaults, "feature_timeout_ms", None)


class UnitsBug(KnobFault):
    kind, family, component, turns = "units_bug", "features", "ingest", ("speed_unit",)
    summary = "ingest writes mean_speed_30m in km/h while the model was trained on mph (skew)"
    Params = NoParams

    def knobs(self, params: NoParams) -> dict:
        return {"speed_unit": "kmh"}


class FeatureLatency(KnobFault):
    kind, family, component = "feature_latency", "features", "serving"
    turns = ("feature_latency_ms", "feature_timeout_ms")
    summary = "slow online feature reads; with a timeout, serving silently uses fallback values"
    Params = LatencyParams

    def knobs(self, params: LatencyParams) -> dict:
        changes: dict = {"feature_latency_ms": params.latency_ms}
        if params.timeout_ms is not None:
            changes["feature_timeout_ms"] = params.timeout_ms
        return changes


INJECTORS = (UnitsBug, FeatureLatency)
