"""Feature faults: the units bug and NaN speeds in ingest; a slow feature store under serving (and its
fallback); a feature TTL misconfigured in serving."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...contracts.knobs import IngestFaults, ServingFaults, knob_param
from .base import NoParams
from .knobs import KnobFault


class LatencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: float = knob_param(ServingFaults, "feature_latency_ms")
    timeout_ms: float | None = knob_param(ServingFaults, "feature_timeout_ms", None)


class NanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    share: float = knob_param(IngestFaults, "nan_share")


class TtlParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ttl_s: float = knob_param(ServingFaults, "feature_ttl_s")


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


class NanFeatures(KnobFault):
    kind, family, component, turns = "nan_features", "features", "ingest", ("nan_share",)
    summary = "ingest writes mean_speed_30m as NaN for a share of zone rows (online only)"
    Params = NanParams

    def knobs(self, params: NanParams) -> dict:
        return {"nan_share": params.share}


class FeatureTtl(KnobFault):
    kind, family, component, turns = "feature_ttl", "features", "serving", ("feature_ttl_s",)
    summary = "serving treats features older than ttl_s as stale (a TTL misconfigured in a deploy)"
    Params = TtlParams

    def knobs(self, params: TtlParams) -> dict:
        return {"feature_ttl_s": params.ttl_s}


INJECTORS = (UnitsBug, FeatureLatency, NanFeatures, FeatureTtl)
