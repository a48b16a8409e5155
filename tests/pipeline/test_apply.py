"""Applying events to the zone windows (ingest/apply.py), without a broker: the outcome of each event
— written, late, duplicate, dead-lettered with its reason — and the zones whose features changed."""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timedelta, timezone

from mlgameday.contracts import TripCompleted, TripRequested
from mlgameday.ingest.apply import apply_events, epoch
from mlgameday.ingest.dedup import SeenIds
from mlgameday.ingest.windows import ZoneWindows

Record = namedtuple("Record", "topic partition offset")
T0 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)


def request(event_id: str, zone: int, at: datetime) -> tuple:
    event = TripRequested(event_id=event_id, event_time=at, trip_id=f"trip-{event_id}", pickup_zone=zone,
                          dropoff_zone=1, trip_distance=2.0, passenger_count=1)
    return (epoch(at), Record("req", 0, 0), event, None, epoch(at))


def completed(event_id: str, zone: int, at: datetime, duration_s: float = 600) -> tuple:
    event = TripCompleted(event_id=event_id, event_time=at, trip_id=f"trip-{event_id}", pickup_zone=zone,
                          dropoff_zone=1, pickup_time=at - timedelta(seconds=duration_s), trip_distance=2.0,
                          passenger_count=1, duration_s=duration_s)
    return (epoch(at), Record("done", 0, 0), event, None, epoch(at))


def test_each_event_lands_in_its_zone_and_a_label_is_kept() -> None:
    windows = ZoneWindows()
    done = apply_events([request("a", 5, T0), request("b", 7, T0), completed("c", 5, T0 + timedelta(seconds=30))],
                        windows, SeenIds(100), requested_topic="req")
    assert done.affected == {5, 7} and done.written_requests == 2 and len(done.event_times) == 3
    requests_15m, completed_30m, mean_speed = windows.zone(5).features()
    assert (requests_15m, completed_30m) == (1, 1) and abs(mean_speed - 12.0) < 1e-6  # 2 miles in 10 min
    assert [row[0] for row in done.labels] == ["trip-c"]
    assert not (done.duplicate or done.late or done.dead_lettered)


def test_a_redelivered_event_changes_nothing() -> None:
    windows, seen = ZoneWindows(), SeenIds(100)
    apply_events([request("a", 5, T0)], windows, seen, requested_topic="req")
    again = apply_events([request("a", 5, T0)], windows, seen, requested_topic="req")
    assert again.duplicate == {"req": 1} and not again.affected
    assert windows.zone(5).features()[0] == 1


def test_an_event_older_than_its_zones_window_is_late_but_its_label_is_kept() -> None:
    windows = ZoneWindows()
    apply_events([request("new", 5, T0)], windows, SeenIds(100), requested_topic="req")
    done = apply_events([request("old", 5, T0 - timedelta(minutes=20)),
                         completed("old-label", 5, T0 - timedelta(minutes=40))],
                        windows, SeenIds(100), requested_topic="req")
    assert done.late == {"req": 1, "done": 1} and not done.affected
    assert [row[0] for row in done.labels] == ["trip-old-label"]  # still stored for training


def test_rejected_records_are_to_be_dead_lettered_with_their_reason() -> None:
    bad = (0.0, Record("req", 0, 3), None, "trip_distance: missing", 0.0)
    ahead = (0.0, Record("req", 0, 4), None, "event_time ... is 3,600 s ahead of ingest's clock", epoch(T0) + 3600)
    done = apply_events([bad, ahead], ZoneWindows(), SeenIds(100), requested_topic="req")
    assert done.to_dead_letter == [(bad[1], bad[3]), (ahead[1], ahead[3])]
    assert done.dead_lettered == {"req": 2} and done.ahead == {"req": 1}
