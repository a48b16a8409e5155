"""The trip simulator (no broker): determinism per seed, plausible distributions, knobs on the share asked."""

from __future__ import annotations

import json
import time
from datetime import datetime

import numpy as np
import pytest

from mlgameday.contracts import BACKFILL_HEADERS, TripRequested
from mlgameday.city import CITY
from mlgameday.contracts.knobs import Congestion, ProducerFaults, Shift
from mlgameday.producer.faults import MALFORMED_KINDS, WireFaults
from mlgameday.producer.simulator import TripSimulator
from mlgameday.config import TopicNames
from mlgameday.producer.stream import Emitter, history_request_times, run_history, run_live

T0 = 1_700_000_000.0  # a Tuesday, 22:13 UTC


class ListSink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bytes]] = []
        self.headers: list[list | None] = []

    def send(self, topic: str, key: int, value: bytes, headers=None) -> None:
        self.sent.append((topic, key, value))
        self.headers.append(headers)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def trips(seed: int, n: int = 20_000, faults: ProducerFaults | None = None, chunks: int = 1):
    sim = TripSimulator(seed, id_prefix="t")
    parts = [sim.trips(np.full(len(c), T0), faults) for c in np.array_split(np.arange(n), chunks)]
    return {k: np.concatenate([getattr(p, k) for p in parts]) for k in
            ("pickup_zone", "dropoff_zone", "trip_distance", "passenger_count", "duration_s")}


def test_same_seed_same_trips_however_chunked_and_other_seed_differs() -> None:
    a, b, c = trips(5), trips(5, chunks=7), trips(6)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert not np.array_equal(a["duration_s"], c["duration_s"])


def test_distributions_are_plausible_for_a_nyc_like_city() -> None:
    t = trips(1, 50_000)
    assert 1.3 < np.median(t["trip_distance"]) < 3.0          # TLC yellow cabs: ~1.7 mi median
    assert 8 * 60 < np.median(t["duration_s"]) < 18 * 60
    assert 0.65 < np.mean(t["passenger_count"] == 1) < 0.78
    assert set(np.unique(t["passenger_count"])) <= set(range(1, 10))
    speed = t["trip_distance"] / (t["duration_s"] / 3600)
    assert 6 < np.median(speed) < 20
    manhattan = CITY.zone_ids[CITY.borough == "Manhattan"]
    share = np.isin(t["pickup_zone"], manhattan).mean()
    assert share > 0.5                                          # most pickups are in Manhattan
    assert len(np.unique(t["pickup_zone"])) > 240               # ~all of the ~260 zones appear


def test_a_history_has_the_live_density_in_every_hour() -> None:
    """The city is stationary: a history at the live rate holds rate x seconds trips, hour after hour."""
    rng = np.random.default_rng(0)
    counts = [len(times) for times in history_request_times(rng, T0, T0 + 4 * 3600, rate=20)]
    assert len(counts) == 4
    for count in counts:                                       # Poisson: sd ~ 270 around 72,000
        assert abs(count - 72_000) < 1_500


def test_the_city_keeps_no_clock() -> None:
    """The same trips at 3 a.m. and at 5 p.m. take the same time: no rush hour unless a fault makes one."""
    midnight = T0 // 86400 * 86400 + 86400 * 7
    rush = TripSimulator(3, id_prefix="t").trips(np.full(5000, midnight + 17.5 * 3600))
    night = TripSimulator(3, id_prefix="t").trips(np.full(5000, midnight + 3 * 3600))
    assert np.array_equal(rush.duration_s, night.duration_s)


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_distance_shift_hits_the_share_asked_and_only_it(share: float) -> None:
    base = trips(9)
    shifted = trips(9, faults=ProducerFaults(shifts=[Shift(column="trip_distance", multiply=2.5, share=share)]))
    changed = base["trip_distance"] != shifted["trip_distance"]
    assert abs(changed.mean() - share) < 0.02
    expected = np.round(np.clip(base["trip_distance"][changed] * 2.5, 0.1, 60), 2)
    assert np.allclose(shifted["trip_distance"][changed], expected, atol=0.02)  # base was rounded to 0.01 before scaling
    assert np.array_equal(base["pickup_zone"], shifted["pickup_zone"])


def test_passenger_shift_adds_and_stays_in_range() -> None:
    shifted = trips(9, faults=ProducerFaults(shifts=[Shift(column="passenger_count", add=3, share=0.5)]))
    base = trips(9)
    changed = base["passenger_count"] != shifted["passenger_count"]
    assert 0.45 < changed.mean() < 0.55
    assert shifted["passenger_count"].max() <= 9 and shifted["passenger_count"].min() >= 1


def test_congestion_slows_only_the_zones_asked_and_leaves_request_features() -> None:
    zones = CITY.zone_ids[CITY.borough == "Brooklyn"].tolist()
    base = trips(4)
    slow = trips(4, faults=ProducerFaults(congestion=Congestion(boroughs=["Brooklyn"], speed_multiplier=0.5)))
    hit = np.isin(base["pickup_zone"], zones)
    assert np.array_equal(base["trip_distance"], slow["trip_distance"])
    assert np.all(slow["duration_s"][hit] > base["duration_s"][hit])
    assert np.array_equal(slow["duration_s"][~hit], base["duration_s"][~hit])


