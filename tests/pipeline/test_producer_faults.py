"""The producer's newer wire and label knobs, on their own: shifted times, duplicates, labels that follow the ETA."""

from __future__ import annotations

import json

from mlgameday.contracts.knobs import ProducerFaults
from mlgameday.producer.faults import WireFaults, shifted_time
from mlgameday.producer.feedback import ShownEtas, influenced
from mlgameday.producer.simulator import MAX_DURATION_S, MIN_DURATION_S

EVENT = {"event_id": "e-1", "event_time": "2026-03-02T08:00:00Z", "pickup_time": "2026-03-02T07:59:00Z",
         "trip_id": "t-1", "trip_distance": 2.5, "passenger_count": 1}


def test_shifted_time_moves_an_iso_time_and_keeps_the_contracts_utc_form() -> None:
    assert shifted_time("2026-03-02T08:00:00Z", -18_000) == "2026-03-02T03:00:00Z"
    assert shifted_time("2026-03-02T23:30:00+00:00", 3600) == "2026-03-03T00:30:00Z"


def test_the_time_offset_moves_every_time_field_on_the_wire() -> None:
    value, kind = WireFaults(1).encode(dict(EVENT), ProducerFaults(event_time_offset_s=-18_000))
    sent = json.loads(value)
    assert kind == "time_shifted"
    assert (sent["event_time"], sent["pickup_time"]) == ("2026-03-02T03:00:00Z", "2026-03-02T02:59:00Z")


def test_duplicates_resend_the_same_event_under_a_new_id_for_their_share() -> None:
    wire = WireFaults(3)
    value, _ = wire.encode(dict(EVENT), ProducerFaults())
    assert wire.duplicate(value, ProducerFaults()) is None
    copies = [wire.duplicate(value, ProducerFaults(duplicate_share=0.3)) for _ in range(2000)]
    sent = [json.loads(c) for c in copies if c is not None]
    assert 0.25 < len(sent) / len(copies) < 0.35
    assert all(c["event_id"] != "e-1" and {**c, "event_id": "e-1"} == EVENT for c in sent)
    assert len({c["event_id"] for c in sent}) == len(sent)
    assert wire.duplicate(b"{not json", ProducerFaults(duplicate_share=1.0)) == b"{not json"


def test_a_label_moves_its_share_of_the_way_to_the_eta_within_the_simulators_bounds() -> None:
    assert influenced(1000.0, 600.0, 0.0) == 1000.0
    assert influenced(1000.0, 600.0, 0.5) == 800.0
    assert influenced(1000.0, 600.0, 1.0) == 600.0
    assert influenced(100.0, 0.0, 1.0) == MIN_DURATION_S
    assert influenced(1000.0, 10 * MAX_DURATION_S, 1.0) == MAX_DURATION_S


def test_shown_etas_keep_what_riders_saw_and_pass_over_the_rest() -> None:
    etas = ShownEtas("unused:9092", "predictions")
    etas.remember(json.dumps({"trip_id": "a", "prediction_s": 600.0, "role": "live"}).encode())
    etas.remember(json.dumps({"trip_id": "b", "prediction_s": 700.0, "role": "shadow"}).encode())
    etas.remember(json.dumps({"trip_id": "c", "eta_s": 800.0}).encode())  # a renamed field: not an ETA
    etas.remember(b"not json")
    assert etas._etas == {"a": 600.0}
