"""Every name that crosses a process: the topics and their event contracts (JSON, versioned, validated
at every edge), the alert kinds, the zone set, the model's features — and, in contracts/knobs.py,
each service's fault knobs.

Every event carries `event_id` (for idempotency), `event_time` and `schema_version`.
`event_id` is required: whoever creates an event names it once (`new_event_id()`), so a
redelivered copy carries the same id and is recognised as a duplicate. A contract that
invented a missing id would turn every redelivery of such an event into a new event.
A consumer that meets a version it does not know dead-letters the event with the reason.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
# Ids are remembered (ingest keeps the last 200k event ids) and used as Kafka keys: bounded.
ID_MAX_LENGTH = 128
# A dead letter keeps at most this much of the original (the rest is described by its size and
# hash), so a letter always fits a broker's default message limit (1 MB) whatever it carries:
# JSON escaping can grow a byte to 6 characters, 6 x 64 KiB + the reason stays far below it.
DEAD_LETTER_ORIGINAL_MAX = 64 * 1024
DEAD_LETTER_REASON_MAX = 2000

# The city's taxi zones, the one zone set of every edge (events, replay, the Feast entity,
# serving, its OpenAPI document): TLC zone ids 1..263. TLC's 264 ("Unknown") and 265
# ("Outside of NYC") name no place, so no zone features can exist for them: a trip there
# is refused (a replay skips and counts it, ingest dead-letters it, serving answers it
# with an error naming the zone).
FIRST_ZONE, LAST_ZONE = 1, 263
ZONE_IDS = range(FIRST_ZONE, LAST_ZONE + 1)
ZONE_RANGE = f"{FIRST_ZONE}..{LAST_ZONE}"
ZoneId = Annotated[int, Field(ge=FIRST_ZONE, le=LAST_ZONE)]


class Topic(StrEnum):
    """The topics between the processes, each with its event contract (EVENT_TYPES). Keys: pickup zone for
    trips, trip id for predictions. The value is the default name on the broker; the names a stack
    uses are configured once (config.TopicNames, `settings.topics`) and every client reads them there."""

    TRIPS_REQUESTED = "trips.requested"
    TRIPS_COMPLETED = "trips.completed"
    PREDICTIONS = "predictions"
    ALERTS = "alerts"
    DLQ = "dlq"


# Trips of the past sent now — a fast-forwarded history, a producer's warm start — carry this
# Kafka header. Consumers that act on live requests (the rider app, the drill's watcher, the
# monitor's label join) skip them; ingest applies them like any other event.
BACKFILL_HEADER = "gameday-backfill"
BACKFILL_HEADERS = [(BACKFILL_HEADER, b"1")]


def is_backfill(headers: list[tuple[str, bytes]] | None) -> bool:
    return any(key == BACKFILL_HEADER for key, _ in headers or ())


# The model's features. Zone features come from the Feast online store (written by
# ingest); request features come from the trip request itself. No clock features: the
# simulated city is stationary (see city.py), so the hour of a trip tells nothing.
ZONE_FEATURES = ("requests_15m", "completed_30m", "mean_speed_30m")
# How far back each zone feature looks, in event time (ingest/windows.py counts in these). A
# zone's windows are full only this long after its traffic began: the producer's warm start
# and the trainer's warm-up rule both use the longest.
ZONE_WINDOW_S = {"requests_15m": 15 * 60, "completed_30m": 30 * 60, "mean_speed_30m": 30 * 60}
LONGEST_ZONE_WINDOW_S = max(ZONE_WINDOW_S.values())
# The labels of the trips requested at one moment have (nearly) all arrived this much trip time
# later: 99% of the city's trips last under an hour. Earlier, the labels in hand are the short
# trips' only (a history stops requesting this long before its end; the trainer waits as long).
LABEL_MATURITY_S = 3600
REQUEST_FEATURES = ("trip_distance", "passenger_count")
# The Feast feature service a model version reads its zone features through (feature_repo/features.py
# defines it; each saved model names it in its labels). A model with new features gets triptime_v2.
FEATURE_SERVICE = "triptime_v1"
MODEL_FEATURES = REQUEST_FEATURES + ZONE_FEATURES
TARGET = "duration_s"
PREDICTION = "prediction_s"  # the model's answer (Prediction.prediction_s), beside TARGET in the monitor's frames


def new_event_id() -> str:
    return uuid.uuid4().hex


def new_event_ids(n: int) -> list[str]:
    """n event ids at once, as unique as new_event_id's (128 random bits each), ~20x cheaper a piece."""
    text = os.urandom(16 * n).hex()
    return [text[i:i + 32] for i in range(0, 32 * n, 32)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    event_time: datetime
    schema_version: Literal[1] = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class TripRequested(Event):
    """A rider asks for a trip: the moment an ETA is needed."""

    trip_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    pickup_zone: ZoneId
    dropoff_zone: ZoneId
    trip_distance: float = Field(gt=0, le=200, description="miles")
    passenger_count: int = Field(ge=1, le=9)


class TripCompleted(Event):
    """The trip ended: the label (actual duration) arrives late, at dropoff time."""

    trip_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    pickup_zone: ZoneId
    dropoff_zone: ZoneId
    pickup_time: datetime
    trip_distance: float = Field(gt=0, le=200, description="miles")
    passenger_count: int = Field(ge=1, le=9)
    duration_s: float = Field(gt=0, le=6 * 3600)


class Prediction(Event):
    """One served ETA, published for monitoring."""

    trip_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH)
    pickup_zone: ZoneId
    model_tag: str
    role: Literal["live", "shadow", "canary"] = "live"
    features: dict[str, float]
    prediction_s: float
    latency_ms: float = Field(ge=0)
    # Age of the online zone features used (None when they were missing).
    feature_age_s: float | None = None
    stale: bool = False
    missing: list[str] = Field(default_factory=list)


