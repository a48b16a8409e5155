"""One zone set at every edge (contracts.ZONE_IDS): the event contracts and ingest's fast decoder, the
simulated city, the replay's skip rule, the Feast entity, serving's requests and its OpenAPI document.
TLC's 264 ("Unknown") and 265 ("Outside of NYC") are refused everywhere alike."""

from __future__ import annotations

import json

import pytest

from mlgameday.config import load_settings
from mlgameday.contracts import FIRST_ZONE, LAST_ZONE, ZONE_IDS, ZONE_RANGE, EventRejected, TripCompleted, TripRequested
from mlgameday.features.definitions import load_definitions
from mlgameday.ingest.decode import EventDecoder
from mlgameday.city import CITY
from mlgameday.serving.openapi import openapi_document
from mlgameday.serving.schemas import BatchRequest, TripRequest, judge_rows

REQUESTED = {"event_id": "e1", "event_time": "2026-01-05T08:30:00Z", "trip_id": "t1", "pickup_zone": 161,
             "dropoff_zone": 236, "trip_distance": 2.4, "passenger_count": 1}


def test_the_set_is_tlc_zones_1_to_263():
    assert (FIRST_ZONE, LAST_ZONE, len(ZONE_IDS), ZONE_RANGE) == (1, 263, 263, "1..263")
    assert list(CITY.zone_ids) == list(ZONE_IDS)


@pytest.mark.parametrize("zone, valid", [(1, True), (263, True), (264, False), (265, False), (0, False)])
def test_every_edge_agrees_on_a_zone(zone, valid):
    raw = json.dumps({**REQUESTED, "pickup_zone": zone}).encode()
    decoder = EventDecoder(TripRequested)  # ingest: msgspec mirror first, pydantic as the judge
    if valid:
        assert decoder.decode(raw).pickup_zone == zone
    else:
        with pytest.raises(EventRejected, match="pickup_zone"):
            decoder.decode(raw)
    trip = {k: REQUESTED[k] for k in ("trip_id", "dropoff_zone", "trip_distance", "passenger_count")}
    good, refused = judge_rows(BatchRequest.model_validate_json(json.dumps({"trips": [{**trip, "pickup_zone": zone}]})).trips)
    assert (len(good), len(refused)) == ((1, 0) if valid else (0, 1))


def test_the_bounds_are_written_once():
    for model in (TripRequested, TripCompleted):
        schema = model.model_json_schema()["properties"]
        assert (schema["pickup_zone"]["minimum"], schema["pickup_zone"]["maximum"]) == (FIRST_ZONE, LAST_ZONE)
        assert (schema["dropoff_zone"]["minimum"], schema["dropoff_zone"]["maximum"]) == (FIRST_ZONE, LAST_ZONE)
    documented = openapi_document()["components"]["schemas"]["TripRequest"]["properties"]
    assert (documented["pickup_zone"]["minimum"], documented["pickup_zone"]["maximum"]) == (FIRST_ZONE, LAST_ZONE)
    assert TripRequest.model_json_schema()["properties"]["dropoff_zone"]["maximum"] == LAST_ZONE
    assert ZONE_RANGE in load_definitions(load_settings()).zone.description
