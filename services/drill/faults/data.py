"""Data faults through the producer's knobs: shifted columns, congestion, schema breaks, bad events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .knobs import KnobFault, ListKnobFault


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShiftParams(_Strict):
    column: Literal["trip_distance", "passenger_count"]
    multiply: float = Field(1.0, gt=0)
    add: float = 0.0
    share: float = Field(1.0, gt=0, le=1, description="share of events affected")

    @model_validator(mode="after")
    def _changes_something(self) -> "ShiftParams":
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError("a shift needs multiply != 1 or add != 0")
        return self


class CongestionParams(_Strict):
    speed_multiplier: float = Field(gt=0, lt=1, description="e.g. 0.5: trips take twice as long")
    boroughs: list[str] | None = None
    zones: list[int] | None = None


class RenameParams(_Strict):
    old: str = Field(min_length=1)
    new: str = Field(min_length=1)


class DropParams(_Strict):
    field: str = Field(min_length=1)


class ShareParams(_Strict):
    share: float = Field(gt=0, le=1)


class ShiftFeature(ListKnobFault):
    kind, family, component, list_knob = "shift_feature", "data", "producer", "shifts"
    summary = "scale/shift a request column for a share of events (data drift)"
    Params = ShiftParams
    off = {"shifts": []}

    def entry(self, params: ShiftParams) -> dict:
        return params.model_dump()


class Congestion(KnobFault):
    kind, family, component = "congestion", "data", "producer"
    summary = "slow down true trips: labels change, request features do not (concept drift)"
    Params = CongestionParams
    off = {"congestion": None}

    def knobs(self, params: CongestionParams) -> dict:
        return {"congestion": params.model_dump()}


class RenameField(KnobFault):
    kind, family, component = "rename_field", "data", "producer"
    summary = "rename a field in produced events (a schema change upstream)"
    Params = RenameParams
    off = {"rename_field": None}

    def knobs(self, params: RenameParams) -> dict:
        return {"rename_field": params.model_dump()}


class DropField(KnobFault):
    kind, family, component = "drop_field", "data", "producer"
    summary = "drop a field from produced events"
    Params = DropParams
    off = {"drop_field": None}

    def knobs(self, params: DropParams) -> dict:
        return {"drop_field": params.field}


class Malformed(KnobFault):
    kind, family, component = "malformed", "data", "producer"
    summary = "a share of events is malformed (bad JSON, missing field, wrong type, unknown version)"
    Params = ShareParams
    off = {"malformed_share": 0.0}

    def knobs(self, params: ShareParams) -> dict:
        return {"malformed_share": params.share}


class Nulls(KnobFault):
    kind, family, component = "nulls", "data", "producer"
    summary = "a share of events carries nulls"
    Params = ShareParams
    off = {"null_share": 0.0}

    def knobs(self, params: ShareParams) -> dict:
        return {"null_share": params.share}


INJECTORS = (ShiftFeature, Congestion, RenameField, DropField, Malformed, Nulls)