class AlertKind(StrEnum):
    """What the monitor alerts on (Alert.kind): one check of a judged window each. The drill's
    signals, the scenarios' expectations and the debrief read these names from here."""

    DRIFT = "drift.detected"
    PREDICTION_DRIFT = "prediction.drift"
    MAE_INCREASE = "quality.mae_increase"
    BIAS = "quality.bias"
    STALE_FEATURES = "freshness.stale"
    SKEW = "skew.detected"
    LABELS_MISSING = "labels.missing"
    FEATURES_MISSING = "features.missing"
    TOO_GOOD = "quality.too_good"
    SLICE_MAE = "quality.slice_mae"


ALERT_MEANINGS: dict[AlertKind, str] = {
    AlertKind.DRIFT: "data drift on an input column (Evidently, window vs reference)",
    AlertKind.PREDICTION_DRIFT: "the distribution of predictions moved",
    AlertKind.MAE_INCREASE: "MAE on labelled predictions rose over the reference",
    AlertKind.BIAS: "predictions are systematically too low or too high (signed score)",
    AlertKind.STALE_FEATURES: "online features are older than their freshness budget",
    AlertKind.SKEW: "online feature values differ from what training saw (training-serving skew)",
    AlertKind.LABELS_MISSING: "predictions are not getting their delayed labels (info)",
    AlertKind.FEATURES_MISSING: "a zone feature reached serving missing or NaN, and the model got its fallback instead",
    AlertKind.TOO_GOOD: "online MAE far below the hold-out MAE: labels that follow the predictions (a feedback loop)",
    AlertKind.SLICE_MAE: "one slice of the traffic (a borough, the airports) got much worse while the aggregate may not",
}


class Alert(Event):
    """A monitoring check failed (after hysteresis)."""

    kind: str  # an AlertKind
    column: str | None = None
    score: float
    threshold: float
    window: int
    evidence_path: str | None = None
    message: str = ""


class DeadLetter(Event):
    """An event a consumer could not process, with the reason and the original bytes (the first
    DEAD_LETTER_ORIGINAL_MAX of them; `truncated` says when there were more, and the size and
    SHA-256 of the whole value identify it)."""

    source_topic: str
    partition: int | None = None
    offset: int | None = None
    consumer: str
    reason: str
    original: str = Field(description="the original value, decoded as UTF-8 with replacement")
    original_size: int | None = Field(None, ge=0, description="bytes of the original value")
    original_sha256: str | None = None
    truncated: bool = False


def dead_letter_of(raw: bytes | None, *, source_topic: str, partition: int | None, offset: int | None,
                consumer: str, reason: str) -> DeadLetter:
    """The dead letter of a value a consumer could not process, bounded in size (see DeadLetter).
    Its id names the consumer and the record, so a letter sent again after a restart (the record
    read again) is recognisably the same letter."""
    raw = raw or b""
    event_id = f"{consumer}:{source_topic}:{partition}:{offset}" if offset is not None else new_event_id()
    kept = raw[:DEAD_LETTER_ORIGINAL_MAX]
    if len(reason) > DEAD_LETTER_REASON_MAX:
        reason = reason[:DEAD_LETTER_REASON_MAX] + f"... ({len(reason)} characters)"
    return DeadLetter(
        event_id=event_id, event_time=utcnow(), source_topic=source_topic, partition=partition, offset=offset,
        consumer=consumer, reason=reason, original=kept.decode("utf-8", errors="replace"),
        original_size=len(raw), original_sha256=hashlib.sha256(raw).hexdigest(), truncated=len(kept) < len(raw))


# What every dead-letter count shown (the topic's, the metrics', the logs', the signals', the debrief's) counts.
LETTERS_COUNTED = ("one letter per consumer that refused an event — ingest and the monitor both read trips.completed, "
                   "so a bad label makes two")


def reason_kind(reason: str) -> str:
    """A dead letter's reason without the values, for a tally: 'passenger_count: Input should be…'."""
    if "ahead of ingest's clock" in reason:
        return "event_time ahead of ingest's clock"
    return reason.split(";")[0].split(" (got")[0].split(" at line ")[0][:80]


EVENT_TYPES: dict[Topic, type[Event]] = {
    Topic.TRIPS_REQUESTED: TripRequested,
    Topic.TRIPS_COMPLETED: TripCompleted,
    Topic.PREDICTIONS: Prediction,
    Topic.ALERTS: Alert,
    Topic.DLQ: DeadLetter,
}


class EventRejected(ValueError):
    """The bytes on a topic are not a valid event of that topic; `reason` names what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_event(topic: Topic, raw: bytes) -> Event:
    """Validate raw bytes against the topic's contract, or raise EventRejected with the reason."""
    model = EVENT_TYPES[topic]
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise EventRejected(describe_event_error(exc)) from None


def describe_event_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(event)"
        if err["type"] == "json_invalid":
            parts.append(f"invalid JSON: {err['msg']}")
        elif err["type"] == "literal_error" and err["loc"] == ("schema_version",):
            parts.append(f"unknown schema_version {err.get('input')!r} (supported: {SCHEMA_VERSION})")
        elif err["type"] == "missing":
            parts.append(f"{field}: missing")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{field}: unexpected field")
        else:
            parts.append(f"{field}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def as_json_dict(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
