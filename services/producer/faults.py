"""The producer's fault knobs (POST /faults), all "off" by default, and how they bend events.

Trip-level knobs change the trips themselves (the simulator applies them):
  rate_multiplier, shifts (distribution shift for a share of trips), congestion (slower
  zones: labels change, request features do not).
Event-level knobs change what goes on the wire (applied here, to the JSON of each event):
  rename_field / drop_field (a schema change), malformed_share (invalid JSON, missing
  field, wrong type, unknown schema_version), null_share (a feature sent as null).
"""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

MALFORMED_KINDS = ("invalid_json", "missing_field", "wrong_type", "unknown_schema_version")
NULLABLE_FIELDS = ("trip_distance", "passenger_count")


class Shift(BaseModel):
    """Multiply then add to a column, for `share` of the trips."""

    model_config = ConfigDict(extra="forbid")
    column: Literal["trip_distance", "passenger_count"]
    multiply: float = Field(1.0, gt=0, le=100)
    add: float = Field(0.0, ge=-100, le=100)
    share: float = Field(1.0, ge=0, le=1)


class Congestion(BaseModel):
    """Slow the trips picked up in some boroughs and/or zones (both None: every zone)."""

    model_config = ConfigDict(extra="forbid")
    boroughs: list[str] | None = None
    zones: list[int] | None = None
    speed_multiplier: float = Field(gt=0, le=10)


class FieldRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old: str
    new: str


class ProducerFaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_multiplier: float = Field(1.0, gt=0, le=100)
    shifts: list[Shift] = Field(default_factory=list)
    congestion: Congestion | None = None
    rename_field: FieldRename | None = None
    drop_field: str | None = None
    malformed_share: float = Field(0.0, ge=0, le=1)
    null_share: float = Field(0.0, ge=0, le=1)


class WireFaults:
    """Applies the event-level knobs to serialized events, with its own RNG stream
    (so turning a knob never changes the trips themselves)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 7])

    def encode(self, event: dict, faults: ProducerFaults) -> tuple[bytes, str | None]:
        """The bytes to send and the fault applied (None for a clean event)."""
        kind = None
        if faults.rename_field and faults.rename_field.old in event:
            event[faults.rename_field.new] = event.pop(faults.rename_field.old)
            kind = "renamed_field"
        if faults.drop_field and faults.drop_field in event:
            del event[faults.drop_field]
            kind = "dropped_field"
        if faults.null_share and self.rng.random() < faults.null_share:
            event[NULLABLE_FIELDS[self.rng.integers(len(NULLABLE_FIELDS))]] = None
            kind = "null_field"
        if faults.malformed_share and self.rng.random() < faults.malformed_share:
            return self._malformed(event, MALFORMED_KINDS[self.rng.integers(len(MALFORMED_KINDS))])
        return json.dumps(event, separators=(",", ":")).encode(), kind

    def _malformed(self, event: dict, kind: str) -> tuple[bytes, str]:
        if kind == "invalid_json":
            text = json.dumps(event, separators=(",", ":"))
            return text[: len(text) // 2].encode(), kind
        if kind == "missing_field":
            event.pop("trip_distance", None)
        elif kind == "wrong_type":
            event["passenger_count"] = "two"
        else:
            event["schema_version"] = 99
        return json.dumps(event, separators=(",", ":")).encode(), kind
