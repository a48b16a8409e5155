"""The TripTime service over HTTP: predictions equal the model's offline ones and reach Kafka,
stale features are flagged, promotion switches the model, bad requests get a 4xx."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from mlgameday.contracts import MODEL_FEATURES, ZONE_FEATURES
from mlgameday.features.online import push_online, read_zone_features, rows_frame
from mlgameday.models.store import load_model, use_model_store

from .helpers import consume_predictions, trip

pytestmark = pytest.mark.integration  # needs a real broker / server


@pytest.fixture(scope="module")
def fresh_zones(store, server):
    """Zones whose online features are all present and younger than the TTL (written by ingest)."""
    now = datetime.now(timezone.utc)
    found = read_zone_features(store, range(1, 264))
    zones = [z for z, f in found.items()
             if all(v is not None for v in f.values.values()) and f.event_time and now - f.event_time < timedelta(minutes=50)]
    assert len(zones) >= 5, "the seeded history left too few zones with fresh online features"
    return zones[:5]


def offline_eta(tag: str, zone_values: dict, distance: float, passengers: int) -> float:
    row = np.array([[distance, passengers, *(zone_values[name] for name in ZONE_FEATURES)]])
    return float(load_model(tag).predict(row)[0])


def test_predictions_equal_the_models_offline_predictions_and_are_published(server, trained_run, store, fresh_zones):
    use_model_store(trained_run.settings)
    live = trained_run.models["accurate"].tag  # serving.model defaults to the accurate variant
    features = read_zone_features(store, fresh_zones)
    sent = {}
    for i, zone in enumerate(fresh_zones):
        trip_id = f"match-{trained_run.suffix}-{i}"
        response = server.client.post("/predict", json=trip(trip_id, zone, trip_distance=1.5 + i, passenger_count=1 + i % 3))
        assert response.status_code == 200, response.text
        body = response.json()
        expected = offline_eta(live, features[zone].values, 1.5 + i, 1 + i % 3)
        assert body["model_tag"] == live and body["role"] == "live"
        assert body["eta_s"] == pytest.approx(expected, abs=0.01)
        assert body["fallback_used"] is False and body["stale"] is False and body["missing"] == []
        assert 0 <= body["feature_age_s"] < 3600
        sent[trip_id] = (zone, body)

    batch = server.client.post("/predict_batch", json={"trips": [trip(f"b-{t}", z) for t, (z, _) in sent.items()]})
    assert batch.status_code == 200
    assert [p["trip_id"] for p in batch.json()["predictions"]] == [f"b-{t}" for t in sent]

    events = consume_predictions(trained_run.settings.kafka.bootstrap, trained_run.settings.topics.predictions,
                                 set(sent))
    by_trip = {e["trip_id"]: e for e in events}
    assert set(by_trip) == set(sent)
    for trip_id, (zone, body) in sent.items():
        event = by_trip[trip_id]
        assert event["prediction_s"] == pytest.approx(body["eta_s"], abs=0.01)
        assert event["model_tag"] == live and event["role"] == "live" and event["pickup_zone"] == zone
        assert list(event["features"]) == list(MODEL_FEATURES)
        for name in ZONE_FEATURES:
            assert event["features"][name] == pytest.approx(features[zone].values[name])
        assert event["stale"] is False and event["schema_version"] == 1


def test_a_zone_with_stale_features_is_flagged_and_uses_the_fallback(server, trained_run, store, fresh_zones):
    zone = fresh_zones[-1]
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    push_online(store, rows_frame([(zone, 3, 2, 99.0, two_hours_ago, two_hours_ago)]))
    body = server.client.post("/predict", json=trip(f"stale-{trained_run.suffix}", zone)).json()
    assert body["stale"] is True and body["fallback_used"] is True and body["fallback_reason"] == "stale"
    assert body["feature_age_s"] > 7000
    use_model_store(trained_run.settings)
    model = load_model(body["model_tag"])
    assert body["eta_s"] == pytest.approx(offline_eta(model.tag, model.fallback, 2.4, 1), abs=0.01)
    assert server.metric("gameday_serving_feature_fallback_total", reason="stale") >= 1


def test_promote_switches_the_model_without_restart_and_persists_it(server, trained_run):
    fast, accurate, worse = (trained_run.models[v].tag for v in ("fast", "accurate", "worse"))
    pid = server.proc.pid
    try:
        promoted = server.client.post("/admin/promote", json={"tag": "fast"})
        assert promoted.status_code == 200 and promoted.json()["live"]["tag"] == fast
        assert server.client.post("/predict", json=trip("p-1", 161)).json()["model_tag"] == fast
        saved = (trained_run.settings.run_path / "serving" / "routing.json").read_text()
        assert fast in saved

        # Every trip to the canary (share 1.0) and a shadow: the canary answers, the shadow is published only.
        assert server.client.post("/admin/promote", json={"tag": worse, "canary": 1.0}).status_code == 200
        assert server.client.post("/admin/promote", json={"tag": "accurate", "shadow": True}).status_code == 200
        trip_id = f"canary-{trained_run.suffix}"
        body = server.client.post("/predict", json=trip(trip_id, 161)).json()
        assert body["model_tag"] == worse and body["role"] == "canary"
        events = consume_predictions(trained_run.settings.kafka.bootstrap,
                                     trained_run.settings.topics.predictions, {trip_id})
        roles = sorted((e["role"], e["model_tag"]) for e in events)
        assert roles == [("canary", worse), ("shadow", accurate)]

        unknown = server.client.post("/admin/promote", json={"tag": "triptime:doesnotexist"})
        assert unknown.status_code == 404 and "doesnotexist" in unknown.text
    finally:
        for change in ({"clear": "canary"}, {"clear": "shadow"}, {"tag": "accurate"}):
            server.client.post("/admin/promote", json=change)
    assert server.client.post("/predict", json=trip("p-2", 161)).json()["model_tag"] == accurate
    assert server.proc.pid == pid and server.proc.poll() is None  # no restart


def test_feature_store_faults_fall_back_flagged_and_model_latency_adds_up(server, trained_run, fresh_zones):
    try:
        knobs = server.client.post("/admin/faults", json={"feature_latency_ms": 300, "feature_timeout_ms": 50})
        assert knobs.status_code == 200 and knobs.json()["feature_timeout_ms"] == 50
        body = server.client.post("/predict", json=trip("slow-1", fresh_zones[0])).json()
        assert body["fallback_used"] is True and body["fallback_reason"] == "timeout"
        assert body["missing"] == list(ZONE_FEATURES) and body["latency_ms"] < 250
        server.client.post("/admin/faults", json={"feature_latency_ms": 0, "feature_timeout_ms": None,
                                                  "model_latency_ms": 120})
        body = server.client.post("/predict", json=trip("slow-2", fresh_zones[0])).json()
        assert body["fallback_used"] is False and body["latency_ms"] >= 120
        bad = server.client.post("/admin/faults", json={"model_latency_ms": -5})
        assert bad.status_code == 400 and "model_latency_ms" in bad.text
    finally:
        assert server.client.delete("/admin/faults").json()["model_latency_ms"] == 0
    assert server.metric("gameday_serving_feature_fallback_total", reason="timeout") >= 1


BAD_REQUESTS = [
    ("malformed JSON", b'{"trip_id": "x", "pickup_zone": ', "json_invalid"),
    ("missing field", {"trip_id": "x", "pickup_zone": 1, "dropoff_zone": 2, "passenger_count": 1}, "trip_distance"),
    ("wrong type", {**trip("x", 161), "passenger_count": "many"}, "passenger_count"),
    ("negative distance", {**trip("x", 161), "trip_distance": -3}, "trip_distance"),
    ("too many passengers", {**trip("x", 161), "passenger_count": 20}, "passenger_count"),
    ("zone out of range", {**trip("x", 161), "pickup_zone": 0}, "pickup_zone"),
    ("TLC's unknown zone", {**trip("x", 161), "dropoff_zone": 264}, "dropoff_zone"),
    ("unexpected field", {**trip("x", 161), "surge": 2}, "surge"),
    ("naive request_time", {**trip("x", 161), "request_time": "2026-01-05T08:30:00"}, "timezone"),
    ("not an object", [1, 2, 3], "TripRequest"),
]


@pytest.mark.parametrize("body, needle", [(b, n) for _, b, n in BAD_REQUESTS], ids=[name for name, _, _ in BAD_REQUESTS])
def test_bad_requests_get_a_4xx_naming_the_problem(server, body, needle):
    if isinstance(body, bytes):
        response = server.client.post("/predict", content=body, headers={"content-type": "application/json"})
    else:
        response = server.client.post("/predict", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert needle in response.text


def test_a_body_that_is_not_a_batch_gets_a_4xx(server):
    empty = server.client.post("/predict_batch", json={"trips": []})
    assert empty.status_code == 400 and "trips" in empty.text
    no_trips = server.client.post("/predict_batch", json=[trip("ok", 161)])
    assert no_trips.status_code == 400
    assert server.metric("gameday_serving_requests_total", endpoint="predict_batch", status="400") >= 2


def test_metrics_readiness_and_model_list(server):
    # Its own requests: under xdist the module's other tests may run on the other worker (another server).
    for i in range(5):
        assert server.client.post("/predict", json=trip(f"metrics-{i}", 161)).status_code == 200
        assert server.client.post("/predict", json={**trip(f"metrics-{i}", 161), "surge": 2}).status_code == 400
    deadline = time.monotonic() + 30  # predictions are published in the background
    while server.metric("gameday_serving_predictions_published_total") < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.client.get("/readyz").status_code == 200
    text = server.client.get("/metrics").text
    for name in ("gameday_serving_request_latency_seconds_bucket", "gameday_serving_requests_total",
                 "gameday_serving_rows_total", "gameday_serving_predictions_published_total"):
        assert name in text, name
    assert server.metric("gameday_serving_requests_total", endpoint="predict", status="200") >= 5
    assert server.metric("gameday_serving_requests_total", endpoint="predict", status="400") >= 5
    assert server.metric("gameday_serving_predictions_published_total") >= 5
    models = server.client.get("/admin/models").json()
    assert models["live"]["variant"] == "accurate"


def test_admin_features_reads_the_online_store_now_despite_a_feature_fault(server, store):
    """`gameday features get` asks serving (its store is open): the row just pushed, without the fault's latency."""
    import time as clock
    from datetime import datetime, timezone

    from mlgameday.features.online import push_online, rows_frame

    now = datetime.now(timezone.utc)
    push_online(store, rows_frame([(42, 9, 4, 17.25, now, now)]))
    server.client.post("/admin/faults", json={"feature_latency_ms": 2000})
    try:
        started = clock.monotonic()
        found = server.client.get("/admin/features", params=[("zone", 42)])
        took = clock.monotonic() - started
    finally:
        server.client.delete("/admin/faults")
    assert found.status_code == 200, found.text
    zones = {z["zone_id"]: z for z in found.json()["zones"]}
    assert zones[42]["values"]["mean_speed_30m"] == 17.25 and zones[42]["values"]["requests_15m"] == 9
    assert abs((datetime.fromisoformat(zones[42]["event_time"]) - now).total_seconds()) < 1
    assert took < 2.0  # the fault's 2 s read latency is for requests, not for this look
    assert server.client.get("/admin/features").status_code == 400
    assert server.client.get("/admin/features", params={"zone": "x"}).status_code == 400
