"""The freshness benchmark's load: a live trip stream at a fixed rate, cheap enough to hold 5,000 events/s.

`gameday produce` builds and validates a pydantic event per trip and pays kafka-python's
per-record cost in the same process; on this shared 2-core machine it could not hold the
target rate beside ingest. This generator sends the same contract events (the simulator's
trips, validated by ingest on arrival) but encodes each payload once, ahead of time: only the
event time (the send moment, as in a live run) is filled in while the stream runs. Labels come
duration_s / time_scale after their request, with the due time as event time; requests fill the
rest of each tick's budget, so the total rate holds while the first labels are still due.

Run as its own process: `python bench/ingest/load.py --bootstrap B --requested T1 --completed T2
--rate 5000 --seconds 30`; prints one JSON line with the events sent and the rate achieved
while streaming (the labels still due at the end follow within a few seconds).
"""

from __future__ import annotations

import argparse
import heapq
import json
import time
import uuid
from datetime import datetime, timezone

from kafka import KafkaProducer

from mlgameday.contracts import TripCompleted, TripRequested
from mlgameday.producer.simulator import TripSimulator

_TIME = "@@time@@"  # placeholder for a time filled in when the event is sent
TICK_S = 0.01


def _template(event: dict) -> list[bytes]:
    """The payload split around its times (in field order: event_time, then pickup_time for a label)."""
    return [part.encode() for part in json.dumps(event, separators=(",", ":")).split(_TIME)]


def _fill(parts: list[bytes], *stamps: bytes) -> bytes:
    if len(stamps) == 1:
        return parts[0] + stamps[0] + parts[1]
    return parts[0] + stamps[0] + parts[1] + stamps[1] + parts[2]


def _iso(seconds: float) -> bytes:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z").encode()


def encode_trips(n: int, seed: int, start: float) -> list[tuple[bytes, list[bytes], list[bytes], float]]:
    """n simulated trips as (key, request template, label template, duration_s). All are built the
    same way; the first ones are checked against the contracts with a sample time."""
    batch = TripSimulator(seed, id_prefix=f"b{uuid.uuid4().hex[:8]}").trips([start] * n)
    run = uuid.uuid4().hex[:16]
    out = []
    for i in range(n):
        common = {"trip_id": batch.trip_id[i], "pickup_zone": int(batch.pickup_zone[i]),
                  "dropoff_zone": int(batch.dropoff_zone[i]), "trip_distance": float(batch.trip_distance[i]),
                  "passenger_count": int(batch.passenger_count[i])}
        request = {"event_id": f"{run}r{i:08x}", "event_time": _TIME, "schema_version": 1, **common}
        label = {"event_id": f"{run}c{i:08x}", "event_time": _TIME, "schema_version": 1, **common,
                 "pickup_time": _TIME, "duration_s": float(batch.duration_s[i])}
        req_t, label_t = _template(request), _template(label)
        if i < 50:  # the templates are the contract's events once the time is in
            stamp = _iso(start)
            TripRequested.model_validate_json(_fill(req_t, stamp))
            TripCompleted.model_validate_json(_fill(label_t, stamp, stamp))
        out.append((str(int(batch.pickup_zone[i])).encode(), req_t, label_t, float(batch.duration_s[i])))
    return out


def run(bootstrap: str, requested: str, completed: str, rate: float, seconds: float, *,
        time_scale: float = 3600.0, seed: int = 1, label_wait_s: float = 5.0) -> dict:
    """Send `rate` events/s in all for `seconds`: the labels due, and requests for the rest (so the
    total holds while labels ramp up; then about half each)."""
    trips = encode_trips(int(rate * min(seconds, seconds / 2 + 5)) + 1, seed, time.time())
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="bench-ingest-load", acks=1, linger_ms=5,
                             batch_size=256 * 1024, max_in_flight_requests_per_connection=1)
    pending: list[tuple[float, int, bytes]] = []  # (due time of the label, trip index, request time)
    sent = next_trip = 0
    started = last = time.time()
    owed = 0.0
    while last - started < seconds and next_trip < len(trips):
        now = time.time()
        owed += rate * (now - last)
        last = now
        labels = _send_due(producer, completed, trips, pending, now)
        sent += labels
        owed -= labels
        stamp = _iso(now)
        for _ in range(max(0, min(int(owed), len(trips) - next_trip))):
            key, request, _, duration = trips[next_trip]
            producer.send(requested, key=key, value=_fill(request, stamp))
            heapq.heappush(pending, (now + duration / time_scale, next_trip, stamp))
            next_trip += 1
            owed -= 1
            sent += 1
        time.sleep(max(0.0, TICK_S - (time.time() - now)))
    streamed, stream_s = sent, time.time() - started
    deadline = time.time() + label_wait_s
    while pending and time.time() < deadline:
        sent += _send_due(producer, completed, trips, pending, time.time())
        time.sleep(TICK_S)
    producer.flush(timeout=30)
    producer.close(timeout=5)
    # The rate is that of the stream; the labels still due when it ends follow within label_wait_s.
    return {"events": sent, "requests": next_trip, "labels": sent - next_trip, "stream_s": round(stream_s, 3),
            "events_per_s": round(streamed / stream_s, 1), "ran_out_of_trips": next_trip == len(trips)}


def _send_due(producer: KafkaProducer, topic: str, trips: list, pending: list, now: float) -> int:
    sent = 0
    while pending and pending[0][0] <= now:
        due, i, requested_at = heapq.heappop(pending)
        key, _, label, _ = trips[i]
        producer.send(topic, key=key, value=_fill(label, _iso(due), requested_at))
        sent += 1
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--requested", required=True)
    parser.add_argument("--completed", required=True)
    parser.add_argument("--rate", type=float, default=5000.0, help="events/s (requests + labels)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.bootstrap, args.requested, args.completed, args.rate, args.seconds, seed=args.seed)),
          flush=True)


if __name__ == "__main__":
    main()
