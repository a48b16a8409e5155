"""Feature faults: the units bug in ingest; a slow feature store under serving (and its fallback)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .base import NoParams
from .knobs import KnobFault


class LatencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: float = Field(gt=0, le=10_000, description="added to each online feature read")
    timeout_ms: float | None = Field(None, gt=0, description="reads slower than this use the fallback")


class UnitsBug(KnobFault):
    kind, family, component = "units_bug", "features", "ingest"
    summary = "ingest writes mean_speed_30m in km/h while the model was trained on mph (skew)"
    Params = NoParams
    off = {"speed_unit": "mph"}

    def knobs(self, params: NoParams) -> dict:
        return {"speed_unit": "kmh"}


class FeatureLatency(KnobFault):
    kind, family, component = "feature_latency", "features", "serving"
    summary = "slow online feature reads; with a timeout, serving silently uses fallback values"
    Params = LatencyParams
    off = {"feature_latency_ms": 0.0}

    def knobs(self, params: LatencyParams) -> dict:
        changes: dict = {"feature_latency_ms": params.latency_ms}
        if params.timeout_ms is not None:
            changes["feature_timeout_ms"] = params.timeout_ms
        return changes


INJECTORS = (UnitsBug, FeatureLatency)
