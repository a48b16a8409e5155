"""Data faults through the producer's knobs: shifted columns, congestion, schema breaks, bad events.

Their parameters are the knobs' own declarations (contracts/knobs.py): bounds and descriptions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from ...contracts.knobs import Congestion as CongestionKnob
from ...contracts.knobs import FieldRename, ProducerFaults, Shift, knob_param
from .knobs import KnobFault, ListKnobFault


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShiftParams(Shift):
    @model_validator(mode="after")
    def _changes_something(self) -> "ShiftParams":
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError("a shift needs multiply != 1 or add != 0")
        if self.share == 0:
            raise ValueError("a shift needs share > 0")
        return self


class CongestionParams(CongestionKnob):
    @model_validator(mode="after")
    def _slows_down(self) -> "CongestionParams":
        if self.speed_multiplier >= 1:
            raise ValueError("congestion slows trips: speed_multiplier must be below 1 (e.g. 0.5)")
        return self


class DropParams(_Strict):
    field: str = knob_param(ProducerFaults, "drop_field")


class MalformedParams(_Strict):
    share: float = knob_param(ProducerFaults, "malformed_share")


class NullsParams(_Strict):
    share: float = knob_param(ProducerFaults, "null_share")


class ShiftFeature(ListKnobFault):
    kind, family, component, list_knob = "shift_feature", "data", "producer", "shifts"
    summary = "scale/shift a request column for a share of events (data drift)"
    Params = ShiftParams

    def entry(self, params: ShiftParams) -> dict:
        return params.model_dump()


class Congestion(KnobFault):
    kind, family, component, turns = "congestion", "data", "producer", ("congestion",)
    summary = "slow down true trips: labels change, request features do not (concept drift)"
    Params = CongestionParams

    def knobs(self, params: CongestionParams) -> dict:
        return {"congestion": params.model_dump()}


class RenameField(KnobFault):
    kind, family, component, turns = "rename_field", "data", "producer", ("rename_field",)
    summary = "rename a field in produced events (a schema change upstream)"
    Params = FieldRename

    def knobs(self, params: FieldRename) -> dict:
        return {"rename_field": params.model_dump()}


class DropField(KnobFault):
    kind, family, component, turns = "drop_field", "data", "producer", ("drop_field",)
    summary = "drop a field from produced events"
    Params = DropParams

    def knobs(self, params: DropParams) -> dict:
        return {"drop_field": params.field}


class Malformed(KnobFault):
    kind, family, component, turns = "malformed", "data", "producer", ("malformed_share",)
    summary = "a share of events is malformed (bad JSON, missing field, wrong type, unknown version)"
    Params = MalformedParams

    def knobs(self, params: MalformedParams) -> dict:
        return {"malformed_share": params.share}


class Nulls(KnobFault):
    kind, family, component, turns = "nulls", "data", "producer", ("null_share",)
    summary = "a share of events carries nulls"
    Params = NullsParams

    def knobs(self, params: NullsParams) -> dict:
        return {"null_share": params.share}


INJECTORS = (ShiftFeature, Congestion, RenameField, DropField, Malformed, Nulls)
