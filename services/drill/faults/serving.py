"""Serving faults through its knobs: a memory leak in the worker, a prediction event changed under its consumers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...contracts.knobs import FieldRename, ServingFaults, knob_param
from .knobs import KnobFault


class LeakParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kb_per_row: float = knob_param(ServingFaults, "leak_kb_per_row")


class MemoryLeak(KnobFault):
    kind, family, component, turns = "memory_leak", "serving", "serving", ("leak_kb_per_row",)
    summary = "the serving worker keeps memory for every prediction and never frees it (recover: freed)"
    Params = LeakParams

    def knobs(self, params: LeakParams) -> dict:
        return {"leak_kb_per_row": params.kb_per_row}


class PredictionRename(KnobFault):
    kind, family, component, turns = "prediction_rename", "serving", "serving", ("prediction_rename",)
    summary = "rename a field of the prediction events (a release that breaks the topic's consumers)"
    Params = FieldRename

    def knobs(self, params: FieldRename) -> dict:
        return {"prediction_rename": params.model_dump()}


INJECTORS = (MemoryLeak, PredictionRename)
