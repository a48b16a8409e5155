"""Request and response bodies of the TripTime service (validated with pydantic).

A request that breaks a rule gets HTTP 400 naming the field, the value and the rule, e.g.
`pickup_zone: Input should be less than or equal to 263`. In a batch, each trip is judged
on its own: a bad one gets its own error in the answer, the others their ETA.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError,
                      model_validator)
from pydantic_core import to_json

from ..contracts import FIRST_ZONE, LAST_ZONE, ZONE_RANGE, describe_event_error

FallbackReason = Literal["missing", "stale", "timeout", "unavailable"]
MAX_BATCH = 10_000


def _date_time_text(value: object) -> object:
    # Strict JSON still reads "0" as 1970-01-01: only an RFC 3339 text (YYYY-MM-DDThh:mm:ss...) is a time here.
    if not isinstance(value, str) or len(value) < 19 or value[4] != "-" or value[10] not in "Tt ":
        raise ValueError("should be an RFC 3339 date-time string with its timezone, e.g. 2026-01-05T08:30:00Z")
    return value


def _json_number(value: object) -> object:
    if value.__class__ is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("should be a JSON number")
    return value


# A time as the OpenAPI document says: an RFC 3339 string (not a number of seconds), with its timezone.
DateTimeText = Annotated[AwareDatetime, Strict(False), BeforeValidator(_date_time_text)]
# An integer as JSON Schema has it: 5 or 5.0 (read as 5), never "5" nor true.
JsonInt = Annotated[int, Strict(False), BeforeValidator(_json_number)]


class TripRequest(BaseModel):
    """One trip that needs an ETA (the fields of a trips.requested event).

    Strict: a value is taken only in the JSON type the OpenAPI document gives (no "2.4" for a
    number, no true for an integer), so what the document refuses, the service refuses. Read
    from JSON only (strict Python validation would refuse a time given as text).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    trip_id: str = Field(min_length=1, max_length=128, examples=["trip-0001"])
    pickup_zone: JsonInt = Field(ge=FIRST_ZONE, le=LAST_ZONE, description=f"TLC taxi zone of the pickup ({ZONE_RANGE})",
                                 examples=[161])
    dropoff_zone: JsonInt = Field(ge=FIRST_ZONE, le=LAST_ZONE,
                                  description=f"TLC taxi zone of the dropoff ({ZONE_RANGE})", examples=[236])
    trip_distance: float = Field(gt=0, le=200, description="miles", examples=[2.4])
    passenger_count: JsonInt = Field(ge=1, le=9, examples=[1])
    # When the rider asked, with its timezone; informational — the model has no clock features. Default: now.
    request_time: DateTimeText | None = Field(None, examples=["2026-01-05T08:30:00Z"])


class EtaResponse(BaseModel):
    """The ETA of one trip and how it was made."""

    trip_id: str
    eta_s: float = Field(description="predicted trip duration, seconds")
    model_tag: str
    role: Literal["live", "canary"]
    # Age of the zone features used (None when the zone had none).
    feature_age_s: float | None
    # True when a zone feature was missing, older than its TTL or not read in time:
    # the model's fallback values (training medians) were used for it instead.
    fallback_used: bool
    fallback_reason: FallbackReason | None = None
    stale: bool
    missing: list[str]
    latency_ms: float


class RowError(BaseModel):
    """The answer for a trip of a batch that is not a valid TripRequest."""

    trip_id: str | None = Field(description="the row's trip_id, when it has a usable one")
    error: str = Field(description="what is wrong with the row, field by field")


class BatchRequest(BaseModel):
    """Trips that need an ETA: each one is judged on its own (a bad row does not fail the others)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # A valid row is read straight into a TripRequest (in pydantic's core, from the JSON); any other
    # value is kept as it came, to be answered with its own error (judge_rows).
    trips: list[Annotated[TripRequest | Any, Field(union_mode="left_to_right")]] = Field(
        min_length=1, max_length=MAX_BATCH, description="TripRequest objects; a row that is not one gets a RowError")


class BatchResponse(BaseModel):
    """One answer per trip, in the request's order: an EtaResponse, or a RowError for a bad row."""

    predictions: list[EtaResponse | RowError]
    rejected: int = Field(description="rows answered with a RowError")


class ErrorBody(BaseModel):
    """A refused request: what was wrong (and, for a body that breaks the rules, each field's problem)."""

    error: str
    detail: list[dict[str, Any]] | None = Field(
        None, description="pydantic's errors: loc (the field's path), msg, type")


EXAMPLE_TRIP = {"trip_id": "trip-0001", "pickup_zone": 161, "dropoff_zone": 236,
                "trip_distance": 2.4, "passenger_count": 1}

def judge_rows(rows: list[Any]) -> tuple[list[TripRequest], dict[int, str]]:
    """The valid trips of a batch (in order) and, by row index, why each other row was refused
    (the reasons read like a dead letter's: field, rule, value)."""
    good, refused = [], {}
    for i, row in enumerate(rows):
        if isinstance(row, TripRequest):
            good.append(row)
            continue
        try:  # only a row that is not a TripRequest gets here: validated again for its reasons
            good.append(TripRequest.model_validate_json(to_json(row)))
        except ValidationError as exc:
            refused[i] = describe_event_error(exc)
    return good, refused


def row_trip_id(row: Any) -> str | None:
    trip_id = row.get("trip_id") if isinstance(row, dict) else None
    return trip_id if isinstance(trip_id, str) and 0 < len(trip_id) <= 128 else None


class PromoteRequest(BaseModel):
    """Change which model answers: a tag goes live (default), becomes a canary with a share of
    traffic, or a shadow; `clear` (or a canary share of 0) removes a role instead."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": ["tag"], "properties": {"tag": {"type": "string"}}},
        {"required": ["clear"], "properties": {"clear": {"type": "string"}}},
        {"required": ["canary"], "properties": {"canary": {"const": 0}}}]})

    tag: str | None = Field(None, min_length=1, max_length=256, description="full tag or variant name")
    canary: float | None = Field(None, ge=0, le=1, description="share of traffic for the canary (0 removes it)")
    shadow: bool = False
    clear: Literal["canary", "shadow"] | None = None

    @model_validator(mode="after")
    def _says_what_to_change(self) -> "PromoteRequest":
        if self.tag is None and self.clear is None and self.canary != 0:
            raise ValueError("say what to change: a tag to promote, or clear=canary|shadow")
        return self
