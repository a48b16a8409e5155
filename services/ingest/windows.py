"""Per-pickup-zone sliding windows on EVENT time, in one-minute buckets.

Semantics (the test's reference implementation follows them word for word):

- An event's bucket is floor(event_time / 60 s) (UTC epoch minutes). A trips.requested
  event counts at its request time; a trips.completed event at its event time (dropoff).
- A zone's clock T_z is the latest event time of any accepted event (either topic)
  whose pickup zone is z; B_z is its bucket. Rows pushed for z carry event_timestamp T_z.
- requests_15m(z)   = accepted requests of z with bucket in [B_z - 14, B_z]
- completed_30m(z)  = accepted completions of z (pickup zone) with bucket in [B_z - 29, B_z]
- mean_speed_30m(z) = mean over those completions of trip_distance / (duration_s / 3600), mph,
                      each speed rounded to 1e-6 mph and summed as integers, so the value does
                      not depend on the order events arrive in; None when there are none.
- An event whose bucket is already below its window when it arrives (e.g. a request
  older than B_z - 14) can never count again (T_z only grows): it is dropped as late.

So the features after a set of events are a function of the set, not of batching, polling
order or restarts — what makes replay after a crash end exactly where it would have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..contracts import ZONE_WINDOW_S

BUCKET_S = 60
REQUESTS_BUCKETS = ZONE_WINDOW_S["requests_15m"] // BUCKET_S
COMPLETED_BUCKETS = ZONE_WINDOW_S["completed_30m"] // BUCKET_S
MICRO = 1_000_000


def bucket_of(epoch_s: float) -> int:
    return int(epoch_s // BUCKET_S)


def speed_micro_mph(trip_distance: float, duration_s: float) -> int:
    return round(trip_distance / (duration_s / 3600.0) * MICRO)


@dataclass
class ZoneWindow:
    clock: float = float("-inf")  # T_z, epoch seconds
    requests: dict[int, int] = field(default_factory=dict)               # bucket → count
    completed: dict[int, list[int]] = field(default_factory=dict)        # bucket → [count, speed sum µmph]

    def _evict(self) -> None:
        """Forget buckets that left both windows (only memory: features() reads by bucket)."""
        b = bucket_of(self.clock)
        for old in [k for k in self.requests if k < b - REQUESTS_BUCKETS + 1]:
            del self.requests[old]
        for old in [k for k in self.completed if k < b - COMPLETED_BUCKETS + 1]:
            del self.completed[old]

    # The adds are on the hot path (once per event): plain arithmetic, no eviction (that happens
    # in features(), once per zone and batch), bucket = floor(t / 60) as in bucket_of.
    def add_request(self, event_time: float) -> bool:
        """Count a request; False when it is older than the window (late)."""
        if event_time > self.clock:
            self.clock = event_time
        b = int(event_time // BUCKET_S)
        if b <= int(self.clock // BUCKET_S) - REQUESTS_BUCKETS:
            return False
        requests = self.requests
        requests[b] = requests.get(b, 0) + 1
        return True

    def add_completion(self, event_time: float, speed_micro: int) -> bool:
        """Count a completed trip and its speed; False when it is older than the window (late)."""
        if event_time > self.clock:
            self.clock = event_time
        b = int(event_time // BUCKET_S)
        if b <= int(self.clock // BUCKET_S) - COMPLETED_BUCKETS:
            return False
        slot = self.completed.get(b)
        if slot is None:
            self.completed[b] = [1, speed_micro]
        else:
            slot[0] += 1
            slot[1] += speed_micro
        return True

    def forget_after(self, limit: float) -> bool:
        """Drop the buckets after `limit` (epoch s) and take the clock back to the latest bucket
        left: a zone clock that an event from the future moved ahead (a checkpoint written
        without the event-time policy) would make every live event of the zone late.
        True when something was dropped."""
        if self.clock <= limit:
            return False
        last = bucket_of(limit)
        for buckets in (self.requests, self.completed):
            for ahead in [k for k in buckets if k > last]:
                del buckets[ahead]
        kept = max([*self.requests, *self.completed], default=None)
        self.clock = float("-inf") if kept is None else float(kept * BUCKET_S)
        return True

    def features(self) -> tuple[int, int, float | None]:
        """(requests_15m, completed_30m, mean_speed_30m mph) as of the zone's clock."""
        self._evict()
        b = bucket_of(self.clock)
        requests = sum(c for k, c in self.requests.items() if k >= b - REQUESTS_BUCKETS + 1)
        count = speed = 0
        for k, (c, s) in self.completed.items():
            if k >= b - COMPLETED_BUCKETS + 1:
                count += c
                speed += s
        return requests, count, (speed / count / MICRO if count else None)


class ZoneWindows:
    """All zones' windows (the state ingest checkpoints)."""

    def __init__(self) -> None:
        self.zones: dict[int, ZoneWindow] = {}

    def zone(self, zone_id: int) -> ZoneWindow:
        window = self.zones.get(zone_id)
        if window is None:
            window = self.zones[zone_id] = ZoneWindow()
        return window

    def forget_after(self, limit: float) -> list[int]:
        """ZoneWindow.forget_after for every zone; the zones whose clock was ahead of `limit`."""
        return [z for z, window in self.zones.items() if window.forget_after(limit)]

    def max_clock(self) -> float:
        return max((w.clock for w in self.zones.values()), default=float("-inf"))
