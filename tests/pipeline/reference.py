"""An independent, deliberately plain implementation of the zone-window semantics of
mlgameday.ingest.windows (its docstring), computed from a list of events."""

from __future__ import annotations

import math
from collections import defaultdict

from mlgameday.contracts import TripCompleted, TripRequested


def reference_features(events: list) -> dict[int, dict]:
    """zone_id → {requests_15m, completed_30m, mean_speed_30m, clock} from distinct valid events."""
    by_zone: dict[int, list] = defaultdict(list)
    for e in events:
        by_zone[e.pickup_zone].append(e)
    result = {}
    for zone, evs in by_zone.items():
        clock = max(e.event_time.timestamp() for e in evs)
        now_minute = math.floor(clock / 60)
        requests = [e for e in evs if isinstance(e, TripRequested)
                    and now_minute - 14 <= math.floor(e.event_time.timestamp() / 60) <= now_minute]
        done = [e for e in evs if isinstance(e, TripCompleted)
                and now_minute - 29 <= math.floor(e.event_time.timestamp() / 60) <= now_minute]
        speeds = [round(e.trip_distance / (e.duration_s / 3600) * 1e6) for e in done]
        result[zone] = {
            "requests_15m": len(requests),
            "completed_30m": len(done),
            "mean_speed_30m": (sum(speeds) / len(speeds) / 1e6) if speeds else None,
            "clock": clock,
        }
    return result
