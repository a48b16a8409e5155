"""Zone features for serving: Feast online reads with a short cache, fault knobs and a timeout.

Each zone's online row is reused for `serving.feature_cache_ms` (the features change
at most every ingest batch, and a read through the Feast SDK costs milliseconds). A
read runs on a small thread pool so a slow store (`feature_latency_ms`) can be cut off
(`feature_timeout_ms`): the request then uses the model's fallback and is flagged, and
the late read still fills the cache when it lands.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from ..contracts import ZONE_FEATURES
from ..features.online import ZoneFeatures, read_zone_features
from .schemas import ServingFaults


@dataclass(frozen=True)
class ZoneLookup:
    """What serving knows about one zone's features for one request."""

    values: dict[str, float | None]
    event_time: datetime | None
    # "timeout": the read was slower than feature_timeout_ms; "unavailable": it failed.
    problem: str | None = None

    def age_s(self, now: datetime) -> float | None:
        return None if self.event_time is None else max((now - self.event_time).total_seconds(), 0.0)


def _without_features(problem: str) -> ZoneLookup:
    return ZoneLookup(values={name: None for name in ZONE_FEATURES}, event_time=None, problem=problem)


TIMED_OUT, UNAVAILABLE = _without_features("timeout"), _without_features("unavailable")


class ZoneFeatureReader:
    """Reads zone features from the Feast online store for the service's requests."""

    def __init__(self, store: object, cache_ms: float, faults: Callable[[], ServingFaults],
                 read: Callable[[object, Iterable[int]], dict[int, ZoneFeatures]] = read_zone_features) -> None:
        self._store = store
        self._cache_s = cache_ms / 1000
        self._faults = faults
        self._read = read
        self._cache: dict[int, tuple[float, ZoneLookup]] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feature-read")
        self.reads = 0
        self.read_errors = 0

    def _read_now(self, zones: list[int]) -> dict[int, ZoneLookup]:
        """One online read (in a pool thread); the fault latency is added here."""
        delay_ms = self._faults().feature_latency_ms
        if delay_ms:
            time.sleep(delay_ms / 1000)
        read = self._read(self._store, zones)
        self.reads += 1
        now = time.monotonic()
        result = {}
        for zone in zones:
            found = read.get(zone)
            lookup = ZoneLookup(values=dict(found.values) if found else {n: None for n in ZONE_FEATURES},
                                event_time=found.event_time if found else None)
            self._cache[zone] = (now, lookup)
            result[zone] = lookup
        return result

    async def lookup(self, zones: Iterable[int]) -> dict[int, ZoneLookup]:
        """Features per zone: from the cache when fresh enough, otherwise one online read for all misses."""
        now = time.monotonic()
        result: dict[int, ZoneLookup] = {}
        misses = []
        for zone in zones:
            cached = self._cache.get(zone)
            if cached is not None and now - cached[0] < self._cache_s:
                result[zone] = cached[1]
            else:
                misses.append(zone)
        if misses:
            result.update(await self._read_with_timeout(misses))
        return result

    async def _read_with_timeout(self, zones: list[int]) -> dict[int, ZoneLookup]:
        faults = self._faults()
        if faults.feature_timeout_ms is None and not faults.feature_latency_ms:
            # No timeout to enforce: read inline (a healthy read takes well under a millisecond;
            # the hop to a pool thread and back would cost about as much as the read).
            try:
                return self._read_now(zones)
            except Exception:
                self.read_errors += 1
                return {zone: UNAVAILABLE for zone in zones}
        future = asyncio.wrap_future(self._pool.submit(self._read_now, zones))
        timeout_ms = faults.feature_timeout_ms
        try:
            if timeout_ms is None:
                return await future
            # shield: a late read is not cancelled; it still refreshes the cache.
            return await asyncio.wait_for(asyncio.shield(future), timeout_ms / 1000)
        except asyncio.TimeoutError:
            return {zone: TIMED_OUT for zone in zones}
        except Exception:
            # The store is down or broken: serve with the fallback (flagged), never a 5xx.
            self.read_errors += 1
            return {zone: UNAVAILABLE for zone in zones}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
