"""Request and response bodies of the TripTime service (validated by BentoML with pydantic).

A request that breaks a rule gets HTTP 400 with pydantic's detail: the field, the
value and the rule, e.g. `pickup_zone: Input should be less than or equal to 265`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..producer.city import ZONE_IDS

# The city's zones: TLC ids 1..263 (264/265 are TLC's "unknown" and have no features).
KNOWN_ZONES = frozenset(int(z) for z in ZONE_IDS)


FallbackReason = Literal["missing", "stale", "timeout", "unavailable"]


class TripRequest(BaseModel):
    """One trip that needs an ETA (the fields of a trips.requested event)."""

    model_config = ConfigDict(extra="forbid")

    trip_id: str = Field(min_length=1, max_length=128, examples=["trip-0001"])
    pickup_zone: int = Field(ge=1, le=265, description="TLC taxi zone of the pickup", examples=[161])
    dropoff_zone: int = Field(ge=1, le=265, description="TLC taxi zone of the dropoff", examples=[236])
    trip_distance: float = Field(gt=0, le=200, description="miles", examples=[2.4])
    passenger_count: int = Field(ge=1, le=9, examples=[1])
    # When the rider asked (UTC); informational — the model has no clock features. Default: now.
    request_time: datetime | None = Field(None, examples=["2026-01-05T08:30:00Z"])

    @field_validator("pickup_zone", "dropoff_zone")
    @classmethod
    def _known_zone(cls, value: int) -> int:
        if value not in KNOWN_ZONES:
            raise ValueError(f"unknown zone {value}: the city's zones are {min(KNOWN_ZONES)}..{max(KNOWN_ZONES)}")
        return value

    @field_validator("request_time")
    @classmethod
    def _needs_timezone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("request_time needs a timezone, e.g. 2026-01-05T08:30:00Z")
        return value


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


class BatchResponse(BaseModel):
    predictions: list[EtaResponse]


EXAMPLE_TRIP = {"trip_id": "trip-0001", "pickup_zone": 161, "dropoff_zone": 236,
                "trip_distance": 2.4, "passenger_count": 1}


class ServingFaults(BaseModel):
    """Runtime fault knobs of the service (POST /admin/faults). All off by default."""

    model_config = ConfigDict(extra="forbid")

    feature_latency_ms: float = Field(0, ge=0, le=60_000, description="added to each online feature read")
    feature_timeout_ms: float | None = Field(
        None, gt=0, le=60_000, description="reads slower than this use the fallback and are flagged")
    model_latency_ms: float = Field(0, ge=0, le=60_000, description="added to each model call")


class PromoteRequest(BaseModel):
    """Change which model answers: live (default), a canary share, or a shadow."""

    model_config = ConfigDict(extra="forbid")

    tag: str | None = Field(None, description="full tag or variant name; None with clear=... removes a role")
    canary: float | None = Field(None, ge=0, le=1, description="share of traffic for the canary (0 removes it)")
    shadow: bool = False
    clear: Literal["canary", "shadow"] | None = None