def test_wire_faults_share_and_kinds() -> None:
    wire = WireFaults(seed=1)
    event = TripRequested(event_id="e-x", event_time="2024-05-01T10:00:00Z", trip_id="x", pickup_zone=1, dropoff_zone=2,
                          trip_distance=1.5, passenger_count=1).model_dump(mode="json")
    kinds = [wire.encode(dict(event), ProducerFaults(malformed_share=0.2))[1] for _ in range(10_000)]
    assert abs(sum(k is not None for k in kinds) / 10_000 - 0.2) < 0.02
    assert {k for k in kinds if k} == set(MALFORMED_KINDS)
    value, kind = wire.encode(dict(event), ProducerFaults(rename_field={"old": "trip_distance", "new": "distance"}))
    assert kind == "renamed_field" and "distance" in json.loads(value) and "trip_distance" not in json.loads(value)
    value, kind = wire.encode(dict(event), ProducerFaults(drop_field="passenger_count"))
    assert kind == "dropped_field" and "passenger_count" not in json.loads(value)


def test_bad_knobs_are_rejected_with_the_field() -> None:
    with pytest.raises(ValueError, match="share"):
        ProducerFaults.model_validate({"shifts": [{"column": "trip_distance", "share": 1.5}]})
    with pytest.raises(ValueError, match="column"):
        ProducerFaults.model_validate({"shifts": [{"column": "fare"}]})


def test_history_is_in_event_time_order_with_late_labels() -> None:
    sink = ListSink()
    emitter = Emitter(sink, TopicNames(), seed=2, faults=ProducerFaults)
    report = run_history(TripSimulator(2), emitter, 6 * 3600, rate=0.05, end=T0)
    times = [json.loads(v)["event_time"] for _, _, v in sink.sent]
    assert times == sorted(times)
    assert report.by_topic["trips.completed"] + report.labels_not_emitted == report.trips
    assert 800 < report.trips < 1000                            # 0.05/s over the 5 h before the label hour
    assert report.labels_not_emitted <= report.trips * 0.02    # only trips longer than that hour
    requested = [datetime.fromisoformat(json.loads(v)["event_time"]).timestamp() for t, _, v in sink.sent
                 if t == "trips.requested"]
    assert T0 - 6 * 3600 <= min(requested) and max(requested) <= T0 - 3600
    assert all(h == BACKFILL_HEADERS for h in sink.headers)     # trips of the past, all of them
    requested = {json.loads(v)["trip_id"]: json.loads(v)["event_time"] for t, _, v in sink.sent if t == "trips.requested"}
    for topic, key, value in sink.sent:
        body = json.loads(value)
        assert key == body["pickup_zone"]
        if topic == "trips.completed":
            assert body["event_time"] > requested[body["trip_id"]]   # the label comes after the request


def test_a_warm_start_emits_the_past_seconds_of_trips_then_goes_live() -> None:
    """A (re)started producer first emits `warm_start_s` of past trips at its rate, requests and
    the labels due by now in event-time order; labels due later come live, after their time."""
    sink = ListSink()
    emitter = Emitter(sink, TopicNames(), seed=3, faults=ProducerFaults)
    started = time.time()
    report = run_live(TripSimulator(3), emitter, rate=40, time_scale=300, warm_start_s=30,
                      duration_s=1.0, label_wait_s=5)
    events = [(t, json.loads(v)) for t, _, v in sink.sent]
    requested = [(t, e) for t, e in events if t == "trips.requested"]
    past = [e for _, e in requested if datetime.fromisoformat(e["event_time"]).timestamp() < started]
    assert 1150 <= len(past) <= 1200                   # 40/s x 30 s, before the live second
    oldest = min(datetime.fromisoformat(e["event_time"]).timestamp() for e in past)
    assert started - 31 < oldest < started - 29
    times = [datetime.fromisoformat(e["event_time"]).timestamp() for _, e in events]
    warm = sum(1 for t in times if t < started)
    assert times[:warm] == sorted(times[:warm])       # the past first, in one event-time order
    assert min(times[warm:]) >= started               # across both topics
    labels = {e["trip_id"]: e for t, e in events if t == "trips.completed"}
    assert len(labels) > len(past) * 0.9               # most warm trips were due within 30 s
    for trip in past:
        label = labels.get(trip["trip_id"])
        if label:                                      # each label at request + duration / time_scale
            due = datetime.fromisoformat(trip["event_time"]).timestamp() + label["duration_s"] / 300
            assert abs(datetime.fromisoformat(label["event_time"]).timestamp() - due) < 0.01
    assert report.trips == len(requested) > len(past)  # then live trips
    marked = [h == BACKFILL_HEADERS for h in sink.headers]
    for (topic, _, value), backfill in zip(sink.sent, marked):   # backfill: the warm start's trips only
        trip = json.loads(value)
        if topic == "trips.requested":
            assert backfill == (datetime.fromisoformat(trip["event_time"]).timestamp() < started)
