"""Model faults: a slower model (latency knob on serving), a promotion, a canary with a share — all
through the target's model control (serving's admin API), on the local stack and on a cluster alike."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...contracts.knobs import ServingFaults, knob_param
from .base import FaultContext, Injector
from .knobs import KnobFault

Variant = Literal["fast", "accurate", "worse"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelLatencyParams(_Strict):
    latency_ms: float = knob_param(ServingFaults, "model_latency_ms")


class SlowModelParams(_Strict):
    variant: Variant = "accurate"
    latency_ms: float = knob_param(ServingFaults, "model_latency_ms", 200.0)  # the heavier model's extra time


class PromoteParams(_Strict):
    variant: Variant


class CanaryParams(_Strict):
    variant: Variant = "worse"
    share: float = Field(0.3, gt=0, lt=1, description="share of requests the canary answers")


class ModelLatency(KnobFault):
    kind, family, component, turns = "model_latency", "model", "serving", ("model_latency_ms",)
    summary = "add latency to every model call in serving"
    Params = ModelLatencyParams

    def knobs(self, params: ModelLatencyParams) -> dict:
        return {"model_latency_ms": params.latency_ms}


class Promote(Injector):
    kind, family = "promote", "model"
    summary = "promote a model variant to live (recover: roll back to the previous live model)"
    Params = PromoteParams

    def inject(self, ctx: FaultContext, params: PromoteParams) -> str:
        ctx.memory.setdefault("previous_live", ctx.target.live_model())
        return ctx.target.promote(params.variant, role="live", report=ctx.report)

    def recover(self, ctx: FaultContext, params: PromoteParams) -> str:
        previous = ctx.memory.pop("previous_live", None)
        return ctx.target.rollback(previous, report=ctx.report)


class SlowModel(Promote):
    kind = "slow_model"
    summary = "promote a heavier model that breaks the latency SLO (accurate + model latency)"
    Params = SlowModelParams

    def inject(self, ctx: FaultContext, params: SlowModelParams) -> str:
        done = super().inject(ctx, PromoteParams(variant=params.variant))
        # The extra latency is a serving knob for every model; it belongs to this one.
        ctx.memory["slow_tag"] = ctx.target.live_model()
        ModelLatency().inject(ctx, ModelLatencyParams(latency_ms=params.latency_ms))
        return f"{done}; model latency +{params.latency_ms:.0f} ms"

    def reconcile(self, ctx: FaultContext, params: SlowModelParams) -> str | None:
        slow = ctx.memory.get("slow_tag")
        if slow and ctx.target.live_model() != slow:
            ModelLatency().recover(ctx, None)
            return f"the slow model {slow} is no longer live: its latency is gone"
        return None

    def recover(self, ctx: FaultContext, params: SlowModelParams) -> str:
        ModelLatency().recover(ctx, None)
        return super().recover(ctx, params)


class Canary(Injector):
    kind, family = "canary", "model"
    summary = "send a share of requests to another model variant as a canary (recover: no canary)"
    Params = CanaryParams

    def inject(self, ctx: FaultContext, params: CanaryParams) -> str:
        return ctx.target.promote(params.variant, role="canary", share=params.share, report=ctx.report)

    def recover(self, ctx: FaultContext, params: CanaryParams) -> str:
        return ctx.target.clear_canary(report=ctx.report)


INJECTORS = (ModelLatency, Promote, SlowModel, Canary)
