"""Ingest's fast decoder agrees with the pydantic contract: same events accepted with the same
values, same events rejected with the same reason (the DLQ reason)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from pydantic import ValidationError

from mlgameday.contracts import EventRejected, TripCompleted, TripRequested, describe_event_error
from mlgameday.ingest.decode import EventDecoder, mirror_struct
from mlgameday.ingest.metrics import FRESHNESS_BUCKETS, IngestMetrics
from mlgameday.contracts.knobs import ProducerFaults
from mlgameday.producer.faults import WireFaults
from mlgameday.producer.simulator import TripSimulator
from mlgameday.producer.sink import Sink
from mlgameday.config import TopicNames
from mlgameday.producer.stream import Emitter, run_history

REQUESTED = {"event_id": "e1", "event_time": "2024-03-01T08:00:00.5Z", "schema_version": 1, "trip_id": "t1",
             "pickup_zone": 132, "dropoff_zone": 48, "trip_distance": 3.5, "passenger_count": 2}
COMPLETED = {**REQUESTED, "event_time": "2024-03-01T08:20:00Z", "pickup_time": "2024-03-01T08:00:00.5Z", "duration_s": 1199.5}


def _values(model, event, raw: bytes) -> dict:
    return {name: getattr(event, name) for name in model.model_fields}


def _verdict(model, raw: bytes):
    """pydantic's verdict: the event's field values, or the DLQ reason."""
    try:
        return "ok", _values(model, model.model_validate_json(raw), raw)
    except ValidationError as exc:
        return "rejected", describe_event_error(exc)


def _fast_verdict(model, raw: bytes):
    try:
        event = EventDecoder(model).decode(raw)
    except EventRejected as exc:
        return "rejected", exc.reason
    return "ok", _values(model, event, raw)


def _variants(base: dict) -> list[bytes]:
    """The base event and edits of it that either contract path might read differently."""
    edits = [
        {}, {"passenger_count": 2.0}, {"passenger_count": "2"}, {"passenger_count": True}, {"passenger_count": 0},
        {"passenger_count": 10}, {"passenger_count": None}, {"passenger_count": 2**70}, {"pickup_zone": 265},
        {"pickup_zone": 266}, {"trip_distance": 0}, {"trip_distance": 200}, {"trip_distance": 200.0001},
        {"trip_distance": "3.5"}, {"trip_distance": 1e400}, {"trip_id": ""}, {"trip_id": 7}, {"event_id": ""},
        {"schema_version": 99}, {"schema_version": 1.0}, {"schema_version": "1"}, {"extra": 1},
        {"event_time": "2024-03-01T08:00:00"}, {"event_time": "2024-03-01T08:00:00+02:00"},
        {"event_time": "2024-03-01 08:00:00Z"}, {"event_time": "2024-03-01T08:00:59.9999999Z"},
        {"event_time": "2024-03-01T08:00:00.1234567Z"}, {"event_time": 1709280000}, {"event_time": "yesterday"},
        {"event_time": "2024-02-30T08:00:00Z"}, {"trip_id": "\ud800"},
    ]
    out = []
    for edit in edits:
        event = {**base, **edit}
        out.append(json.dumps(event, separators=(",", ":")).encode())
    for name in base:
        out.append(json.dumps({k: v for k, v in base.items() if k != name}).encode())  # each field missing
    text = json.dumps(base)
    out += [text[: len(text) // 2].encode(), b"", b"null", b"[]", b"\xff\xfe", text.encode() + b" ",
            text.replace('"pickup_zone": 132', '"pickup_zone": 132, "pickup_zone": 7').encode()]  # a repeated key
    return out


@pytest.mark.parametrize(("model", "base"), [(TripRequested, REQUESTED), (TripCompleted, COMPLETED)])
def test_fast_decoder_gives_the_contracts_verdict_and_values(model, base) -> None:
    for raw in _variants(base):
        assert _fast_verdict(model, raw) == _verdict(model, raw), raw


def test_fast_decoder_agrees_on_the_producers_stream_with_its_wire_faults() -> None:
    """Every event of a seeded history with malformed, null and missing fields: the same verdict."""
    sent: list[tuple[str, bytes]] = []

    class Capture(Sink):
        def send(self, topic: str, key: int, value: bytes, headers=None) -> None:
            sent.append((topic, value))

        def flush(self) -> None: ...
        def close(self) -> None: ...

    faults = ProducerFaults(malformed_share=0.2, null_share=0.05)
    run_history(TripSimulator(5), Emitter(Capture(), TopicNames(), 5, lambda: faults), 0.02 * 86400, rate=400 / 1728,
                end=time.time(), label_wait_s=0)
    models = {"trips.requested": TripRequested, "trips.completed": TripCompleted}
    verdicts = [_verdict(models[t], raw) for t, raw in sent]
    assert {v for v, _ in verdicts} == {"ok", "rejected"}
    assert [_fast_verdict(models[t], raw) for t, raw in sent] == verdicts


def test_mirror_refuses_a_contract_it_cannot_mirror() -> None:
    from pydantic import BaseModel, Field

    class Odd(BaseModel):
        tags: list[str] = Field(default_factory=list)

    with pytest.raises(TypeError, match="Odd.tags"):
        mirror_struct(Odd)


def test_batch_freshness_histogram_exposes_what_prometheus_histogram_would() -> None:
    values = np.array([0.0, 0.01, 0.0100001, 0.3, 1.0, 2.5, 4000.0, -0.2])
    metrics = IngestMetrics()
    metrics.freshness.observe_many(values[:3])
    metrics.freshness.observe_many(np.empty(0))
    metrics.freshness.observe_many(values[3:])
    registry = CollectorRegistry()
    reference = Histogram("gameday_feature_freshness_seconds", "x", registry=registry, buckets=FRESHNESS_BUCKETS)
    for value in values:
        reference.observe(value)

    def samples(reg) -> list[str]:
        return [line for line in generate_latest(reg).decode().splitlines()
                if line.startswith("gameday_feature_freshness_seconds_") and "_created" not in line]

    assert samples(metrics.registry) == samples(registry)
    assert len(samples(registry)) == len(FRESHNESS_BUCKETS) + 2
