"""The fault knobs of each service, declared once: name, what it does, its "off" default, its bounds.

Each service holds its knobs (runtime.admin_http.Knobs) and applies them; the drill's faults
(drill/faults/) take their parameters' bounds and descriptions from here; the fault docs
(scenarios/FORMAT.md) are generated from here (`gameday chaos kinds --markdown`). A knob turns at
run time through the service's admin endpoint (POST /faults, serving: /admin/faults), with the
run folder's admin key. Every knob is off by default: a service nobody touched runs clean.
"""

from __future__ import annotations

from copy import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

class _Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Shift(_Knobs):
    """Multiply then add to a column, for `share` of the trips."""

    column: Literal["trip_distance", "passenger_count"] = Field(description="the request column shifted (contracts.REQUEST_FEATURES)")
    multiply: float = Field(1.0, gt=0, le=100, description="the column is multiplied by this")
    add: float = Field(0.0, ge=-100, le=100, description="then this is added")
    share: float = Field(1.0, ge=0, le=1, description="share of trips affected")


class Congestion(_Knobs):
    """Slow the trips picked up in some boroughs and/or zones (both None: every zone)."""

    speed_multiplier: float = Field(gt=0, le=10, description="true trip speed multiplier, e.g. 0.5: trips take twice as long")
    boroughs: list[str] | None = Field(None, description="only trips picked up in these boroughs")
    zones: list[int] | None = Field(None, description="only trips picked up in these zones")


class FieldRename(_Knobs):
    old: str = Field(min_length=1, description="the field's name in the contract")
    new: str = Field(min_length=1, description="the name it is sent under")


class ProducerFaults(_Knobs):
    """The producer (trip simulator): trip-level knobs change the trips themselves, event-level knobs
    what goes on the wire."""

    rate_multiplier: float = Field(1.0, gt=0, le=100, description="multiplies the request rate (a traffic spike)")
    shifts: list[Shift] = Field(default_factory=list, description="distribution shifts of request columns (data drift)")
    congestion: Congestion | None = Field(None, description="slower true trips: labels change, requests do not (concept drift)")
    rename_field: FieldRename | None = Field(None, description="a field renamed on the wire (a schema change upstream)")
    drop_field: str | None = Field(None, min_length=1, description="a field dropped from the wire")
    malformed_share: float = Field(0.0, ge=0, le=1, description="share of events sent malformed (bad JSON, missing "
                                                                 "field, wrong type, unknown schema_version)")
    null_share: float = Field(0.0, ge=0, le=1, description="share of events with a request column sent as null")
    event_time_offset_s: float = Field(0.0, ge=-86_400, le=86_400, description="seconds added to every timestamp on "
                                       "the wire (-18000: a release that stamps New York time as UTC)")
    duplicate_share: float = Field(0.0, ge=0, le=1, description="share of events sent twice, the copy under a new "
                                                                 "event_id (an upstream retrying without an idempotency key)")
    label_delay: float = Field(1.0, ge=1, le=100, description="labels (trips.completed) come this many times later "
                                                               "(a slow label feed)")
    eta_influence: float = Field(0.0, ge=0, le=1, description="each trip's duration moves this share of the way to the "
                                                               "ETA its rider was shown (a feedback loop: labels follow "
                                                               "the model)")


class IngestFaults(_Knobs):
    """Ingest (Kafka → Feast)."""

    speed_unit: Literal["mph", "kmh"] = Field("mph", description="the unit mean_speed_30m is written online in "
                                                                   "(kmh: the units bug; offline history stays in mph)")
    nan_share: float = Field(0.0, ge=0, le=1, description="share of the zone rows written online with mean_speed_30m "
                                                           "= NaN (a division bug; the offline history stays right)")

    @property
    def spoils_online_rows(self) -> bool:
        """Zone rows are written online wrong (ingest rewrites the zones they reached once this is False)."""
        return self.speed_unit != "mph" or self.nan_share > 0


class ServingFaults(_Knobs):
    """Serving (the BentoML service)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    feature_latency_ms: float = Field(0, ge=0, le=60_000, description="added to each online feature read")
    feature_timeout_ms: float | None = Field(
        None, gt=0, le=60_000, description="reads slower than this use the fallback and are flagged")
    model_latency_ms: float = Field(0, ge=0, le=60_000, description="added to each model call")
    feature_ttl_s: float | None = Field(None, gt=0, le=86_400, description="zone features older than this are stale "
                                        "and replaced by the fallback (unset: the feature view's TTL, 1 h)")
    leak_kb_per_row: float = Field(0, ge=0, le=1024, description="memory kept for each predicted row and never "
                                                                  "freed (a leak; freed when the knob is reset)")
    prediction_rename: FieldRename | None = Field(None, description="a field of the prediction events renamed on "
                                                                    "the wire (a release that breaks their consumers)")


class MonitorFaults(_Knobs):
    """The monitor."""

    threshold_scale: float = Field(1.0, gt=0, le=10, description="multiplies every alert threshold (0.3: a release "
                                                                  "with uncalibrated thresholds)")


# Service -> its knobs.
KNOBS: dict[str, type[BaseModel]] = {"producer": ProducerFaults, "ingest": IngestFaults, "serving": ServingFaults,
                                     "monitor": MonitorFaults}


def off(component: str, *names: str) -> dict[str, Any]:
    """The "off" value of these knobs of `component` (their defaults): what recovering a fault sets."""
    fields = KNOBS[component].model_fields
    return {name: fields[name].get_default(call_default_factory=True) for name in names}


def knob_param(model: type[BaseModel], name: str, default: Any = PydanticUndefined) -> Any:
    """A fault parameter that sets the knob `model.name`: the knob's bounds and description (required
    unless a default is given), so a fault can never ask for what the service would refuse."""
    param = copy(model.model_fields[name])
    param.default, param.default_factory = default, None
    return param
