"""/predict_batch is built as columns (one matrix, one model call per model): every answer must equal
the single-trip answer for the same trip — zones, request times, fallbacks and canary split included."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mlgameday.features.online import push_online, rows_frame
from mlgameday.serving.engine import PARALLEL_ROWS

from .helpers import consume_predictions, trip

pytestmark = pytest.mark.integration  # needs a real broker / server

ANSWER_FIELDS = ("trip_id", "eta_s", "model_tag", "role", "fallback_used", "fallback_reason", "stale", "missing")


def batch_trips(prefix: str, n: int = 60) -> list[dict]:
    """Trips over many zones (some without fresh features), hours and weekdays, and trip shapes."""
    trips = []
    for i in range(n):
        zone = 1 + (i * 37) % 263
        when = f"2026-01-{5 + i % 7:02d}T{i % 24:02d}:15:00+00:00"
        trips.append(trip(f"{prefix}-{i}", zone, trip_distance=0.5 + (i % 9) * 1.3, passenger_count=1 + i % 4,
                          request_time=when))
    return trips


@pytest.fixture(scope="module", autouse=True)
def zones_clear_of_the_ttl(store):
    """Every zone's features fresh, or an hour past the TTL (every fourth zone).

    The history leaves each zone's last row as old as its last trip: at night many are close to the
    1 h TTL, and one that crossed it between the batch and the single requests was answered with
    features by one and with the fallback by the other. A batch and its singles must see the same store.
    """
    now = datetime.now(timezone.utc)
    long_ago = now - timedelta(hours=2)
    push_online(store, rows_frame([
        (zone, 2 + zone % 7, 1 + zone % 5, 6.0 + zone % 13, stamp, stamp)
        for zone in range(1, 264) for stamp in [long_ago if zone % 4 == 0 else now]]))


def answers(server, trips: list[dict]) -> tuple[list[dict], list[dict]]:
    batch = server.client.post("/predict_batch", json={"trips": trips})
    assert batch.status_code == 200, batch.text
    singles = []
    for one in trips:
        response = server.client.post("/predict", json=one)
        assert response.status_code == 200, response.text
        singles.append(response.json())
    return batch.json()["predictions"], singles


def test_batch_answers_equal_single_trip_answers(server):
    trips = batch_trips("same", PARALLEL_ROWS + 40)  # big enough to be scored in slices on the model threads
    batched, singles = answers(server, trips)
    assert [a["trip_id"] for a in batched] == [t["trip_id"] for t in trips]
    assert len({a["eta_s"] for a in batched}) > 30  # the rows really differ
    assert 0 < sum(a["stale"] for a in batched) < len(batched) / 2  # fallbacks and features, side by side
    for got, expected in zip(batched, singles):
        for field in ANSWER_FIELDS:
            assert got[field] == pytest.approx(expected[field], abs=1e-3), (field, got, expected)


def test_a_canary_share_splits_a_batch_by_trip_id_as_single_requests_do(server, trained_run):
    worse = trained_run.models["worse"].tag
    trips = batch_trips(f"split-{trained_run.suffix}")
    try:
        assert server.client.post("/admin/promote", json={"tag": worse, "canary": 0.5}).status_code == 200
        batched, singles = answers(server, trips)
    finally:
        server.client.post("/admin/promote", json={"clear": "canary"})
    roles = [a["role"] for a in batched]
    assert 10 < roles.count("canary") < 50, roles
    for got, expected in zip(batched, singles):
        assert (got["role"], got["model_tag"], got["eta_s"]) == (expected["role"], expected["model_tag"],
                                                                 pytest.approx(expected["eta_s"], abs=1e-3))
    # Published per answering model, expanded row by row: each event says who answered that trip.
    events = consume_predictions(trained_run.settings.kafka.bootstrap, trained_run.settings.topics.predictions,
                                 {t["trip_id"] for t in trips})
    by_trip = {}
    for event in events:
        by_trip.setdefault(event["trip_id"], {})[event["role"]] = (event["model_tag"], event["prediction_s"])
    for got in batched:
        tag, prediction = by_trip[got["trip_id"]][got["role"]]
        assert tag == got["model_tag"] and prediction == pytest.approx(got["eta_s"], abs=1e-3), got
